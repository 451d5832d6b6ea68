"""The stores on this machine's disk, and opening them from settings without the schema.

A worker process opens its stores from the plain settings the driver ships
(:class:`~mlops.storage.settings.StoreSettings`). Those were validated by the
driver, backend names made canonical, so for the local backends a worker
builds the stores directly: importing the options' schema (pydantic) to
check them again would cost each worker more than the rest of its start-up.
Anything else (a remote backend, a key this module does not know) goes
through the factory, which validates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops.storage.backends.local_objects import LocalObjectStore
from mlops.storage.backends.sqlite_kv import DEFAULT_FILE, SqliteKVStore
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.storage.path_utils import contained_path

KV_FILE = DEFAULT_FILE
OBJECTS_DIR = "objects"

# The keys each local backend's settings may hold (StoreOptions.settings()).
_SQLITE_KEYS = frozenset({"backend", "required", "path"})
_LOCAL_OBJECT_KEYS = frozenset({"backend", "required", "root", "durable"})


def local_path(value: str | None, state_dir: Path, default: str, what: str) -> Path:
    """A configured local path: relative ones live under the state folder and stay inside it."""
    if value is None:
        return state_dir / default
    path = Path(value).expanduser()
    return path if path.is_absolute() else contained_path(state_dir, path, what=what)


def open_local_settings(
    kv: Mapping[str, Any] | None,
    objects: Mapping[str, Any] | None,
    *,
    state_dir: Path,
    namespace: str,
) -> tuple[KVStore, ObjectStore] | None:
    """The SQLite and local-files stores these validated settings name; None for any other."""
    kv = kv or {"backend": "sqlite"}
    objects = objects or {"backend": "local"}
    if kv.get("backend") != "sqlite" or not kv.keys() <= _SQLITE_KEYS:
        return None
    if objects.get("backend") != "local" or not objects.keys() <= _LOCAL_OBJECT_KEYS:
        return None
    durable = objects.get("durable", True)
    if not isinstance(durable, bool):
        return None
    return (
        SqliteKVStore(local_path(kv.get("path"), state_dir, KV_FILE, "path"), namespace),
        LocalObjectStore(
            local_path(objects.get("root"), state_dir, OBJECTS_DIR, "root"), durable=durable
        ),
    )


__all__ = ["KV_FILE", "OBJECTS_DIR", "local_path", "open_local_settings"]
