"""How a worker reaches the project's stores: any :class:`StoreHandle`.

In-process executors hand the driver's open stores over by reference
(:class:`LiveStores`); workers in other processes or hosts get settings and
open the stores themselves (:class:`mlops.storage.settings.StoreSettings`).
The engine knows only the protocol, so it never imports a store's client.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from mlops.errors import ExecutionError
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore


class StoreHandle(Protocol):
    """How a worker reaches the project's stores."""

    def open(self) -> tuple[KVStore, ObjectStore]: ...


_live_stores: dict[str, tuple[KVStore, ObjectStore]] = {}
_live_lock = threading.Lock()


class LiveStores:
    """Stores handed over by reference, for executors that run tasks in this process.

    Pickling keeps only a token; opening it in another process is an error
    that says which executor to use instead.
    """

    def __init__(self, kv: KVStore, objects: ObjectStore) -> None:
        self.token = uuid.uuid4().hex
        with _live_lock:
            _live_stores[self.token] = (kv, objects)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_LiveStoresToken, (self.token,))

    def open(self) -> tuple[KVStore, ObjectStore]:
        return _open_live(self.token)

    def release(self) -> None:
        with _live_lock:
            _live_stores.pop(self.token, None)


@dataclass(frozen=True)
class _LiveStoresToken:
    token: str

    def open(self) -> tuple[KVStore, ObjectStore]:
        return _open_live(self.token)


def _open_live(token: str) -> tuple[KVStore, ObjectStore]:
    with _live_lock:
        stores = _live_stores.get(token)
    if stores is None:
        raise ExecutionError(
            "this worker cannot reach the run's stores: they live in another process's memory",
            hint="use the sqlite/local stores (the default) or a shared backend with this executor",
        )
    return stores


__all__ = ["LiveStores", "StoreHandle"]
