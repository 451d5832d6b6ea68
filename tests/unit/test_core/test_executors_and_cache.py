"""Executors, payload spill, the step state manager and run records, on real stores."""

from __future__ import annotations

import os
import pickle
import threading
from typing import Any

import pytest

from mlops.cache.payload_spill import (
    PayloadRef,
    decode_result,
    encode_result,
    hydrate,
    should_spill,
    spill,
)
from mlops.cache.step_state_manager import INLINE_LIMIT, CacheEntry, StepStateManager
from mlops.cluster.local_executors import create_executor, environ_restored
from mlops.config.adjacency import parse_process_adjlist
from mlops.engine.executors import DaskExecutor, SequentialExecutor
from mlops.engine.worker import FunctionRef, LiveStores
from mlops.errors import ConfigError, ExecutionError
from mlops.storage.backends.memory import MemoryKVStore, MemoryObjectStore
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.settings import StoreSettings
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_records import (
    RunRecorder,
    get_run,
    latest_run,
    list_runs,
    new_run_id,
    process_counts,
)
from mlops.tracking.status import ProcessStatus, RunStatus

# ------------------------------------------------------------------ executors


def test_sequential_executor_runs_at_submit_and_delivers_errors() -> None:
    executor = SequentialExecutor()
    ok = executor.submit(lambda x: x + 1, 1)
    bad = executor.submit(lambda: 1 / 0)
    assert executor.wait([ok, bad]) == {ok, bad}
    assert ok.result() == 2
    with pytest.raises(ZeroDivisionError):
        bad.result()
    executor.close()


@pytest.mark.parametrize(
    ("kind", "message"),
    [("gpu", "unknown executor 'gpu'"), ("dask", "runs on a cluster's client")],
    ids=["unknown", "dask-without-client"],
)
def test_create_executor_refuses_what_it_cannot_make(kind: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_executor(kind)


def test_dask_executor_needs_exactly_one_of_client_or_start() -> None:
    with pytest.raises(ValueError, match="either a client or a start function"):
        DaskExecutor()


def test_environ_restored_undoes_additions_changes_and_removals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLOPS_T_KEEP", "1")
    monkeypatch.setenv("MLOPS_T_DROP", "2")
    with environ_restored():
        os.environ["MLOPS_T_NEW"] = "x"
        os.environ["MLOPS_T_KEEP"] = "changed"
        del os.environ["MLOPS_T_DROP"]
    assert "MLOPS_T_NEW" not in os.environ
    assert os.environ["MLOPS_T_KEEP"] == "1"
    assert os.environ["MLOPS_T_DROP"] == "2"


# ------------------------------------------------------------------ store handles


def test_live_stores_pickle_as_a_token_usable_only_in_this_process() -> None:
    kv, objects = MemoryKVStore("p"), MemoryObjectStore()
    handle = LiveStores(kv, objects)
    copy = pickle.loads(pickle.dumps(handle))  # noqa: S301 - our own object
    assert copy.open() == (kv, objects)
    handle.release()
    with pytest.raises(ExecutionError, match="cannot reach the run's stores"):
        copy.open()


def test_store_settings_open_once_per_process(tmp_path: Any) -> None:
    settings = StoreSettings(None, {"backend": "local"}, str(tmp_path), "proj")
    first = settings.open()
    assert settings.open() is first
    assert first[0].namespace == "proj"


def test_function_ref_loads_and_explains_failures() -> None:
    assert FunctionRef("os.path", "join").load() is os.path.join
    with pytest.raises(ExecutionError, match=r"cannot import no_such_mod_xyz\.f on this worker"):
        FunctionRef("no_such_mod_xyz", "f").load()
    with pytest.raises(ExecutionError, match="is not callable"):
        FunctionRef("os", "sep").load()


# ------------------------------------------------------------------ payloads


def test_encode_spill_and_hydrate_round_trip() -> None:
    objects = MemoryObjectStore()
    encoded = encode_result({"a": [1, 2]}, what="process 'x'")
    assert should_spill(encoded, 0)
    assert not should_spill(encoded, None)
    assert not should_spill(encoded, 10_000)
    ref = spill(encoded, objects, "payloads/x.pkl")
    assert ref == PayloadRef("payloads/x.pkl", encoded.size, encoded.digest)
    assert hydrate(ref, objects) == {"a": [1, 2]}
    assert hydrate([1], objects) == [1]


def test_unpicklable_results_and_missing_payloads_are_clear_errors() -> None:
    with pytest.raises(ExecutionError, match="process 'x' returned a lock, which cannot be stored"):
        encode_result(threading.Lock(), what="process 'x'")
    with pytest.raises(ExecutionError, match="a spilled result is missing"):
        hydrate(PayloadRef("gone.pkl", 1, "d"), MemoryObjectStore())
    with pytest.raises(ExecutionError, match="cannot load"):
        decode_result(b"not a pickle", what="entry")


# ------------------------------------------------------------------ the cache


def test_cache_entries_are_committed_after_their_bytes(kv_store: KVStore) -> None:
    objects = MemoryObjectStore()
    state = StepStateManager(kv_store, objects)
    large = list(range(INLINE_LIMIT))  # too large to live in its entry
    encoded = encode_result(large, what="p")
    entry = state.store("ab" + "0" * 62, "p", encoded, run_id="r1", metrics=[{"name": "m"}])
    found = state.lookup(entry.key)
    assert found == entry
    assert state.load(found) == large
    assert objects.list("cache/") == [entry.object_key]
    objects.delete(entry.object_key)
    assert state.lookup(entry.key) is None  # an entry without bytes is a miss
    assert state.invalidate(entry.key)
    assert state.lookup(entry.key) is None


def test_a_small_result_lives_in_its_entry_and_a_damaged_one_is_a_miss(
    kv_store: KVStore,
) -> None:
    objects = MemoryObjectStore()
    state = StepStateManager(kv_store, objects)
    entry = state.store("ef" + "0" * 62, "p", encode_result({"a": 1}, what="p"), run_id="r1")
    assert objects.list("cache/") == []  # no object written
    found = state.lookup(entry.key)
    assert found is not None
    assert state.load(found) == {"a": 1}
    document = kv_store.get(f"cache/entries/{entry.key}")
    kv_store.set(f"cache/entries/{entry.key}", {**document, "inline": "AAAA" + document["inline"]})
    assert state.lookup(entry.key) is None  # not the bytes its digest names
    kv_store.set(f"cache/entries/{entry.key}", {**document, "inline": "not base64!"})
    assert state.lookup(entry.key) is None


def test_cache_clear_and_key_parts(kv_store: KVStore) -> None:
    state = StepStateManager(kv_store, MemoryObjectStore())
    key = "cd" + "1" * 62
    state.store(key, "p", encode_result(1, what="p"), run_id="r")
    state.record_parts(key, {"code": "c"}, params={"x": 1, "o": object()}, upstream={}, inputs={})
    parts = state.parts(key)
    assert parts is not None
    assert parts["components"] == {"code": "c"}
    assert parts["params"]["x"] == 1
    assert parts["params"]["o"].startswith("<object ")
    kv_store.set("cache/latest/p", parts)  # as earlier versions kept them, by process
    assert state.latest("p") == parts
    assert state.clear() == 1
    assert state.parts(key) is None
    assert state.latest("p") is None


def test_cache_entry_from_incompatible_documents_is_a_miss() -> None:
    assert CacheEntry.from_document("text") is None
    assert CacheEntry.from_document({"key": "k"}) is None


@pytest.fixture
def kv_store() -> KVStore:
    return MemoryKVStore("proj")


# ------------------------------------------------------------------ run records


def test_run_recorder_writes_as_the_run_goes(kv_store: KVStore) -> None:
    graph = parse_process_adjlist("a b")
    run_id = new_run_id()
    recorder = RunRecorder(kv_store, run_id=run_id, project="proj", graph=graph,
                           details={"executor": "sequential"})  # fmt: skip
    record = get_run(kv_store, run_id)
    assert record is not None
    assert record["status"] == "running"
    assert record["processes"]["a"]["status"] == "pending"
    done = ProcessRecord("a", status=ProcessStatus.COMPLETED, duration=0.5,
                         metrics=[{"name": "loss", "value": 0.1, "step": None}])  # fmt: skip
    recorder.update(done)
    assert get_run(kv_store, run_id)["processes"]["a"]["status"] == "completed"  # type: ignore[index]
    recorder.update(ProcessRecord("b", status=ProcessStatus.FAILED, error="boom"))
    recorder.finish(RunStatus.FAILED, error={"process": "b", "message": "boom"})
    summary = latest_run(kv_store)
    assert summary is not None
    assert "processes" not in summary  # summaries list fast; get_run assembles the rest
    final = get_run(kv_store, summary["run_id"])
    assert final is not None
    assert final["status"] == "failed"
    assert final["metrics"] == {"a.loss": 0.1}
    assert final["duration"] >= 0
    assert process_counts(final) == {"completed": 1, "failed": 1}
    assert [r["run_id"] for r in list_runs(kv_store)] == [run_id]
    assert get_run(kv_store, "nope") is None


def test_run_ids_sort_by_start_and_are_unique() -> None:
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i.split("-")[0]) == 15 for i in ids)
