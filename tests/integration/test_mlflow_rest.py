"""The MLflow tracker over HTTP when the tracking server misbehaves.

The fake tracking server (``tests/fakes/mlflow_server.py``) is driven through
MLflow's real HTTP client: its retries, timeouts and error parsing all run.
MLflow's defaults (7 retries with exponential backoff, 120 s timeout) are cut
down per test through MLflow's own environment variables, which is also how a
user tunes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.extras import require
from fixtures.projects import TRACKED_PIPELINE, ProjectFactory
from mlops.session.platform import MLPlatform
from mlops.tracking.experiment_tracker import TrackingError
from mlops.tracking.mid_run_tracking import TrackingWarning
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_records import list_runs
from mlops.tracking.status import RunStatus

require("mlflow", reason="the mlflow extra is not installed")

from fakes.mlflow_server import API, FakeMlflowServer, fake_mlflow_server  # noqa: E402 - imports mlflow, checked just above
from mlops.tracking.mlflow_tracker import MlflowExperimentTracker  # noqa: E402 - imports mlflow, checked just above


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMlflowServer]:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    with fake_mlflow_server(tmp_path / "artifacts") as fake:
        yield fake


def tracker(server: FakeMlflowServer) -> MlflowExperimentTracker:
    return MlflowExperimentTracker(server.url, experiment_name="rest")


def test_a_server_error_is_one_line_naming_the_server(server: FakeMlflowServer) -> None:
    server.service.fail(f"{API}/runs/create", status=500, times=None)
    with pytest.raises(TrackingError) as error:
        tracker(server).start_run("r1", project="p")
    message = str(error.value)
    assert message.startswith(f"mlflow ({server.url}): cannot start a run in experiment 'rest': ")
    assert "500" in message
    assert "\n" not in message
    assert len(server.calls("runs/create")) == 1  # retries are off in this test
    assert server.tracking.runs == {}


def started_with_retries(
    server: FakeMlflowServer, monkeypatch: pytest.MonkeyPatch, retries: int
) -> MlflowExperimentTracker:
    """A tracker with a started run whose client retries ``retries`` times, without backoff."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(retries))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    tracked = tracker(server)
    tracked.start_run(f"retries-{retries}", project="p")
    return tracked


def test_transient_errors_are_retried_until_the_batch_lands(
    server: FakeMlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracked = started_with_retries(server, monkeypatch, 3)
    server.service.fail(f"{API}/runs/log-batch", status=503, times=2)
    tracked.log_params({"lr": 0.5})
    assert len(server.calls("runs/log-batch")) == 3  # two 503s, then the batch
    (run,) = server.tracking.runs.values()
    assert run.params == {"lr": "0.5"}


def test_retries_give_up_with_one_line(
    server: FakeMlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracked = started_with_retries(server, monkeypatch, 2)
    server.service.fail(f"{API}/runs/log-batch", status=503, times=None)
    with pytest.raises(TrackingError, match=r"cannot log metrics: .*(503|retries)") as error:
        tracked.log_metric("loss", 0.5)
    assert "\n" not in str(error.value)
    assert len(server.calls("runs/log-batch")) == 3  # the first try and two retries


def test_a_server_slower_than_the_timeout_is_one_line(
    server: FakeMlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    server.service.delay(3, path=f"{API}/experiments/get-by-name")
    with pytest.raises(TrackingError, match=r"(?i)timed? ?out") as error:
        tracker(server).start_run("r4", project="p")
    assert str(error.value).startswith(f"mlflow ({server.url}): cannot start a run")
    assert "\n" not in str(error.value)
    assert server.tracking.runs == {}


def test_latency_below_the_timeout_only_slows_the_run(
    server: FakeMlflowServer,
) -> None:
    server.service.delay(0.2, path=f"{API}/runs/update")
    tracked = tracker(server)
    tracked.start_run("r5", project="p")
    tracked.end_run("completed")
    (run,) = server.tracking.runs.values()
    assert run.status == "FINISHED"


def tracked_project(make_project: ProjectFactory, server: FakeMlflowServer) -> None:
    tracking = {"backend": "mlflow", "parameters": {"tracking_uri": server.url}}
    make_project(
        "remote", TRACKED_PIPELINE, "train evaluate", params={"epochs": 3},
        extra={"reproducibility": {"random_seed": 1, "experiment_tracking": tracking}},
    )  # fmt: skip


def test_a_pipeline_run_is_tracked_on_the_server(
    make_project: ProjectFactory, server: FakeMlflowServer
) -> None:
    tracked_project(make_project, server)
    report = MLPlatform().run_pipeline_for_project("remote")
    assert report.status is RunStatus.COMPLETED
    (run,) = server.tracking.runs.values()
    assert run.status == "FINISHED"
    assert run.tags["mlops.run_id"] == report.run_id
    assert run.params == {"epochs": "3", "train.epochs": "3"}
    assert {m["key"]: m["value"] for m in run.latest_metrics()} == {
        "train.loss": pytest.approx(1 / 3), "evaluate.accuracy": 0.9,
    }  # fmt: skip
    assert len(server.calls("runs/create")) == 1
    (update,) = server.calls("runs/update")
    assert update.json()["status"] == "FINISHED"


def test_an_unreachable_server_fails_the_run_before_any_process_runs(
    make_project: ProjectFactory, server: FakeMlflowServer, tmp_workspace: Path
) -> None:
    tracked_project(make_project, server)
    server.service.fail(status=503, times=None)
    with pytest.raises(TrackingError, match=r"^mlflow \(http://127\.0\.0\.1:\d+\): cannot start"):
        MLPlatform().run_pipeline_for_project("remote")
    platform = MLPlatform()
    assert list_runs(platform.open_stores("remote", platform.load("remote")[1]).kv) == []


def test_a_server_lost_mid_run_keeps_the_results(
    make_project: ProjectFactory, server: FakeMlflowServer
) -> None:
    tracked_project(make_project, server)

    def lose_the_server(record: ProcessRecord) -> None:
        server.service.fail(status=503, times=None)

    with pytest.warns(TrackingWarning, match="experiment tracking stopped during run") as caught:
        report = MLPlatform().run_pipeline_for_project("remote", on_update=lose_the_server)
    assert report.status is RunStatus.COMPLETED
    assert report.result("evaluate") == 30
    assert len(caught) == 1  # the first failure stops tracking; later metrics are not tried
    (warning,) = report.record["warnings"]
    assert warning.startswith(f"experiment tracking stopped during run {report.run_id}: mlflow (")
    assert "503" in warning
    # After the loss one batch failed (train's params), and nothing else was tried.
    batches = server.calls("runs/log-batch")
    assert [sorted(r.json()) for r in batches] == [["params", "run_id"], ["params", "run_id"]]
    (run,) = server.tracking.runs.values()
    assert run.status == "RUNNING"  # as MLflow shows a run whose client went away
