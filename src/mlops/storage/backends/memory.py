"""In-process stores: the fakes of the storage seams, and a real choice for one-off runs.

Thread-safe. Nothing survives the process; namespaced views share one backing
dict, as they share one database in the persistent backends.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from typing import BinaryIO

from mlops.storage.interfaces.kv_store import DEFAULT_NAMESPACE, KVStore
from mlops.storage.interfaces.object_store import CHUNK_SIZE, ObjectInfo, ObjectStore


@dataclass
class _Shelf:
    entries: dict[tuple[str, str], tuple[str, float | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class MemoryKVStore(KVStore):
    backend = "memory"

    def __init__(self, namespace: str = DEFAULT_NAMESPACE, *, _shelf: _Shelf | None = None) -> None:
        super().__init__(namespace)
        self._shelf = _shelf or _Shelf()

    def _live(self, key: str, now: float) -> str | None:
        entry = self._shelf.entries.get((self.namespace, key))
        if entry is None:
            return None
        raw, expires = entry
        if expires is not None and expires <= now:
            del self._shelf.entries[(self.namespace, key)]
            return None
        return raw

    def _get(self, key: str) -> str | None:
        with self._shelf.lock:
            return self._live(key, time.time())

    def _set(self, key: str, raw: str, expires_at: float | None) -> None:
        with self._shelf.lock:
            self._shelf.entries[(self.namespace, key)] = (raw, expires_at)

    def _set_many(self, items: list[tuple[str, str]]) -> None:
        with self._shelf.lock:
            for key, raw in items:
                self._shelf.entries[(self.namespace, key)] = (raw, None)

    def _set_if_absent(self, key: str, raw: str, expires_at: float | None) -> bool:
        with self._shelf.lock:
            if self._live(key, time.time()) is not None:
                return False
            self._shelf.entries[(self.namespace, key)] = (raw, expires_at)
            return True

    def _delete(self, key: str) -> bool:
        with self._shelf.lock:
            present = self._live(key, time.time()) is not None
            self._shelf.entries.pop((self.namespace, key), None)
            return present

    def _keys(self, prefix: str) -> list[str]:
        with self._shelf.lock:
            now = time.time()
            names = [k for (ns, k) in list(self._shelf.entries) if ns == self.namespace]
            return [k for k in names if k.startswith(prefix) and self._live(k, now) is not None]

    def _with_namespace(self, namespace: str) -> KVStore:
        return MemoryKVStore(namespace, _shelf=self._shelf)


class MemoryObjectStore(ObjectStore):
    backend = "memory"

    def __init__(self) -> None:
        self._objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        with self._lock:
            self._objects[key] = data
        return ObjectInfo(key, len(data), self._uri(key))

    def _put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        buffer = io.BytesIO()
        while chunk := stream.read(CHUNK_SIZE):
            buffer.write(chunk)
        return self._put_bytes(key, buffer.getvalue())

    def _get(self, key: str) -> bytes:
        with self._lock:
            if key not in self._objects:
                raise self._not_found(key)
            return self._objects[key]

    def _open(self, key: str) -> BinaryIO:
        return io.BytesIO(self._get(key))

    def _exists(self, key: str) -> bool:
        with self._lock:
            return key in self._objects

    def _delete(self, key: str) -> bool:
        with self._lock:
            return self._objects.pop(key, None) is not None

    def _list(self, prefix: str) -> list[str]:
        with self._lock:
            return [key for key in self._objects if key.startswith(prefix)]

    def _uri(self, key: str) -> str:
        return f"memory://{key}"
