"""The experiment-tracker contract: every backend accepts and refuses the same things.

Add a backend to ``TRACKER_KINDS`` and it runs every test here. MLflow runs
twice: against its SQLite store and over HTTP against the fake tracking
server (``tests/fakes/mlflow_server.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.mlflow_server import fake_mlflow_server
from fixtures.extras import require
from mlops.storage.backends.local_objects import LocalObjectStore
from mlops.storage.backends.memory import MemoryKVStore, MemoryObjectStore
from mlops.storage.backends.sqlite_kv import SqliteKVStore
from mlops.tracking.experiment_tracker import (
    ExperimentTracker,
    LocalExperimentTracker,
    NoOpExperimentTracker,
    TrackingError,
)

TRACKER_KINDS = ["noop", "local-memory", "local-sqlite", "mlflow-sqlite", "mlflow-rest"]


@pytest.fixture(scope="module")
def mlflow_sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One MLflow database per module: creating its schema takes seconds."""
    require("mlflow", reason="the mlflow extra is not installed")
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def mlflow_rest_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require("mlflow", reason="the mlflow extra is not installed")
    with fake_mlflow_server(tmp_path_factory.mktemp("mlflow-rest")) as server:
        yield server.url


@pytest.fixture(params=TRACKER_KINDS)
def tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ExperimentTracker]:
    if request.param.startswith("mlflow"):
        from mlops.tracking.mlflow_tracker import MlflowExperimentTracker

        yield MlflowExperimentTracker(
            request.getfixturevalue(request.param.replace("-", "_") + "_uri"),
            experiment_name=request.node.name,
            artifact_location=(tmp_path / "artifacts").as_uri(),
        )
    elif request.param == "noop":
        yield NoOpExperimentTracker()
    elif request.param == "local-memory":
        yield LocalExperimentTracker(MemoryKVStore("p"), MemoryObjectStore())
    else:
        kv = SqliteKVStore(tmp_path / "kv.sqlite3", "p")
        yield LocalExperimentTracker(kv, LocalObjectStore(tmp_path / "objects"))
        kv.close()


def test_every_tracker_follows_the_protocol(tracker: ExperimentTracker, tmp_path: Path) -> None:
    assert isinstance(tracker, ExperimentTracker)
    artifact = tmp_path / "model.txt"
    artifact.write_text("weights")
    tracker.start_run("r1", project="p", params={"lr": 0.1})
    tracker.log_params({"layers": [64, 32]})
    tracker.log_metric("loss", 0.5, step=0)
    tracker.log_metrics({"loss": 0.25, "acc": 0.9}, step=1)
    uri = tracker.log_artifact(artifact)
    assert uri.startswith(("file://", "memory://"))
    assert uri.endswith("model.txt")
    tracker.end_run()


@pytest.mark.parametrize(
    ("name", "value", "step", "message"),
    [("", 1.0, None, "non-empty"), ("a/b", 1.0, None, "without '/'"),
     ("m", "0.5", None, "a number"), ("m", True, None, "a number"),
     ("m", float("nan"), None, "finite"), ("m", 1.0, -1, "step"),
     ("m", 1.0, 1.5, "step")],
    ids=["empty-name", "slash", "string", "bool", "nan", "negative-step", "float-step"],
)  # fmt: skip
def test_bad_metrics_are_refused_by_every_tracker(
    tracker: ExperimentTracker, name: str, value: object, step: object, message: str
) -> None:
    tracker.start_run("r1", project="p")
    with pytest.raises(TrackingError, match=message):
        tracker.log_metric(name, value, step)  # type: ignore[arg-type]


def test_logging_without_a_run_is_an_error(tracker: ExperimentTracker) -> None:
    with pytest.raises(TrackingError, match="no active run"):
        tracker.log_metric("loss", 1.0)
