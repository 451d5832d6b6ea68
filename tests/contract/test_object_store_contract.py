"""One behaviour for every ObjectStore: memory, local files, GCS (real client, emulator).

Add a backend to ``fixtures.storage.OBJECT_BACKENDS`` and it must pass all of this.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mlops.errors import StorageError
from mlops.storage.interfaces.object_store import ObjectNotFoundError, ObjectStore

SCHEMES = {"memory": "memory://", "local": "file://", "gcs": "gs://"}


def test_put_bytes_then_get(object_store: ObjectStore) -> None:
    info = object_store.put("runs/1/model.bin", b"\x00\x01binary\xff")
    assert info.key == "runs/1/model.bin"
    assert info.size == 9
    assert info.uri == object_store.uri("runs/1/model.bin")
    assert object_store.get("runs/1/model.bin") == b"\x00\x01binary\xff"


def test_put_stream_and_path(object_store: ObjectStore, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 5000  # > 1 MiB, several chunks
    assert object_store.put("stream", io.BytesIO(payload)).size == len(payload)
    source = tmp_path / "file.bin"
    source.write_bytes(payload[::-1])
    assert object_store.put("from-path", source).size == len(payload)
    assert object_store.get("stream") == payload
    assert object_store.get("from-path") == payload[::-1]


def test_open_streams_the_object(object_store: ObjectStore) -> None:
    payload = b"0123456789" * 300_000
    object_store.put("big", payload)
    with object_store.open("big") as stream:
        first = stream.read(10)
        rest = stream.read()
    assert first == b"0123456789"
    assert first + rest == payload


def test_put_replaces(object_store: ObjectStore) -> None:
    object_store.put("k", b"old")
    object_store.put("k", b"new")
    assert object_store.get("k") == b"new"


def test_empty_object(object_store: ObjectStore) -> None:
    assert object_store.put("empty", b"").size == 0
    assert object_store.get("empty") == b""
    assert object_store.exists("empty")


def test_exists_and_delete(object_store: ObjectStore) -> None:
    object_store.put("a/b", b"x")
    assert object_store.exists("a/b")
    assert object_store.delete("a/b") is True
    assert object_store.delete("a/b") is False
    assert not object_store.exists("a/b")
    assert object_store.list() == []


def test_missing_objects_raise_not_found(object_store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError, match=r"no object 'nope/x'"):
        object_store.get("nope/x")
    with pytest.raises(ObjectNotFoundError):
        object_store.open("nope/x")


def test_list_filters_by_prefix_and_sorts(object_store: ObjectStore) -> None:
    for key in ["runs/2/a", "runs/10/a", "runs/1/a", "charts/x.png", "runsheet"]:
        object_store.put(key, key.encode())
    assert object_store.list("runs/") == ["runs/1/a", "runs/10/a", "runs/2/a"]
    assert object_store.list("runs") == ["runs/1/a", "runs/10/a", "runs/2/a", "runsheet"]
    assert object_store.list() == ["charts/x.png", "runs/1/a", "runs/10/a", "runs/2/a", "runsheet"]
    assert object_store.list("zzz/") == []


def test_keys_are_normalised(object_store: ObjectStore) -> None:
    object_store.put("./a//b/", b"x")
    assert object_store.get("a/b") == b"x"
    assert object_store.list() == ["a/b"]


def test_unicode_keys(object_store: ObjectStore) -> None:
    object_store.put("графики/模型 1.png", b"png")
    assert object_store.get("графики/模型 1.png") == b"png"
    assert object_store.list("графики/") == ["графики/模型 1.png"]


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../b", "/abs/path", "a\\b", "", ".", "nul\x00"],
    ids=["dotdot", "nested-dotdot", "absolute", "backslash", "empty", "dot", "nul"],
)  # fmt: skip
def test_unsafe_keys_are_refused_before_touching_the_backend(
    object_store: ObjectStore, key: str
) -> None:
    with pytest.raises(StorageError):
        object_store.put(key, b"x")
    assert object_store.list() == []


def test_put_refuses_what_it_cannot_read(object_store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not a file"):
        object_store.put("k", tmp_path / "missing.bin")
    with pytest.raises(StorageError, match="needs bytes, a binary file or a path"):
        object_store.put("k", 12)  # type: ignore[arg-type]
    assert not object_store.exists("k")


def test_uri_says_where_the_object_lives(object_store: ObjectStore) -> None:
    uri = object_store.uri("a/b.bin")
    assert uri.startswith(SCHEMES[object_store.backend])
    assert uri.endswith("a/b.bin")


def test_writer_streams_into_the_store_and_commits_at_the_end(object_store: ObjectStore) -> None:
    with object_store.writer("w/obj") as stream:
        for i in range(20):
            stream.write(bytes([i]) * 100_000)
    assert object_store.get("w/obj") == b"".join(bytes([i]) * 100_000 for i in range(20))


def test_writer_stores_nothing_when_the_producer_fails(object_store: ObjectStore) -> None:
    def produce() -> None:
        with object_store.writer("w/obj") as stream:
            stream.write(b"partial")
            raise RuntimeError("producer failed")

    object_store.put("w/obj", b"previous")
    with pytest.raises(RuntimeError, match="producer failed"):
        produce()
    assert object_store.get("w/obj") == b"previous"
    assert object_store.list() == ["w/obj"]
