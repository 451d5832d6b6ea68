from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops.config.storage import RedisKVOptions, kv_options
from mlops.errors import ConfigError, StorageError
from mlops.storage.backends.local_objects import LocalObjectStore
from mlops.storage.backends.memory import MemoryKVStore, MemoryObjectStore
from mlops.storage.backends.sqlite_kv import SqliteKVStore
from mlops.storage.factory import (
    KV_ALIASES,
    OBJECT_ALIASES,
    _redis_url,
    create_kv_store,
    create_object_store,
)


def test_defaults_are_sqlite_and_local_files_under_the_state_dir(tmp_path: Path) -> None:
    kv = create_kv_store(None, state_dir=tmp_path, namespace="proj")
    objects = create_object_store(None, state_dir=tmp_path)
    assert isinstance(kv, SqliteKVStore)
    assert kv.path == tmp_path / "kv.sqlite3"
    assert kv.namespace == "proj"
    assert isinstance(objects, LocalObjectStore)
    assert objects.root == (tmp_path / "objects").resolve()
    kv.set("k", 1)
    assert (tmp_path / "kv.sqlite3").is_file()
    kv.close()


@pytest.mark.parametrize(("alias", "canonical"), sorted(KV_ALIASES.items()), ids=sorted(KV_ALIASES))
def test_every_kv_alias_names_its_backend(alias: str, canonical: str) -> None:
    assert kv_options({"backend": alias.upper()}).backend == canonical


@pytest.mark.parametrize("alias", ["mem", "memory", " MEMORY "], ids=str)
def test_memory_aliases_build_memory_stores(tmp_path: Path, alias: str) -> None:
    assert isinstance(create_kv_store({"backend": alias}, state_dir=tmp_path), MemoryKVStore)
    assert isinstance(
        create_object_store({"backend": alias}, state_dir=tmp_path), MemoryObjectStore
    )


@pytest.mark.parametrize("alias", ["local", "fs"], ids=str)
def test_local_object_aliases(tmp_path: Path, alias: str) -> None:
    assert OBJECT_ALIASES[alias] == "local"
    store = create_object_store({"backend": alias, "root": "blobs"}, state_dir=tmp_path)
    assert isinstance(store, LocalObjectStore)
    assert store.root == (tmp_path / "blobs").resolve()


def test_unknown_backend_lists_the_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        create_kv_store({"backend": "mongodb"}, state_dir=tmp_path)
    message = str(info.value)
    assert "storage.kv.backend: unknown storage backend 'mongodb'" in message
    for name in ("memory", "sqlite", "redis", "gcp", "firestore"):
        assert name in message
    with pytest.raises(ConfigError, match=r"storage.objects.backend.*choose one of: fs, gcs, gs"):
        create_object_store({"backend": "s3"}, state_dir=tmp_path)


@pytest.mark.parametrize(
    ("config", "message"),
    [({"backend": "sqlite", "required": "maybe"}, "required: expected true or false"),
     (["sqlite"], "expected a mapping"),
     ({"backend": 3}, "unknown storage backend 3")],
    ids=["required-not-bool", "not-a-mapping", "backend-not-str"],
)  # fmt: skip
def test_malformed_configs_are_config_errors(tmp_path: Path, config: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_kv_store(config, state_dir=tmp_path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_relative_sqlite_path_may_not_leave_the_state_dir(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="outside"):
        create_kv_store({"backend": "sqlite", "path": "../../kv.db"}, state_dir=tmp_path)
    store = create_kv_store(
        {"backend": "sqlite", "path": str(tmp_path / "abs.db")}, state_dir=tmp_path
    )
    assert isinstance(store, SqliteKVStore)
    assert store.path == tmp_path / "abs.db"
    store.close()


@pytest.mark.parametrize(
    ("create", "config", "message"),
    [(create_object_store, {"backend": "gs"}, "storage.objects.bucket: required key is missing"),
     (create_kv_store, {"backend": "redis", "urll": "redis://h"},
      "storage.kv.urll: unknown key (did you mean 'url'?)"),
     (create_kv_store, {"backend": "redis", "port": "high"},
      "storage.kv.port: expected an integer, found 'high'"),
     (create_kv_store, {"backend": "firestore", "timeout": 0},
      "storage.kv.timeout: expected a value > 0, found 0"),
     (create_object_store, {"backend": "fs", "durable": "sometimes"},
      "storage.objects.durable: expected true or false, found 'sometimes'"),
     (create_kv_store, {"backend": "sqlite", "root": "x"},
      "storage.kv.root: unknown key (valid keys here: backend, path, required)")],
    ids=["gcs-bucket", "redis-typo", "redis-port", "firestore-timeout", "local-durable",
         "sqlite-key-of-objects"],
)  # fmt: skip
def test_each_backend_checks_its_own_options(
    tmp_path: Path, create: Any, config: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        create(config, state_dir=tmp_path)
    assert info.value.one_line() == message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "env", "url"),
    [({"url": "redis://h:1/2"}, {"REDIS_URL": "redis://env:9/0"}, "redis://h:1/2"),
     ({}, {"REDIS_URL": "redis://env:9/0"}, "redis://env:9/0"),
     ({}, {}, "redis://localhost:6379/0"),
     ({"host": "cache", "port": 7000, "db": 3, "password": "pw"}, {}, "redis://:pw@cache:7000/3"),
     ({"host": "cache"}, {}, "redis://cache:6379/0")],
    ids=["url-wins", "env", "default", "fields", "host-only"],
)  # fmt: skip
def test_redis_url_from_config_or_environment(
    options: dict[str, object], env: dict[str, str], url: str
) -> None:
    assert _redis_url(RedisKVOptions(**options), env) == url  # type: ignore[arg-type]
