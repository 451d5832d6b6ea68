"""Services that do not answer: each client gives up in bounded time and says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fixtures.servers import free_port
from mlops.cluster.local_executors import create_executor
from mlops.cluster.providers import (
    AnsibleClusterProvider,
)
from mlops.engine.executors import DaskExecutor
from mlops.errors import StorageError
from mlops.storage.backends.local_objects import LocalObjectStore
from mlops.storage.backends.sqlite_kv import SqliteKVStore
from mlops.storage.factory import (
    create_kv_store,
    create_object_store,
)
from mlops.storage.fallback import StorageFallbackWarning

pytestmark = pytest.mark.slow


def test_a_closed_port_returns_no_client_and_says_why() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    provider = AnsibleClusterProvider(scheduler_address=address, connect_timeout=0.3, environ={})

    assert provider.start() == (None, None)
    assert provider.failure is not None
    assert provider.failure.startswith(f"cannot reach the Dask scheduler at {address}")
    provider.stop()  # nothing was started: stopping is a no-op


def test_dask_executor_starts_lazily_and_closes_what_it_started() -> None:
    executor = create_executor("threads", threads_per_worker=2)
    assert isinstance(executor, DaskExecutor)
    assert not executor.started
    executor.close()  # nothing started: nothing to close
    futures = [executor.submit(pow, 2, n) for n in range(4)]
    done: set[Any] = set()
    while len(done) < 4:
        done |= executor.wait([f for f in futures if f not in done])
    assert sorted(f.result() for f in futures) == [1, 2, 4, 8]
    client = executor.client
    executor.close()
    assert not executor.started
    assert client.status in ("closing", "closed")


def test_unreachable_redis_warns_once_and_falls_back_to_sqlite(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    config = {"backend": "redis", "url": url, "timeout": 0.5}
    with pytest.warns(StorageFallbackWarning, match=r"server unreachable.*using sqlite"):
        store = create_kv_store(config, state_dir=tmp_path, namespace="p")
    assert isinstance(store, SqliteKVStore)
    store.set("k", "kept locally")
    assert store.get("k") == "kept locally"
    store.close()


def test_unreachable_redis_is_an_error_when_required(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    config = {"backend": "redis", "url": url, "timeout": 0.5, "required": True}
    with pytest.raises(StorageError) as info:
        create_kv_store(config, state_dir=tmp_path)
    text = str(info.value)
    assert "server unreachable" in text
    assert "storage.kv.required is true" in text
    assert "set storage.kv.required: false" in text
    assert list(tmp_path.iterdir()) == []


def test_unreachable_gcs_falls_back_to_local_or_fails_when_required(tmp_path: Path) -> None:
    endpoint = f"127.0.0.1:{free_port()}"
    config = {"backend": "gcs", "bucket": "b", "endpoint": endpoint, "timeout": 1}
    with pytest.warns(StorageFallbackWarning, match=r"unreachable.*using local"):
        store = create_object_store(config, state_dir=tmp_path)
    assert isinstance(store, LocalObjectStore)
    with pytest.raises(StorageError, match=r"storage\.objects\.required is true"):
        create_object_store({**config, "required": True}, state_dir=tmp_path)


def test_unreachable_firestore_emulator_falls_back_to_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    config = {"backend": "firestore", "project": "p", "timeout": 1}
    with pytest.warns(StorageFallbackWarning, match="Firestore unreachable"):
        store = create_kv_store(config, state_dir=tmp_path)
    assert isinstance(store, SqliteKVStore)
    store.close()
