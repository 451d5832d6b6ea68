from __future__ import annotations

import typing
from pathlib import Path

import pytest

from mlops.config.schema import TRACKING_BACKENDS, TrackingConfig
from mlops.errors import ConfigError
from mlops.storage.backends.memory import MemoryKVStore, MemoryObjectStore
from mlops.storage.backends.sqlite_kv import SqliteKVStore
from mlops.tracking.experiment_tracker import ExperimentTracker, LocalExperimentTracker
from mlops.tracking.trackers import TRACKERS, create_tracker


def test_local_tracker_records_what_the_ui_shows(tmp_path: Path) -> None:
    kv, objects = MemoryKVStore("proj"), MemoryObjectStore()
    tracker = LocalExperimentTracker(kv, objects)
    tracker.start_run("run-1", project="proj", params={"lr": 0.1, "obj": object()})
    tracker.log_params({"epochs": 3})
    for step, loss in enumerate([0.9, 0.5, 0.2]):
        tracker.log_metric("loss", loss, step=step)
    tracker.log_metric("acc", 0.8)
    (tmp_path / "cm.png").write_bytes(b"png")
    tracker.log_artifact(tmp_path / "cm.png", name="charts/cm.png")
    tracker.end_run("finished")
    run = tracker.get_run("run-1")
    assert run["status"] == "finished"
    assert run["ended_at"] is not None
    assert run["params"]["lr"] == 0.1
    assert run["params"]["epochs"] == 3
    assert run["params"]["obj"].startswith("<object object")  # recorded, never dropped
    assert tracker.metric_names("run-1") == ["acc", "loss"]
    assert [(p.step, p.value) for p in tracker.metric_history("run-1", "loss")] == [
        (0, 0.9), (1, 0.5), (2, 0.2),
    ]  # fmt: skip
    assert objects.get("runs/run-1/artifacts/charts/cm.png") == b"png"
    assert [r["run_id"] for r in tracker.list_runs()] == ["run-1"]


def test_parallel_writers_of_one_metric_lose_no_point(tmp_path: Path) -> None:
    kv = SqliteKVStore(tmp_path / "kv.sqlite3", "p")
    writers = [LocalExperimentTracker(kv.namespaced("p"), MemoryObjectStore()) for _ in range(3)]
    writers[0].start_run("r", project="p")
    for w in writers[1:]:
        w._state.run_id = "r"  # workers attach to the running run
    for i in range(20):
        for w in writers:
            w.log_metric("loss", float(i), step=i)
    assert len(writers[0].metric_history("r", "loss")) == 60
    kv.close()


def test_unknown_tracker_lists_the_valid_ones(tmp_path: Path) -> None:
    def create(backend: str) -> ExperimentTracker:
        return create_tracker(
            backend, None, kv=MemoryKVStore(), objects=MemoryObjectStore(), state_dir=tmp_path
        )

    with pytest.raises(
        ConfigError, match=r"unknown tracker 'wandb' \(choose one of: local, mlflow, noop\)"
    ):
        create("wandb")
    assert isinstance(create("Local"), LocalExperimentTracker)


def test_config_accepts_exactly_the_trackers_that_exist() -> None:
    allowed = set(typing.get_args(TrackingConfig.model_fields["backend"].annotation))
    assert allowed == set(TRACKERS) == set(TRACKING_BACKENDS)
