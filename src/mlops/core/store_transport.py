"""How a worker reaches the project's stores: by reference in this process, or by settings.

In-process executors hand the driver's open stores over by reference
(:class:`LiveStores`); workers in other processes or hosts get the store
settings and open the stores themselves (:class:`StoreSettings`), once per
worker process, closed when the worker's runtime is removed or the process
exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlops.errors import ExecutionError
from mlops.storage.factory import create_kv_store, create_object_store
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


@dataclass(frozen=True)
class StoreSettings:
    """Store configuration a worker in another process (or host) opens for itself.

    Opened stores are kept per worker process, so a worker running many
    processes of a run connects once.
    """

    kv: Mapping[str, Any] | None
    objects: Mapping[str, Any] | None
    state_dir: str
    namespace: str

    def _cache_key(self) -> str:
        return json.dumps(
            [self.kv, self.objects, self.state_dir, self.namespace], sort_keys=True, default=str
        )

    def open(self) -> tuple[KVStore, ObjectStore]:
        key = self._cache_key()
        with _live_lock:
            opened = _opened_settings.get(key)
            if opened is None:
                state_dir = Path(self.state_dir)
                stores = (
                    create_kv_store(self.kv, state_dir=state_dir, namespace=self.namespace),
                    create_object_store(self.objects, state_dir=state_dir),
                )
                opened = _opened_settings[key] = (self.namespace, stores)
        return opened[1]


# settings key -> (namespace, the stores opened from those settings)
_opened_settings: dict[str, tuple[str, tuple[KVStore, ObjectStore]]] = {}


def close_opened_stores(namespace: str | None = None) -> int:
    """Close the stores this worker opened from settings (of one project's ``namespace``,
    or all); returns how many pairs were closed."""
    with _live_lock:
        keys = [k for k, (ns, _) in _opened_settings.items() if namespace in (None, ns)]
        opened = [_opened_settings.pop(key)[1] for key in keys]
    for kv, objects in opened:
        for store in (objects, kv):
            with contextlib.suppress(Exception):  # best effort: the next store still closes
                store.close()
    return len(opened)


atexit.register(close_opened_stores)

__all__ = ["LiveStores", "StoreHandle", "StoreSettings", "close_opened_stores"]
