"""Build stores from configuration: backend names, aliases, environment, fallback.

``create_kv_store(config, state_dir=...)`` and ``create_object_store(...)``
take the ``storage.kv`` / ``storage.objects`` mappings of a project config
(or None for the defaults: SQLite and the local filesystem under the
workspace's ``.mlops/``). Remote backends take their endpoints from the config
or the usual environment variables, are checked when created, and fall back
to the local store with one warning when unreachable, unless ``required``.

The platform passes ``state_dir`` (the workspace's ``.mlops/``); without
it the workspace is resolved as the CLI does (``$MLOPS_WORKSPACE_DIR``, the
nearest folder with ``.mlops/``, else the current directory).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlops.errors import ConfigError, StorageError
from mlops.runtime.workspace import Workspace
from mlops.storage.adapters.local_objects import LocalObjectStore
from mlops.storage.adapters.memory import MemoryKVStore, MemoryObjectStore
from mlops.storage.adapters.sqlite_kv import SqliteKVStore
from mlops.storage.fallback import FallbackKVStore, required_failure, warn_once
from mlops.storage.interfaces.kv_store import DEFAULT_NAMESPACE, KVStore, StorageUnavailableError
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.storage.path_utils import contained_path


def _state_dir(given: Path | None, environ: Mapping[str, str]) -> Path:
    """``given``, else the state folder of the workspace resolved from the environment."""
    return given if given is not None else Workspace.resolve(environ=environ).state_dir


KV_ALIASES: dict[str, str] = {
    "memory": "memory", "mem": "memory",
    "sqlite": "sqlite", "local": "sqlite", "file": "sqlite",
    "redis": "redis",
    "gcp": "gcp", "firestore": "gcp",
}  # fmt: skip
OBJECT_ALIASES: dict[str, str] = {
    "memory": "memory", "mem": "memory",
    "local": "local", "fs": "local",
    "gcs": "gcs", "gs": "gcs",
}  # fmt: skip
KV_FILE = "kv.sqlite3"
OBJECTS_DIR = "objects"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"


def normalize_backend(name: object, aliases: Mapping[str, str], key_path: str) -> str:
    """The canonical backend for ``name``; unknown names list every valid one."""
    if not isinstance(name, str) or name.strip().lower() not in aliases:
        valid = ", ".join(sorted(aliases))
        raise ConfigError(
            f"{key_path}.backend: unknown storage backend {name!r}", hint=f"choose one of: {valid}"
        )
    return aliases[name.strip().lower()]


def _options(config: Mapping[str, Any] | None, key_path: str) -> dict[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ConfigError(f"{key_path}: expected a mapping, got {type(config).__name__}")
    return dict(config)


def _required(options: Mapping[str, Any], key_path: str) -> bool:
    value = options.get("required", False)
    if not isinstance(value, bool):
        raise ConfigError(f"{key_path}.required: expected true or false, got {value!r}")
    return value


def _local_path(options: Mapping[str, Any], name: str, state_dir: Path, default: str) -> Path:
    """A configured local path: relative ones live under the state folder and stay inside it."""
    value = options.get(name)
    if value is None:
        return state_dir / default
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else contained_path(state_dir, path, what=name)


def create_kv_store(
    config: Mapping[str, Any] | None = None,
    *,
    state_dir: Path | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    environ: Mapping[str, str] | None = None,
    key_path: str = "storage.kv",
) -> KVStore:
    """A KV store for ``config`` (``{"backend": "sqlite"}`` when None)."""
    env = os.environ if environ is None else environ
    state_dir = _state_dir(state_dir, env)
    options = _options(config, key_path)
    backend = normalize_backend(options.get("backend", "sqlite"), KV_ALIASES, key_path)
    required = _required(options, key_path)

    def local(ns: str) -> KVStore:
        return SqliteKVStore(_local_path(options, "path", state_dir, KV_FILE), ns)

    if backend == "memory":
        return MemoryKVStore(namespace)
    if backend == "sqlite":
        return local(namespace)
    connect = _remote_kv_connector(backend, options, env)
    try:
        primary = connect(namespace)
    except StorageUnavailableError as exc:
        if required:
            raise required_failure(exc, key_path) from exc
        fallback = local(namespace)
        warn_once(
            f"{backend}:{options.get('url') or options.get('project') or 'default'}",
            f"{exc.one_line()}; using {fallback.describe()} instead "
            f"(set {key_path}.required: true to stop instead)",
        )
        return fallback
    return FallbackKVStore(primary, local, required=required, key_path=key_path)


def fallback_kv_store(
    config: Mapping[str, Any] | None,
    *,
    state_dir: Path,
    namespace: str = DEFAULT_NAMESPACE,
    key_path: str = "storage.kv",
) -> KVStore | None:
    """The local store a remote backend falls back to, when its file exists; else None.

    Readers (the web API) look there too: what a run wrote while Redis or
    Firestore was unreachable is only in this file.
    """
    options = _options(config, key_path)
    backend = normalize_backend(options.get("backend", "sqlite"), KV_ALIASES, key_path)
    if backend in ("memory", "sqlite"):
        return None
    path = _local_path(options, "path", state_dir, KV_FILE)
    return SqliteKVStore(path, namespace) if path.is_file() else None


def _remote_kv_connector(
    backend: str, options: Mapping[str, Any], env: Mapping[str, str]
) -> Callable[[str], KVStore]:
    if backend == "redis":
        from mlops.storage.adapters.redis_kv import RedisKVStore

        url = _redis_url(options, env)

        def connect_redis(ns: str) -> KVStore:
            store = RedisKVStore.from_url(
                url,
                ns,
                prefix=str(options.get("prefix", "mlops")),
                timeout=float(options.get("timeout", 5.0)),
            )
            store.ping()
            return store

        return connect_redis

    from mlops.storage.adapters.gcp_kv import DEFAULT_COLLECTION, FirestoreKVStore

    def connect_firestore(ns: str) -> KVStore:
        store = FirestoreKVStore.connect(
            ns,
            project=options.get("project") or env.get("GOOGLE_CLOUD_PROJECT"),
            database=options.get("database"),
            collection=str(options.get("collection", DEFAULT_COLLECTION)),
        )
        store.ping(timeout=float(options.get("timeout", 10.0)))
        return store

    return connect_firestore


def _redis_url(options: Mapping[str, Any], env: Mapping[str, str]) -> str:
    if options.get("url"):
        return str(options["url"])
    if any(name in options for name in ("host", "port", "db", "password")):
        password = options.get("password")
        auth = f":{password}@" if password else ""
        host, port = options.get("host", "localhost"), options.get("port", 6379)
        return f"redis://{auth}{host}:{port}/{options.get('db', 0)}"
    return env.get("REDIS_URL") or DEFAULT_REDIS_URL


def create_object_store(
    config: Mapping[str, Any] | None = None,
    *,
    state_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    key_path: str = "storage.objects",
) -> ObjectStore:
    """An object store for ``config`` (``{"backend": "local"}`` when None)."""
    env = os.environ if environ is None else environ
    state_dir = _state_dir(state_dir, env)
    options = _options(config, key_path)
    backend = normalize_backend(options.get("backend", "local"), OBJECT_ALIASES, key_path)
    required = _required(options, key_path)
    if backend == "memory":
        return MemoryObjectStore()
    if backend == "local":
        durable = options.get("durable", True)
        if not isinstance(durable, bool):
            raise ConfigError(f"{key_path}.durable: expected true or false, got {durable!r}")
        return LocalObjectStore(
            _local_path(options, "root", state_dir, OBJECTS_DIR), durable=durable
        )
    from mlops.storage.adapters.gcs_objects import GcsObjectStore

    bucket = options.get("bucket")
    if not bucket or not isinstance(bucket, str):
        raise ConfigError(
            f"{key_path}.bucket: the gcs backend needs a bucket name",
            hint="add bucket: <name> (and optionally prefix: <folder>)",
        )
    try:
        return GcsObjectStore.connect(
            bucket,
            str(options.get("prefix", "")),
            project=options.get("project") or env.get("GOOGLE_CLOUD_PROJECT"),
            endpoint=options.get("endpoint") or env.get("STORAGE_EMULATOR_HOST"),
            create_bucket=bool(options.get("create_bucket", False)),
            timeout=float(options.get("timeout", 10.0)),
        )
    except StorageUnavailableError as exc:
        if required:
            raise required_failure(exc, key_path) from exc
        fallback = LocalObjectStore(_local_path(options, "root", state_dir, OBJECTS_DIR))
        warn_once(f"gcs:{bucket}", f"{exc.one_line()}; using {fallback.describe()} instead")
        return fallback


__all__ = [
    "KV_ALIASES",
    "OBJECT_ALIASES",
    "StorageError",
    "create_kv_store",
    "create_object_store",
    "fallback_kv_store",
    "normalize_backend",
]
