"""Store settings a worker in another process (or on another host) opens for itself.

The engine ships a :class:`StoreSettings` with each task when its workers do
not share the driver's memory; a worker opens the stores once per process
(a worker running many processes of a run connects once) and closes them
when the project's runtime is removed from it, or at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.storage.local_stores import open_local_settings

_opened_lock = threading.Lock()


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
        with _opened_lock:
            opened = _opened_settings.get(key)
            if opened is None:
                stores = self._open_new()
                opened = _opened_settings[key] = (self.namespace, stores)
        return opened[1]

    def _open_new(self) -> tuple[KVStore, ObjectStore]:
        state_dir = Path(self.state_dir)
        local = open_local_settings(
            self.kv, self.objects, state_dir=state_dir, namespace=self.namespace
        )
        if local is not None:
            return local
        # A remote backend: its client is imported anyway, and the factory checks
        # the settings and wires the local fallback.
        from mlops.storage.factory import create_kv_store, create_object_store

        return (
            create_kv_store(self.kv, state_dir=state_dir, namespace=self.namespace),
            create_object_store(self.objects, state_dir=state_dir),
        )


# settings key -> (namespace, the stores opened from those settings)
_opened_settings: dict[str, tuple[str, tuple[KVStore, ObjectStore]]] = {}


def close_opened_stores(namespace: str | None = None) -> int:
    """Close the stores this worker opened from settings (of one project's ``namespace``,
    or all); returns how many pairs were closed."""
    with _opened_lock:
        keys = [k for k, (ns, _) in _opened_settings.items() if namespace in (None, ns)]
        opened = [_opened_settings.pop(key)[1] for key in keys]
    for kv, objects in opened:
        for store in (objects, kv):
            with contextlib.suppress(Exception):  # best effort: the next store still closes
                store.close()
    return len(opened)


atexit.register(close_opened_stores)

__all__ = ["StoreSettings", "close_opened_stores"]
