"""mlops job run end to end: the batch entry point runs a project on a real executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.projects import JOB_PIPELINE, ProjectFactory
from mlops.cluster import process_runner
from mlops.session.platform import MLPlatform
from mlops.tracking.run_records import get_run

pytestmark = pytest.mark.slow

PIPELINE = JOB_PIPELINE


WORKERS_PIPELINE = """
from distributed import get_client
from mlops import process

@process
def workers(ctx):
    return len(get_client().scheduler_info(n_workers=-1)["workers"])
"""


def test_every_argument_reaches_the_run(
    make_project: ProjectFactory, tmp_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project("mapped", PIPELINE, "read shout\nfail", params={"data_file": "x.csv"})
    (project / "rows.csv").write_text("rows")
    argv = ["--project", "mapped", "--workspace", str(tmp_workspace), "--no-cache",
            "--executor", "threads", "--n-workers", "2", "--training-data", "rows.csv",
            "--data-param", "data_file", "--run-id", "r1"]  # fmt: skip
    assert process_runner.main(argv) == 0, capsys.readouterr().err
    assert process_runner.main([*argv[:4], "--from", "shout", "--run-id", "r2"]) == 0
    kv = MLPlatform().open_stores("mapped").kv
    first, second = get_run(kv, "r1"), get_run(kv, "r2")
    assert first is not None
    assert second is not None
    assert (first["executor"], first["use_cache"]) == ("threads", False)
    assert second["selection"] == {"from": "shout", "only": None}
    assert first["processes"]["shout"]["status"] == "completed"


@pytest.mark.parametrize(
    ("configured", "expected"),
    [(None, 3), (2, 2)],
    ids=["slurm-sizes-it", "config-wins"],
)
def test_slurm_cpus_size_the_executor_when_the_config_does_not(
    make_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    configured: int | None,
    expected: int,
) -> None:
    extra = {"executor": {"n_workers": configured}} if configured else None
    make_project("sized", WORKERS_PIPELINE, "workers", extra=extra)
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "3")

    argv = ["--project", "sized", "--executor", "threads", "--run-id", "sized-run"]
    assert process_runner.main(argv) == 0, capsys.readouterr().err

    record = get_run(MLPlatform().open_stores("sized").kv, "sized-run")
    assert record is not None
    assert record["executor"] == "threads"
    cached = MLPlatform().run_pipeline_for_project("sized")
    assert cached.processes["workers"].cache_hit
    assert cached.result("workers") == expected
