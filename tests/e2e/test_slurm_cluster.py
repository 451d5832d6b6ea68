"""`mlops run --cluster slurm` against a real single-node SLURM (Debian's slurm-wlm and munge).

Runs in `nox -s slurm` (or with MLOPS_TEST_SLURM=1); skipped with the reason
where the SLURM or munge programs are not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.projects import ProjectFactory
from fixtures.slurm import Slurm, missing_binaries, slurm_cluster
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform
from mlops.tracking.run_records import latest_run

MISSING = missing_binaries()
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"not installed: {', '.join(MISSING)} (apt-get install slurm-wlm munge)",
    ),
]

PIPELINE = """
import os
from mlops import process

@process
def numbers(ctx):
    return list(range(1, 6))

@process
def total(ctx, numbers):
    return sum(numbers)

@process
def job(ctx):
    return {"job_id": os.environ.get("SLURM_JOB_ID"), "project": os.environ.get("MLOPS_PROJECT_ID")}
"""


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slurm]:
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as cluster:
        yield cluster


def test_a_project_runs_on_dask_workers_that_are_slurm_jobs(
    make_project: ProjectFactory, slurm: Slurm, tmp_workspace: Path
) -> None:
    make_project(
        "on-slurm",
        PIPELINE,
        "numbers total\njob",
        extra={
            "cluster": {
                "required": True,
                "options": {
                    "cores": 1,
                    "memory": "512MB",
                    "walltime": "00:10:00",
                    "queue": slurm.partition,
                    "jobs": 1,
                    "worker_timeout": 120,
                    "log_directory": str(slurm.workdir / "jobs"),
                    "scheduler_options": {"host": "127.0.0.1"},
                    "worker_extra_args": ["--host", "127.0.0.1"],
                },
            }
        },
    )
    env = {**slurm.env, "MLOPS_WORKSPACE_DIR": str(tmp_workspace)}
    script = Path(sys.executable).parent / "mlops"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "mlops.main"]

    done = subprocess.run(
        [*argv, "run", "on-slurm", "--local", "--cluster", "slurm"],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr + slurm.log("slurmctld")[-2000:]
    platform = MLPlatform(Workspace.resolve(tmp_workspace))
    _, config = platform.load("on-slurm")
    stores = platform.open_stores("on-slurm", config)
    try:
        record = latest_run(stores.kv)
    finally:
        stores.kv.close()
        stores.objects.close()
    assert record is not None
    assert record["status"] == "completed"
    assert record["execution"]["path"] == "cluster"
    assert record["execution"]["provider"] == "slurm"
    assert record["execution"]["workers"] >= 1
    report = json.dumps(record)
    assert "on-slurm" in report
    # The processes ran inside a SLURM job, with the run's exported variables.
    result = MLPlatform(Workspace.resolve(tmp_workspace)).run_pipeline_for_project("on-slurm")
    job = result.result("job")
    assert result.processes["job"].cache_hit
    assert job["job_id"] is not None
    assert job["project"] == "on-slurm"
