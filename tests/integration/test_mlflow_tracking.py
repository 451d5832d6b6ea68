"""The MLflow tracker against MLflow tracking stores, read back through MLflow's own client.

Each test runs against every store in ``STORES``, so what a user sees in MLflow
is checked, not what our code meant to write:

- ``sqlite``: MLflow's own SQLite store (its default), the real thing;
- ``rest``: the MLflow client over HTTP to the fake tracking server
  (``tests/fakes/mlflow_server.py``); passing here alongside ``sqlite`` is what
  keeps the fake honest;
- ``server``: a real ``mlflow server`` whose URL is in ``MLOPS_TEST_MLFLOW_SERVER``
  (the ``mlflow`` package with its server; the suite's extra is the client only).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.extras import require
from fixtures.projects import TRACKED_PIPELINE, ProjectFactory
from mlops.errors import ConfigError
from mlops.session.platform import MLPlatform
from mlops.tracking.experiment_tracker import TrackingError
from mlops.tracking.status import RunStatus

mlflow = require("mlflow", reason="the mlflow extra is not installed")
from mlflow.tracking import MlflowClient  # noqa: E402

from fakes.mlflow_server import fake_mlflow_server  # noqa: E402
from mlops.tracking.mlflow_tracker import (  # noqa: E402
    MlflowExperimentTracker,
    create_mlflow_tracker,
    default_tracking_uri,
)

REAL_SERVER = os.environ.get("MLOPS_TEST_MLFLOW_SERVER")
STORES = ["sqlite", "rest", *(["server"] if REAL_SERVER else [])]


@pytest.fixture(scope="module", params=STORES)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """One tracking store per module and kind: a SQLite schema takes seconds to create."""
    folder = tmp_path_factory.mktemp(f"mlflow-{request.param}")
    if request.param == "sqlite":
        yield f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts"
    elif request.param == "rest":
        with fake_mlflow_server(folder / "default-artifacts") as server:
            yield server.url, folder / "artifacts"
    else:
        yield str(REAL_SERVER), folder / "artifacts"


def tracker_for(store: tuple[str, Path], experiment: str) -> MlflowExperimentTracker:
    uri, artifacts = store
    return MlflowExperimentTracker(
        uri, experiment_name=experiment, artifact_location=artifacts.as_uri(), tags={"team": "ml"}
    )


def mlflow_run(uri: str, mlops_run_id: str) -> Any:
    client = MlflowClient(tracking_uri=uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    query = f"tags.`mlops.run_id` = '{mlops_run_id}'"
    (run,) = client.search_runs(experiments, filter_string=query)
    return run


def test_a_run_is_recorded_as_mlflow_shows_it(store: tuple[str, Path], tmp_path: Path) -> None:
    tracker = tracker_for(store, "recorded")
    tracker.start_run("run-1", project="wine", params={"lr": 0.1, "layers": [64, 32]})
    tracker.log_params({"kernel": "rbf"})
    for step, loss in enumerate([0.9, 0.5, 0.2]):
        tracker.log_metric("loss", loss, step=step)
    tracker.log_metrics({"acc": 0.8, "f1": 0.75})
    (tmp_path / "cm.png").write_bytes(b"png")
    uri = tracker.log_artifact(tmp_path / "cm.png", name="charts/confusion.png")
    tracker.end_run("completed")

    run = mlflow_run(store[0], "run-1")
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "run-1"
    assert run.info.experiment_id == (
        MlflowClient(store[0]).get_experiment_by_name("recorded").experiment_id
    )
    assert run.data.params == {"lr": "0.1", "layers": "[64, 32]", "kernel": "rbf"}
    assert run.data.tags["mlops.project"] == "wine"
    assert run.data.tags["team"] == "ml"
    assert run.data.metrics == {"loss": 0.2, "acc": 0.8, "f1": 0.75}
    assert [(p.step, p.value) for p in tracker.metric_history("run-1", "loss")] == [
        (0, 0.9), (1, 0.5), (2, 0.2),
    ]  # fmt: skip
    assert uri.endswith("/charts/confusion.png")
    artifact = Path(uri.removeprefix("file://"))
    assert artifact.read_bytes() == b"png"
    assert artifact.is_relative_to(store[1])


@pytest.mark.parametrize(("status", "expected"), [("failed", "FAILED"), ("cancelled", "KILLED")])
def test_end_status_is_mapped_to_mlflow(
    store: tuple[str, Path], status: str, expected: str
) -> None:
    tracker = tracker_for(store, f"status-{status}")
    tracker.start_run(f"run-{status}", project="p")
    tracker.end_run(status)
    assert mlflow_run(store[0], f"run-{status}").info.status == expected


def test_runs_of_one_experiment_accumulate(store: tuple[str, Path]) -> None:
    for run_id in ("a1", "a2"):
        tracker = tracker_for(store, "accumulate")
        tracker.start_run(run_id, project="p")
        tracker.end_run()
    client = MlflowClient(store[0])
    experiment = client.get_experiment_by_name("accumulate")
    names = {r.info.run_name for r in client.search_runs([experiment.experiment_id])}
    assert names == {"a1", "a2"}


def test_changing_a_logged_param_is_one_line_naming_the_store(store: tuple[str, Path]) -> None:
    tracker = tracker_for(store, "immutable")
    tracker.start_run("r", project="p", params={"lr": 0.1})
    with pytest.raises(
        TrackingError, match=r"^mlflow \((sqlite|http):.*\): cannot log params: "
    ) as error:
        tracker.log_params({"lr": 0.2})
    assert "\n" not in str(error.value)


def test_an_unusable_store_is_one_line_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(TrackingError, match=r"^mlflow \(sqlite:///.*not-a-folder/mlflow.db\)"):
        MlflowExperimentTracker(f"sqlite:///{blocker / 'mlflow.db'}").start_run("r", project="p")


def test_artifact_names_stay_inside_the_run(store: tuple[str, Path], tmp_path: Path) -> None:
    tracker = tracker_for(store, "names")
    tracker.start_run("r-names", project="p")
    (tmp_path / "f.txt").write_text("x")
    for bad in ("../escape.txt", "/etc/passwd"):
        with pytest.raises(TrackingError, match="relative path inside the run"):
            tracker.log_artifact(tmp_path / "f.txt", name=bad)
    with pytest.raises(TrackingError, match="is not a file"):
        tracker.log_artifact(tmp_path / "missing.txt")


def test_default_store_lives_in_the_workspace_state(tmp_path: Path) -> None:
    tracker = create_mlflow_tracker({}, tmp_path)
    assert tracker.tracking_uri == default_tracking_uri(tmp_path)
    assert tracker.tracking_uri == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert tracker.artifact_location == (tmp_path / "mlflow-artifacts").resolve().as_uri()
    custom = create_mlflow_tracker(
        {"tracking_uri": "http://127.0.0.1:5000", "experiment_name": "e"}, tmp_path
    )
    assert (custom.tracking_uri, custom.experiment_name, custom.artifact_location) == (
        "http://127.0.0.1:5000", "e", None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("parameters", "message"),
    [({"uri": "x"}, r"parameters\.uri: unknown mlflow parameter \(choose from: artifact_location"),
     ({"tracking_uri": ""}, r"parameters\.tracking_uri: expected a non-empty string"),
     ({"experiment_name": 3}, r"parameters\.experiment_name: expected a non-empty string"),
     ({"tags": ["a"]}, r"parameters\.tags: expected a mapping")],
    ids=["unknown", "empty-uri", "number-name", "list-tags"],
)  # fmt: skip
def test_bad_parameters_name_the_key(
    tmp_path: Path, parameters: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        create_mlflow_tracker(parameters, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    hint = r"mlflow is not installed \(pip install 'mlops\[mlflow\]'\)"
    with pytest.raises(ConfigError, match=hint):
        create_mlflow_tracker({}, tmp_path)


def test_a_pipeline_run_lands_in_the_workspace_mlflow_store(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    make_project(
        "tracked", TRACKED_PIPELINE, "train evaluate", params={"epochs": 3},
        processes={"evaluate": {"params": {"gate": {"low": 0.5, "high": 0.9}}}},
        extra={"reproducibility": {"random_seed": 1, "experiment_tracking": {"backend": "mlflow"}}},
    )  # fmt: skip
    report = MLPlatform().run_pipeline_for_project("tracked")
    assert report.status is RunStatus.COMPLETED
    uri = default_tracking_uri(tmp_workspace / ".mlops")
    assert (tmp_workspace / ".mlops" / "mlflow.db").is_file()
    run = mlflow_run(uri, report.run_id)
    assert run.info.status == "FINISHED"
    # The run's parameters, then each process's as <process>.<param>, nested keys dotted.
    assert run.data.params == {
        "epochs": "3",
        "train.epochs": "3",
        "evaluate.gate.low": "0.5",
        "evaluate.gate.high": "0.9",
    }
    assert run.data.metrics == {"train.loss": pytest.approx(1 / 3), "evaluate.accuracy": 0.9}
    history = MlflowClient(uri).get_metric_history(run.info.run_id, "train.loss")
    assert sorted((m.step, m.value) for m in history) == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert MlflowClient(uri).get_experiment_by_name("tracked") is not None
    assert run.data.tags["mlops.project"] == "tracked"


def test_tracking_settings_are_part_of_no_cache_key(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    """Where runs are tracked, and how, is not what a process computes: switching the
    tracker or its parameters reuses every result."""

    def run_tracked_by(tracking: dict[str, Any]) -> dict[str, bool]:
        make_project(
            "tracked", TRACKED_PIPELINE, "train evaluate", params={"epochs": 3},
            extra={"reproducibility": {"random_seed": 1, "experiment_tracking": tracking}},
        )  # fmt: skip
        report = MLPlatform().run_pipeline_for_project("tracked")
        assert report.status is RunStatus.COMPLETED
        return {name: p.cache_hit for name, p in report.processes.items()}

    assert run_tracked_by({"backend": "local"}) == {"train": False, "evaluate": False}
    store = tmp_workspace / "elsewhere.db"
    for tracking in (
        {"backend": "mlflow"},
        {"backend": "mlflow", "parameters": {"tracking_uri": f"sqlite:///{store}"}},
        {"backend": "mlflow", "parameters": {"experiment_name": "x", "tags": {"team": "ml"}}},
        {"backend": "noop"},
    ):
        assert run_tracked_by(tracking) == {"train": True, "evaluate": True}, tracking
    assert store.is_file()  # the settings were in force


ARTIFACT_PIPELINE = """
from mlops import process

@process
def train(ctx, alpha):
    model = ctx.project_dir / "work" / "model.txt"
    model.parent.mkdir(exist_ok=True)
    model.write_text(f"alpha={alpha}")
    ctx.log_artifact(model, name="model/model.txt")
    return alpha

@process
def evaluate(ctx, train):
    return train
"""


def test_process_params_and_artifacts_reach_mlflow(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    make_project(
        "artifacted", ARTIFACT_PIPELINE, "train evaluate", params={"alpha": 0.5, "unread": 1},
        extra={"reproducibility": {"experiment_tracking": {"backend": "mlflow"}}},
    )  # fmt: skip
    report = MLPlatform().run_pipeline_for_project("artifacted")
    assert report.ok
    uri = default_tracking_uri(tmp_workspace / ".mlops")
    run = mlflow_run(uri, report.run_id)
    assert run.data.params == {"alpha": "0.5", "unread": "1", "train.alpha": "0.5"}
    client = MlflowClient(uri)
    listed = [a.path for a in client.list_artifacts(run.info.run_id, "train/model")]
    assert listed == ["train/model/model.txt"]
    local = client.download_artifacts(run.info.run_id, "train/model/model.txt", str(tmp_workspace))
    assert Path(local).read_text() == "alpha=0.5"
