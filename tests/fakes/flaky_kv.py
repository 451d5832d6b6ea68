"""A KVStore that can be taken down: in-memory until told to fail.

``down = True`` makes every operation raise StorageUnavailableError, as a
lost Redis connection does; ``broken_with`` raises any exception from inside
the backend, to exercise translation at the boundary.
"""

from __future__ import annotations

import itertools

from mlops.storage.backends.memory import MemoryKVStore
from mlops.storage.interfaces.kv_store import KVStore, StorageUnavailableError

_serial = itertools.count(1)


class FlakyKVStore(MemoryKVStore):
    backend = "flaky"

    def __init__(self, namespace: str = "default") -> None:
        super().__init__(namespace)
        # A unique identity per instance, as host:port is for a server (id() gets reused).
        self.identity = next(_serial)
        self.down = False
        self.broken_with: Exception | None = None
        self.calls = 0

    def describe(self) -> str:
        return f"flaky #{self.identity}"

    def _gate(self) -> None:
        self.calls += 1
        if self.broken_with is not None:
            raise self.broken_with
        if self.down:
            raise StorageUnavailableError(f"flaky: server #{self.identity} is down")

    def _get(self, key: str) -> str | None:
        self._gate()
        return super()._get(key)

    def _set(self, key: str, raw: str, expires_at: float | None) -> None:
        self._gate()
        super()._set(key, raw, expires_at)

    def _set_if_absent(self, key: str, raw: str, expires_at: float | None) -> bool:
        self._gate()
        return super()._set_if_absent(key, raw, expires_at)

    def _delete(self, key: str) -> bool:
        self._gate()
        return super()._delete(key)

    def _keys(self, prefix: str) -> list[str]:
        self._gate()
        return super()._keys(prefix)

    def _with_namespace(self, namespace: str) -> KVStore:
        return self
