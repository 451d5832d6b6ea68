"""The job script each SLURM worker runs, read back as data (no SLURM needed)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest

from mlops.cluster.providers import SlurmClusterProvider
from mlops.runtime.env_export import from_shell

pytestmark = pytest.mark.slow


def parse_job_script(script: str) -> dict[str, object]:
    """Directives (``#SBATCH`` flags -> values), exported variables and the worker command."""
    directives: dict[str, str | bool] = {}
    exports: list[str] = []
    commands: list[list[str]] = []
    for line in script.splitlines():
        if line.startswith("#SBATCH"):
            words = shlex.split(line)[1:]
            flag = words[0]
            if "=" in flag:
                flag, _, value = flag.partition("=")
                directives[flag] = value
            else:
                directives[flag] = words[1] if len(words) > 1 else True
        elif line.startswith("export "):
            exports.append(line)
        elif line.strip() and not line.startswith("#"):
            commands.append(shlex.split(line))
    return {"directives": directives, "exports": from_shell(exports), "commands": commands}


@pytest.fixture
def job_script() -> Iterator[str]:
    provider = SlurmClusterProvider(
        {
            "cores": 4,
            "memory": "8GB",
            "processes": 2,
            "walltime": "02:00:00",
            "queue": "gpu",
            "account": "ml-team",
            "job_name": "mlops-demo",
            "job_extra_directives": ["--exclusive", "--gres=gpu:1"],
            "job_script_prologue": ["module load cuda/12"],
            "scheduler_options": {"host": "127.0.0.1"},
        },
        python="/ws/.mlops/envs/venv-1234/bin/python",
        exports={"MLOPS_PROJECT_ID": "demo", "MLOPS_KV_CONFIG": '{"backend": "redis"}'},
    )
    cluster = provider.make_cluster()
    try:
        yield cluster.job_script()
    finally:
        cluster.close()


def test_the_directives_say_what_the_options_asked_for(job_script: str) -> None:
    directives = parse_job_script(job_script)["directives"]

    assert directives == {
        "-J": "mlops-demo",
        "-p": "gpu",
        "-A": "ml-team",
        "-n": "1",
        "--cpus-per-task": "4",
        "--mem": "8G",  # dask-jobqueue rounds 8GB (decimal) to whole binary units
        "-t": "02:00:00",
        "--exclusive": True,
        "--gres": "gpu:1",
    }


def test_the_prologue_exports_the_run_then_runs_the_users_lines(job_script: str) -> None:
    parsed = parse_job_script(job_script)

    assert parsed["exports"] == {
        "MLOPS_PROJECT_ID": "demo",
        "MLOPS_KV_CONFIG": '{"backend": "redis"}',
    }
    lines = job_script.splitlines()
    assert lines.index("module load cuda/12") > max(
        i for i, line in enumerate(lines) if line.startswith("export ")
    )


def test_the_worker_runs_the_project_environments_interpreter(job_script: str) -> None:
    commands = parse_job_script(job_script)["commands"]
    worker = commands[-1]  # type: ignore[index]

    assert worker[:3] == [
        "/ws/.mlops/envs/venv-1234/bin/python",
        "-m",
        "distributed.cli.dask_worker",
    ]
    assert worker[3].startswith("tcp://127.0.0.1:")
    options = dict(zip(worker[4::2], worker[5::2], strict=False))
    assert options["--nworkers"] == "2"
    assert options["--nthreads"] == "2"
