"""The storage seams: every backend implements one of these."""

from __future__ import annotations

from mlops.runtime.json_values import JSONValue
from mlops.storage.interfaces.kv_store import KVStore, StorageUnavailableError
from mlops.storage.interfaces.object_store import ObjectInfo, ObjectStore

__all__ = ["JSONValue", "KVStore", "ObjectInfo", "ObjectStore", "StorageUnavailableError"]
