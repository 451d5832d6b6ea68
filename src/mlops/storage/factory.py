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
from typing import Any, TypeVar

from mlops.config.storage import (
    KV_ALIASES,
    OBJECT_ALIASES,
    FirestoreKVOptions,
    GcsObjectOptions,
    LocalObjectOptions,
    MemoryKVOptions,
    MemoryObjectOptions,
    RedisKVOptions,
    SqliteKVOptions,
    StoreOptions,
    kv_options,
    object_options,
)
from mlops.errors import StorageError
from mlops.runtime.workspace import Workspace
from mlops.storage.backends.local_objects import LocalObjectStore
from mlops.storage.backends.memory import MemoryKVStore, MemoryObjectStore
from mlops.storage.backends.sqlite_kv import SqliteKVStore
from mlops.storage.fallback import FallbackKVStore, required_failure, warn_once
from mlops.storage.interfaces.kv_store import DEFAULT_NAMESPACE, KVStore, StorageUnavailableError
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.storage.local_stores import KV_FILE, OBJECTS_DIR, local_path


def _state_dir(given: Path | None, environ: Mapping[str, str]) -> Path:
    """``given``, else the state folder of the workspace resolved from the environment."""
    return given if given is not None else Workspace.resolve(environ=environ).state_dir


DEFAULT_REDIS_URL = "redis://localhost:6379/0"


T = TypeVar("T", bound=StoreOptions)


def _expect(options: StoreOptions, kind: type[T]) -> T:
    """``options`` as the last backend left (the union has no other member)."""
    if not isinstance(options, kind):
        raise TypeError(f"no store for {type(options).__name__}")
    return options


def create_kv_store(
    config: Mapping[str, Any] | StoreOptions | None = None,
    *,
    state_dir: Path | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    environ: Mapping[str, str] | None = None,
    key_path: str = "storage.kv",
) -> KVStore:
    """A KV store for ``config`` (``{"backend": "sqlite"}`` when None)."""
    options = kv_options(config, key_path)
    env = os.environ if environ is None else environ
    state_dir = _state_dir(state_dir, env)

    def local(ns: str) -> KVStore:
        path = getattr(options, "path", None)
        return SqliteKVStore(local_path(path, state_dir, KV_FILE, "path"), ns)

    if isinstance(options, MemoryKVOptions):
        return MemoryKVStore(namespace)
    if isinstance(options, SqliteKVOptions):
        return local(namespace)
    connect = _remote_kv_connector(options, env)
    try:
        primary = connect(namespace)
    except StorageUnavailableError as exc:
        if options.required:
            raise required_failure(exc, key_path) from exc
        fallback = local(namespace)
        where = getattr(options, "url", None) or getattr(options, "project", None) or "default"
        warn_once(
            f"{options.backend}:{where}",
            f"{exc.one_line()}; using {fallback.describe()} instead "
            f"(set {key_path}.required: true to stop instead)",
        )
        return fallback
    return FallbackKVStore(primary, local, required=options.required, key_path=key_path)


def fallback_kv_store(
    config: Mapping[str, Any] | StoreOptions | None,
    *,
    state_dir: Path,
    namespace: str = DEFAULT_NAMESPACE,
    key_path: str = "storage.kv",
) -> KVStore | None:
    """The local store a remote backend falls back to, when its file exists; else None.

    Readers (the web API) look there too: what a run wrote while Redis or
    Firestore was unreachable is only in this file.
    """
    options = kv_options(config, key_path)
    if isinstance(options, MemoryKVOptions | SqliteKVOptions):
        return None
    path = local_path(getattr(options, "path", None), state_dir, KV_FILE, "path")
    return SqliteKVStore(path, namespace) if path.is_file() else None


def _remote_kv_connector(options: StoreOptions, env: Mapping[str, str]) -> Callable[[str], KVStore]:
    if isinstance(options, RedisKVOptions):
        from mlops.storage.backends.redis_kv import RedisKVStore

        url = _redis_url(options, env)

        def connect_redis(ns: str) -> KVStore:
            store = RedisKVStore.from_url(url, ns, prefix=options.prefix, timeout=options.timeout)
            store.ping()
            return store

        return connect_redis

    from mlops.storage.backends.gcp_kv import FirestoreKVStore

    firestore = _expect(options, FirestoreKVOptions)

    def connect_firestore(ns: str) -> KVStore:
        store = FirestoreKVStore.connect(
            ns,
            project=firestore.project or env.get("GOOGLE_CLOUD_PROJECT"),
            database=firestore.database,
            collection=firestore.collection,
        )
        store.ping(timeout=firestore.timeout)
        return store

    return connect_firestore


def _redis_url(options: RedisKVOptions, env: Mapping[str, str]) -> str:
    if options.url:
        return options.url
    if options.model_fields_set & {"host", "port", "db", "password"}:
        auth = f":{options.password}@" if options.password else ""
        host, port = options.host or "localhost", options.port or 6379
        return f"redis://{auth}{host}:{port}/{options.db or 0}"
    return env.get("REDIS_URL") or DEFAULT_REDIS_URL


def create_object_store(
    config: Mapping[str, Any] | StoreOptions | None = None,
    *,
    state_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    key_path: str = "storage.objects",
) -> ObjectStore:
    """An object store for ``config`` (``{"backend": "local"}`` when None)."""
    options = object_options(config, key_path)
    env = os.environ if environ is None else environ
    state_dir = _state_dir(state_dir, env)
    if isinstance(options, MemoryObjectOptions):
        return MemoryObjectStore()
    if isinstance(options, LocalObjectOptions):
        root = local_path(options.root, state_dir, OBJECTS_DIR, "root")
        return LocalObjectStore(root, durable=options.durable)
    from mlops.storage.backends.gcs_objects import GcsObjectStore

    gcs = _expect(options, GcsObjectOptions)

    try:
        return GcsObjectStore.connect(
            gcs.bucket,
            gcs.prefix,
            project=gcs.project or env.get("GOOGLE_CLOUD_PROJECT"),
            endpoint=gcs.endpoint or env.get("STORAGE_EMULATOR_HOST"),
            create_bucket=gcs.create_bucket,
            timeout=gcs.timeout,
        )
    except StorageUnavailableError as exc:
        if gcs.required:
            raise required_failure(exc, key_path) from exc
        fallback = LocalObjectStore(local_path(gcs.root, state_dir, OBJECTS_DIR, "root"))
        warn_once(f"gcs:{gcs.bucket}", f"{exc.one_line()}; using {fallback.describe()} instead")
        return fallback


__all__ = [
    "KV_ALIASES",
    "KV_FILE",
    "OBJECTS_DIR",
    "OBJECT_ALIASES",
    "StorageError",
    "create_kv_store",
    "create_object_store",
    "fallback_kv_store",
]
