"""KV store on Redis (redis-py): native TTLs, SET NX for locks, SCAN for listings.

Keys are ``<prefix>:<namespace>:<key>`` (prefix ``mlops`` by default) so one
Redis database can hold several workspaces' namespaces side by side. A lost
connection raises :class:`StorageUnavailableError`, which the factory's
fallback turns into a warning and a local store.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from mlops.errors import StorageError
from mlops.storage.backends import client_module
from mlops.storage.interfaces.kv_store import DEFAULT_NAMESPACE, KVStore, StorageUnavailableError

if TYPE_CHECKING:
    import redis

DEFAULT_PREFIX = "mlops"
SCAN_BATCH = 500


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class RedisKVStore(KVStore):
    backend = "redis"

    def __init__(
        self,
        client: redis.Redis,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        prefix: str = DEFAULT_PREFIX,
        owns_client: bool = True,
    ) -> None:
        super().__init__(namespace)
        self.client = client
        self.prefix = prefix
        self._owns_client = owns_client
        self._base = f"{prefix}:{namespace}:"

    @classmethod
    def from_url(
        cls,
        url: str,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 5.0,
        **options: Any,
    ) -> RedisKVStore:
        """Connect from ``redis://[:password@]host:port/db``; options go to redis-py."""
        redis = client_module("redis", backend="redis", distribution="redis", extra="redis")
        client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
            **options,
        )
        return cls(client, namespace, prefix=prefix)

    def describe(self) -> str:
        kwargs = getattr(self.client, "connection_pool", None)
        info = getattr(kwargs, "connection_kwargs", {}) if kwargs else {}
        where = info.get("path") or f"{info.get('host', '?')}:{info.get('port', '?')}"
        return f"redis {where}/{info.get('db', 0)}"

    def ping(self) -> None:
        """Raise StorageUnavailableError unless the server answers."""
        self._call("ping", "-", self.client.ping)

    def _full(self, key: str) -> str:
        return self._base + key

    def _px(self, expires_at: float | None) -> int | None:
        if expires_at is None:
            return None
        return max(1, math.ceil((expires_at - time.time()) * 1000))

    def _get(self, key: str) -> str | None:
        value = self.client.get(self._full(key))
        return None if value is None else _text(value)

    def _get_many(self, keys: list[str]) -> dict[str, str]:
        values = self.client.mget([self._full(key) for key in keys])
        return {
            key: _text(value) for key, value in zip(keys, values, strict=True) if value is not None
        }

    def _set(self, key: str, raw: str, expires_at: float | None) -> None:
        self.client.set(self._full(key), raw, px=self._px(expires_at))

    def _set_many(self, items: list[tuple[str, str]]) -> None:
        # MSET is atomic and one round trip; it also clears any earlier expiry, as SET does.
        self.client.mset({self._full(key): raw for key, raw in items})

    def _set_if_absent(self, key: str, raw: str, expires_at: float | None) -> bool:
        return bool(self.client.set(self._full(key), raw, px=self._px(expires_at), nx=True))

    def _delete(self, key: str) -> bool:
        return bool(self.client.delete(self._full(key)))

    def _keys(self, prefix: str) -> list[str]:
        pattern = _glob_escape(self._base + prefix) + "*"
        cut = len(self._base)
        return [
            _text(name)[cut:] for name in self.client.scan_iter(match=pattern, count=SCAN_BATCH)
        ]

    def _with_namespace(self, namespace: str) -> KVStore:
        return RedisKVStore(self.client, namespace, prefix=self.prefix, owns_client=False)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def _translate(self, exc: Exception, operation: str, key: str) -> StorageError | None:
        try:
            import redis
        except ImportError:  # pragma: no cover - a client exists, so redis is importable
            return None
        where = f"{self.describe()} namespace {self.namespace!r}"
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError | ConnectionError):
            return StorageUnavailableError(
                f"redis: {operation} of key {key!r} failed: server unreachable ({where}): {exc}"
            )
        if isinstance(exc, redis.RedisError):
            return StorageError(f"redis: {operation} of key {key!r} failed ({where}): {exc}")
        return None


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
