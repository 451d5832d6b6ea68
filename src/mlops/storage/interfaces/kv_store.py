"""The key-value seam: JSON documents by key, namespaced per project.

Values are JSON documents (dicts, lists, strings, numbers, booleans, None);
bytes belong in the object store. Every store is bound to one namespace
(usually the project id) and can hand out views on others with
:meth:`KVStore.namespaced`, so two projects never see each other's keys.

Subclasses implement the ``_``-prefixed primitives on already-validated keys
and already-encoded values; validation, encoding and error wording live here
once, so every backend rejects the same inputs with the same message.
"""

from __future__ import annotations

import json
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import TypeVar

from mlops.errors import StorageError
from mlops.runtime.json_values import JSONValue
from mlops.storage.interfaces.boundary import TranslatingBoundary

T = TypeVar("T")

DEFAULT_NAMESPACE = "default"
MAX_KEY_LENGTH = 1024


class StorageUnavailableError(StorageError):
    """The backend cannot be reached (connection refused, timed out, server gone)."""


class KVStore(TranslatingBoundary, ABC):
    """JSON documents by key, with optional time-to-live and an atomic set-if-absent."""

    #: Short backend name used in messages ("sqlite", "redis", ...).
    backend: str = "kv"

    def __init__(self, namespace: str = DEFAULT_NAMESPACE) -> None:
        self.namespace = check_namespace(namespace)

    # ------------------------------------------------------------------ public API

    def get(self, key: str, default: JSONValue = None) -> JSONValue:
        """The document stored at ``key``, or ``default`` when absent or expired."""
        raw = self._call("get", key, lambda: self._get(self._key(key)))
        return default if raw is None else self._decode(key, raw)

    def get_many(self, keys: Iterable[str]) -> dict[str, JSONValue]:
        """The documents at ``keys`` that exist, by key; one round trip where the backend can."""
        wanted = list(dict.fromkeys(keys))
        for key in wanted:
            self._key(key)
        if not wanted:
            return {}
        found = self._call("get_many", wanted[0], lambda: self._get_many(wanted))
        return {key: self._decode(key, found[key]) for key in wanted if key in found}

    def set(self, key: str, value: JSONValue, ttl: float | None = None) -> None:
        """Store ``value`` at ``key``; with ``ttl`` (seconds) it expires afterwards."""
        raw = self._encode(key, value)
        expires = self._expiry(key, ttl)
        self._call("set", key, lambda: self._set(self._key(key), raw, expires))

    def set_many(self, items: Mapping[str, JSONValue]) -> None:
        """Store every ``key: value`` of ``items`` together: all of them or (on error) none.

        One transaction or round trip where the backend has one, so writing a
        thousand documents costs about what one does.
        """
        encoded = [(self._key(key), self._encode(key, value)) for key, value in items.items()]
        if encoded:
            self._call("set_many", encoded[0][0], lambda: self._set_many(encoded))

    def set_if_absent(self, key: str, value: JSONValue, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent (or expired); True if it was stored.

        Atomic in every backend, so it serves as a lock: the caller that gets
        True owns the key until it deletes it or the ``ttl`` runs out.
        """
        raw = self._encode(key, value)
        expires = self._expiry(key, ttl)
        return self._call(
            "set_if_absent", key, lambda: self._set_if_absent(self._key(key), raw, expires)
        )

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it existed."""
        return self._call("delete", key, lambda: self._delete(self._key(key)))

    def exists(self, key: str) -> bool:
        return self._call("exists", key, lambda: self._get(self._key(key)) is not None)

    def keys(self, prefix: str = "") -> list[str]:
        """Every live key of this namespace that starts with ``prefix``, sorted."""
        if not isinstance(prefix, str):
            raise StorageError(f"{self.backend}: key prefix must be a string, got {prefix!r}")
        return sorted(self._call("keys", prefix or "*", lambda: self._keys(prefix)))

    def namespaced(self, namespace: str) -> KVStore:
        """A view of the same backend bound to another namespace."""
        return self._with_namespace(check_namespace(namespace))

    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""

    def describe(self) -> str:
        """Where the data lives, for messages and ``mlops info`` (no secrets)."""
        return self.backend

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()} namespace={self.namespace!r}>"

    # ------------------------------------------------------------------ for subclasses

    @abstractmethod
    def _get(self, key: str) -> str | None:
        """The encoded value, or None when absent or expired."""

    def _get_many(self, keys: list[str]) -> dict[str, str]:
        """The encoded values of the live ``keys``; backends with a batch read override it."""
        found = {key: self._get(key) for key in keys}
        return {key: raw for key, raw in found.items() if raw is not None}

    @abstractmethod
    def _set(self, key: str, raw: str, expires_at: float | None) -> None: ...

    def _set_many(self, items: list[tuple[str, str]]) -> None:
        """Store encoded ``(key, raw)`` pairs without expiry; backends with a batch override it."""
        for key, raw in items:
            self._set(key, raw, None)

    @abstractmethod
    def _set_if_absent(self, key: str, raw: str, expires_at: float | None) -> bool: ...

    @abstractmethod
    def _delete(self, key: str) -> bool: ...

    @abstractmethod
    def _keys(self, prefix: str) -> list[str]:
        """Live keys of this namespace starting with ``prefix`` (any order)."""

    @abstractmethod
    def _with_namespace(self, namespace: str) -> KVStore: ...

    # ------------------------------------------------------------------ shared helpers

    def _key(self, key: object) -> str:
        if not isinstance(key, str) or not key:
            raise StorageError(f"{self.backend}: keys are non-empty strings, got {key!r}")
        if len(key) > MAX_KEY_LENGTH:
            raise StorageError(
                f"{self.backend}: key {key[:40]!r}... is {len(key)} characters long "
                f"(at most {MAX_KEY_LENGTH})"
            )
        if "\x00" in key:
            raise StorageError(f"{self.backend}: key {key!r} contains a NUL character")
        return key

    def _encode(self, key: str, value: JSONValue) -> str:
        self._key(key)
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise StorageError(
                f"{self.backend}: value for key {key!r} is not a JSON document ({exc}); "
                "store bytes and objects in the object store and keep a reference here"
            ) from exc

    def _decode(self, key: str, raw: str) -> JSONValue:
        try:
            value: JSONValue = json.loads(raw)
        except ValueError as exc:
            raise StorageError(
                f"{self.backend}: stored value for key {key!r} is not valid JSON"
            ) from exc
        return value

    def _expiry(self, key: str, ttl: object) -> float | None:
        if ttl is None:
            return None
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl):
            raise StorageError(f"{self.backend}: ttl for key {key!r} must be seconds, got {ttl!r}")
        if ttl <= 0:
            raise StorageError(f"{self.backend}: ttl for key {key!r} must be > 0, got {ttl!r}")
        return time.time() + float(ttl)


def check_namespace(namespace: object) -> str:
    """Namespaces are project ids and the like: non-empty, printable, no separators."""
    if (
        not isinstance(namespace, str)
        or not namespace
        or len(namespace) > 200
        or not namespace.isprintable()
        or any(ch in namespace for ch in "/\\:\x00")
    ):
        raise StorageError(
            f"invalid storage namespace {namespace!r}: use a non-empty name without "
            "'/', '\\' or ':' (a project id)"
        )
    return namespace
