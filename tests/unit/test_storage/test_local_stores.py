"""Opening the local stores from a worker's settings: the same stores the factory builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops.config.storage import (
    LocalObjectOptions,
    SqliteKVOptions,
    kv_options,
    object_options,
)
from mlops.errors import StorageError
from mlops.storage.backends.local_objects import LocalObjectStore
from mlops.storage.factory import create_kv_store, create_object_store
from mlops.storage.local_stores import _LOCAL_OBJECT_KEYS, _SQLITE_KEYS, open_local_settings

LOCAL_SETTINGS = [
    (None, None),
    ({"backend": "sqlite"}, {"backend": "local"}),
    (
        {"backend": "sqlite", "path": "db/kv.db", "required": True},
        {"backend": "local", "root": "blobs", "durable": False},
    ),
]


@pytest.mark.parametrize(("kv", "objects"), LOCAL_SETTINGS, ids=["none", "plain", "options"])
def test_the_stores_are_those_the_factory_opens(
    tmp_path: Path, kv: dict[str, Any] | None, objects: dict[str, Any] | None
) -> None:
    # What the driver ships is StoreOptions.settings() of a validated config.
    kv_settings = None if kv is None else kv_options(kv).settings()
    object_settings = None if objects is None else object_options(objects).settings()
    opened = open_local_settings(kv_settings, object_settings, state_dir=tmp_path, namespace="p")
    assert opened is not None
    direct_kv, direct_objects = opened
    factory_kv = create_kv_store(kv_settings, state_dir=tmp_path, namespace="p")
    factory_objects = create_object_store(object_settings, state_dir=tmp_path)
    try:
        direct_kv.set("k", [1, 2])
        direct_objects.put("a/b.bin", b"payload")
        assert factory_kv.get("k") == [1, 2]
        assert factory_objects.get("a/b.bin") == b"payload"
        assert (direct_kv.path, direct_kv.namespace) == (factory_kv.path, factory_kv.namespace)
        assert direct_objects.describe() == factory_objects.describe()
        assert isinstance(direct_objects, LocalObjectStore)
        assert isinstance(factory_objects, LocalObjectStore)
        assert direct_objects.durable == factory_objects.durable
    finally:
        for store in (direct_kv, factory_kv, direct_objects, factory_objects):
            store.close()


def test_a_relative_path_cannot_leave_the_state_folder(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"\.\."):
        open_local_settings(
            {"backend": "sqlite", "path": "../outside.db"}, None, state_dir=tmp_path, namespace="p"
        )
    assert not (tmp_path.parent / "outside.db").exists()


@pytest.mark.parametrize(
    ("kv", "objects"),
    [
        ({"backend": "redis", "url": "redis://localhost:1/0"}, None),
        (None, {"backend": "gcs", "bucket": "b"}),
        ({"backend": "sqlite", "unknown": 1}, None),
        (None, {"backend": "local", "durable": "yes"}),
    ],
    ids=["redis", "gcs", "unknown-key", "unchecked-value"],
)
def test_anything_else_is_left_to_the_factory(
    tmp_path: Path, kv: dict[str, Any] | None, objects: dict[str, Any] | None
) -> None:
    assert open_local_settings(kv, objects, state_dir=tmp_path, namespace="p") is None
    assert list(tmp_path.iterdir()) == []


def test_the_keys_opened_directly_are_every_option_of_the_local_backends() -> None:
    # A new option left out here would send every worker through the factory again.
    assert set(SqliteKVOptions.model_fields) == _SQLITE_KEYS
    assert set(LocalObjectOptions.model_fields) == _LOCAL_OBJECT_KEYS
