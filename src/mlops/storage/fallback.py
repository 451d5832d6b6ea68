"""Graceful degradation: a remote KV store that falls back to a local one when it goes away.

Redis or Firestore may be unreachable when a run starts or vanish in the
middle of it. Unless the config says ``required: true``, the first lost
connection is reported once as a :class:`StorageFallbackWarning` and every
later operation goes to the local store, for all namespaced views at once.
Entries written to the remote store before the switch stay there; the run
continues with what it writes from then on. With ``required: true`` the loss
is a :class:`~mlops.errors.StorageError` saying what was unreachable and how
to proceed.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import TypeVar

from mlops.errors import StorageError
from mlops.storage.interfaces.kv_store import KVStore, StorageUnavailableError

T = TypeVar("T")

_warned: set[str] = set()
_warned_lock = threading.Lock()


class StorageFallbackWarning(UserWarning):
    """A remote store was unreachable and a local one took over."""


def warn_once(identity: str, message: str) -> None:
    """Warn about ``identity`` once per process: a flaky server must not flood the log."""
    with _warned_lock:
        if identity in _warned:
            return
        _warned.add(identity)
    warnings.warn(message, StorageFallbackWarning, stacklevel=4)


def required_failure(exc: StorageError, key_path: str) -> StorageError:
    return StorageError(
        f"{exc.one_line()}; {key_path}.required is true, so mlops stops here",
        hint=f"start the server or set {key_path}.required: false to fall back to a local store",
    )


class _Switch:
    """Shared by every namespaced view: once one view falls back, all do."""

    def __init__(self, make_fallback: Callable[[str], KVStore]) -> None:
        self.make_fallback = make_fallback
        self.tripped = False
        self.lock = threading.Lock()


class FallbackKVStore(KVStore):
    """Delegates to ``primary`` until it becomes unreachable, then to a local store."""

    def __init__(
        self,
        primary: KVStore,
        make_fallback: Callable[[str], KVStore],
        *,
        required: bool = False,
        key_path: str = "storage.kv",
        _switch: _Switch | None = None,
    ) -> None:
        super().__init__(primary.namespace)
        self.primary = primary
        self.required = required
        self.key_path = key_path
        self.backend = primary.backend
        self._switch = _switch or _Switch(make_fallback)
        self._fallback: KVStore | None = None

    @property
    def active(self) -> KVStore:
        """The store serving requests right now."""
        if self._switch.tripped:
            if self._fallback is None:
                self._fallback = self._switch.make_fallback(self.namespace)
            return self._fallback
        return self.primary

    def describe(self) -> str:
        state = f" (fell back to {self.active.describe()})" if self._switch.tripped else ""
        return self.primary.describe() + state

    def _via(self, operation: str, key: str, action: Callable[[KVStore], T]) -> T:
        store = self.active
        try:
            return store._call(operation, key, lambda: action(store))
        except StorageUnavailableError as exc:
            if store is not self.primary:
                raise
            if self.required:
                raise required_failure(exc, self.key_path) from exc
            with self._switch.lock:
                self._switch.tripped = True
            warn_once(
                self.primary.describe(),
                f"{exc.one_line()}; continuing with {self.active.describe()} "
                f"(set {self.key_path}.required: true to stop instead)",
            )
            return self._via(operation, key, action)

    def _get(self, key: str) -> str | None:
        return self._via("get", key, lambda s: s._get(key))

    def _get_many(self, keys: list[str]) -> dict[str, str]:
        return self._via("get_many", keys[0], lambda s: s._get_many(keys))

    def _set(self, key: str, raw: str, expires_at: float | None) -> None:
        self._via("set", key, lambda s: s._set(key, raw, expires_at))

    def _set_if_absent(self, key: str, raw: str, expires_at: float | None) -> bool:
        return self._via("set_if_absent", key, lambda s: s._set_if_absent(key, raw, expires_at))

    def _delete(self, key: str) -> bool:
        return self._via("delete", key, lambda s: s._delete(key))

    def _keys(self, prefix: str) -> list[str]:
        return self._via("keys", prefix or "*", lambda s: s._keys(prefix))

    def _with_namespace(self, namespace: str) -> KVStore:
        return FallbackKVStore(
            self.primary.namespaced(namespace),
            self._switch.make_fallback,
            required=self.required,
            key_path=self.key_path,
            _switch=self._switch,
        )

    def close(self) -> None:
        self.primary.close()
        if self._fallback is not None:
            self._fallback.close()
