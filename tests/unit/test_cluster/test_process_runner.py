"""The job entry point: arguments, SLURM's CPUs, data paths, selections, exit statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.projects import JOB_PIPELINE, ProjectFactory
from mlops.cluster import process_runner
from mlops.cluster.process_runner import resolve_data_path, slurm_cpus, suggested_workers
from mlops.errors import ConfigError
from mlops.session.platform import MLPlatform

PIPELINE = JOB_PIPELINE


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--project", "p", "--executor", "dask"], "'dask' is not one of 'sequential'"),
        (["--project", "p", "--n-workers", "many"], "'many' is not a valid integer"),
        (["--project", "p", "--n-workers", "0"], "0 is not in the range x>=1"),
        (["--project", "p", "--request", "{}"], "--request and --project cannot be used together"),
    ],
    ids=["dask-executor", "non-numeric-workers", "zero-workers", "request-and-project"],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert process_runner.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]


def test_a_missing_project_argument_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert process_runner.main([]) == 2
    err = capsys.readouterr().err
    assert err == (
        "mlops: error: one of --project or --request is required (see 'mlops job run --help')\n"
    )


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"SLURM_CPUS_PER_TASK": "8", "SLURM_CPUS_ON_NODE": "32"}, 8),
        ({"SLURM_CPUS_ON_NODE": "16"}, 16),
        ({"SLURM_JOB_CPUS_PER_NODE": "4(x2),2"}, 4),
        ({"SLURM_CPUS_PER_TASK": "", "SLURM_CPUS_ON_NODE": "0", "SLURM_JOB_CPUS_PER_NODE": "6"}, 6),
        ({"SLURM_CPUS_PER_TASK": "lots"}, None),
        ({}, None),
    ],
    ids=[
        "per-task-first",
        "on-node",
        "job-per-node",
        "skips-empty-and-zero",
        "garbage",
        "no-slurm",
    ],
)
def test_slurm_cpus_come_from_the_first_variable_with_a_number(
    environ: dict[str, str], expected: int | None
) -> None:
    assert slurm_cpus(environ) == expected


def test_a_configured_worker_count_wins_over_slurm() -> None:
    slurm = {"SLURM_CPUS_PER_TASK": "8"}
    assert suggested_workers(2, slurm) == 2
    assert suggested_workers(None, slurm) == 8
    assert suggested_workers(None, {}) is None


def test_data_paths_resolve_absolute_then_project_then_workspace(tmp_path: Path) -> None:
    project, workspace = tmp_path / "ws" / "projects" / "p", tmp_path / "ws"
    (project / "data").mkdir(parents=True)
    (project / "data" / "a.csv").write_text("p")
    (workspace / "shared").mkdir()
    (workspace / "shared" / "b.csv").write_text("w")
    (workspace / "data").mkdir()
    (workspace / "data" / "a.csv").write_text("shadowed")
    absolute = tmp_path / "abs.csv"
    absolute.write_text("a")

    def resolve(path: str) -> Path:
        return resolve_data_path(path, project_dir=project, workspace=workspace)

    assert resolve(str(absolute)) == absolute
    assert resolve("data/a.csv") == project / "data" / "a.csv"
    assert resolve("shared/b.csv") == workspace / "shared" / "b.csv"
    with pytest.raises(ConfigError, match=r"--training-data: nope.csv does not exist \(looked at "):
        resolve("nope.csv")


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = process_runner.main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_job_runs_the_project_with_the_training_data_it_was_given(
    make_project: ProjectFactory, tmp_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project("job", PIPELINE, "read shout\nfail", params={"data_file": "x.csv"})
    (project / "rows.csv").write_text("rows from the job")

    status, out, err = run_main(
        ["--project", "job", "--workspace", str(tmp_workspace), "--training-data", "rows.csv"],
        capsys,
    )

    assert status == 0, err
    assert out.startswith("run ")
    assert "completed on local: 3 completed" in out

    rerun = MLPlatform().run_pipeline_for_project(
        "job", param_overrides={"data_file": str(project / "rows.csv")}
    )
    assert rerun.result("shout") == "ROWS FROM THE JOB"
    assert rerun.processes["shout"].cache_hit


def test_only_and_from_select_processes(
    make_project: ProjectFactory, tmp_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project("select", PIPELINE, "read shout\nfail", params={"data_file": "x.csv"})
    base = ["--project", "select", "--workspace", str(tmp_workspace)]
    assert run_main(base, capsys)[0] == 0

    status, out, _ = run_main([*base, "--only", "shout"], capsys)
    assert status == 0
    assert out.rstrip().endswith("completed on local: 1 cached, 1 completed, 1 skipped")

    status, out, _ = run_main([*base, "--from", "read"], capsys)
    assert status == 0
    assert out.rstrip().endswith("completed on local: 1 cached, 2 completed")


def test_a_failed_process_exits_1_and_a_config_problem_exits_2(
    make_project: ProjectFactory, tmp_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(
        "broken", PIPELINE, "read shout\nfail", params={"data_file": "x.csv", "fail_now": True}
    )
    base = ["--project", "broken", "--workspace", str(tmp_workspace)]

    status, out, _ = run_main(base, capsys)
    assert status == 1
    assert "failed on local" in out
    assert out.rstrip().endswith("failed: fail")

    status, _, err = run_main([*base, "--training-data", "missing.csv"], capsys)
    assert status == 2
    assert err.startswith("mlops: error: --training-data: missing.csv does not exist")

    status, _, err = run_main(["--project", "ghost", "--workspace", str(tmp_workspace)], capsys)
    assert status == 2
    assert "no project 'ghost'" in err
