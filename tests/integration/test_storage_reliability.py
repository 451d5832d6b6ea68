"""Storage under stress: parallel writers, killed writers, big objects, servers going away."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc

from fakes.firestore import FakeFirestoreClient
from fixtures import servers
from mlops.errors import StorageError
from mlops.storage.backends.gcp_kv import FirestoreKVStore
from mlops.storage.backends.local_objects import TEMP_PREFIX, LocalObjectStore
from mlops.storage.backends.sqlite_kv import SqliteKVStore
from mlops.storage.factory import create_kv_store
from mlops.storage.fallback import FallbackKVStore, StorageFallbackWarning
from mlops.storage.interfaces.object_store import ObjectStore

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent(
    """
    import sys
    from mlops.storage.backends.sqlite_kv import SqliteKVStore

    db, worker, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = SqliteKVStore(db, "hammer")
    for i in range(rounds):
        store.set(f"w{worker}/{i}", {"worker": worker, "i": i})
        store.set("shared", {"worker": worker, "blob": str(worker) * 20_000})
        store.set_if_absent(f"lock/{i}", worker)
    store.close()
    """
)


def _python(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", script, *args], stderr=subprocess.PIPE)


def test_four_processes_hammering_one_sqlite_store_lose_and_tear_nothing(tmp_path: Path) -> None:
    db, rounds = tmp_path / "kv.sqlite3", 400
    workers = [_python(WRITER, str(db), str(w), str(rounds)) for w in range(4)]
    for proc in workers:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()
    store = SqliteKVStore(db, "hammer")
    for w in range(4):
        assert store.keys(f"w{w}/") == sorted(f"w{w}/{i}" for i in range(rounds))
        assert all(store.get(f"w{w}/{i}") == {"worker": w, "i": i} for i in range(rounds))
    shared = store.get("shared")
    assert isinstance(shared, dict)
    assert shared["blob"] == str(shared["worker"]) * 20_000
    owners = [store.get(f"lock/{i}") for i in range(rounds)]
    assert all(owner in range(4) for owner in owners)
    store.close()


KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from mlops.storage.backends.sqlite_kv import SqliteKVStore
    from mlops.storage.backends.local_objects import LocalObjectStore

    db, root = sys.argv[1], sys.argv[2]
    kv, objects = SqliteKVStore(db, "k"), LocalObjectStore(root)
    i = 0
    while True:
        i += 1
        marker = bytes([i % 251]) * (4 * 1024 * 1024)
        objects.put("payload.bin", marker)
        kv.set("doc", {"i": i, "blob": "x" * 500_000, "check": i * 7})
        print(i, flush=True)
    """
)


def test_a_writer_killed_mid_write_leaves_no_corrupt_entry(tmp_path: Path) -> None:
    db, root = tmp_path / "kv.sqlite3", tmp_path / "objects"
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(db), str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        for _ in range(3):  # let it complete a few rounds, then kill it mid-stream
            assert proc.stdout.readline(), "the writer died before writing"
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    kv = SqliteKVStore(db, "k")
    doc = kv.get("doc")
    assert isinstance(doc, dict)
    assert doc["check"] == doc["i"] * 7
    assert doc["blob"] == "x" * 500_000
    objects = LocalObjectStore(root)
    assert objects.list() == ["payload.bin"]
    payload = objects.get("payload.bin")
    assert len(payload) == 4 * 1024 * 1024
    assert payload == payload[:1] * len(payload)
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(TEMP_PREFIX)]
    objects.put("after.bin", b"ok")  # the store stays usable with a temp file left behind
    assert objects.list() == ["after.bin", "payload.bin"]
    assert len(leftovers) <= 1
    kv.close()


def test_a_50_mb_object_round_trips(object_store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB of varied bytes
    with source.open("wb") as handle:
        for i in range(50):
            handle.write(bytes([i]) + block[1:])
    info = object_store.put("big/payload.bin", source)
    assert info.size == 50 * len(block)
    digest = hashlib.sha256()
    with object_store.open("big/payload.bin") as stream:
        while chunk := stream.read(4 * 1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()


@pytest.mark.requires_redis_server
@pytest.mark.redis
def test_redis_going_away_mid_run_falls_back_to_the_local_store(tmp_path: Path) -> None:
    with servers.redis_server(tmp_path / "redis") as server:
        config = {"backend": "redis", "url": server.url, "timeout": 1}
        store = create_kv_store(config, state_dir=tmp_path / "state", namespace="proj")
        assert isinstance(store, FallbackKVStore)
        store.set("before", 1)
        assert store.get("before") == 1
        other_project = store.namespaced("other")
        server.stop()
        with pytest.warns(
            StorageFallbackWarning, match=r"server unreachable.*continuing with sqlite"
        ):
            store.set("after", 2)
        assert store.get("after") == 2
        assert other_project.active is not other_project.primary  # every view switched
        other_project.set("x", 3)
        local = SqliteKVStore(tmp_path / "state" / "kv.sqlite3", "proj")
        assert local.get("after") == 2
        assert local.namespaced("other").get("x") == 3
        local.close()
        store.close()


@pytest.mark.requires_redis_server
@pytest.mark.redis
def test_redis_going_away_is_an_error_when_required(tmp_path: Path) -> None:
    with servers.redis_server(tmp_path / "redis") as server:
        config = {"backend": "redis", "url": server.url, "timeout": 1, "required": True}
        store = create_kv_store(config, state_dir=tmp_path / "state")
        store.set("before", 1)
        server.stop()
        with pytest.raises(StorageError, match=r"storage.kv.required is true"):
            store.get("before")
        assert not (tmp_path / "state" / "kv.sqlite3").exists()
        store.close()


@pytest.mark.gcp
def test_firestore_outage_mid_run_falls_back(tmp_path: Path) -> None:
    client = FakeFirestoreClient()
    primary = FirestoreKVStore(client, "proj")
    store = FallbackKVStore(primary, lambda ns: SqliteKVStore(tmp_path / "kv.sqlite3", ns))
    store.set("k", {"v": 1})
    client.fail_with = gexc.ServiceUnavailable("firestore is down")
    with pytest.warns(StorageFallbackWarning, match="Firestore unreachable"):
        assert store.get("k") is None  # the local store starts empty
    store.set("k", {"v": 2})
    assert json.loads(json.dumps(store.get("k"))) == {"v": 2}
    assert "fell back to sqlite" in store.describe()
    store.close()
