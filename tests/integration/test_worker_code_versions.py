"""Project code on worker processes: several versions at once, and results by plain names.

A worker imports each version of a project's code under a name of its own;
what leaves it (results, cache entries) names the project's classes as the
driver and a user's shell know them: ``pipeline.Model``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures.code_versions import run_round, soak
from fixtures.projects import ProjectFactory
from mlops.cluster.local_executors import local_client
from mlops.session.platform import MLPlatform

pytestmark = pytest.mark.slow

MODEL_PIPELINE = """
import os
from dataclasses import dataclass

import helpers
from mlops import process


@dataclass(frozen=True)
class Model:
    weights: tuple
    pid: int


@process
def train(ctx):
    return Model(helpers.WEIGHTS, os.getpid())


@process
def evaluate(ctx, train):
    if not isinstance(train, Model):
        raise TypeError(f"{type(train).__module__}.{type(train).__qualname__} is not a Model")
    return {"total": sum(train.weights), "model": train}
"""


def test_tasks_of_three_code_versions_at_once_on_two_fresh_workers(tmp_path: Path) -> None:
    client = local_client(n_workers=2, threads_per_worker=2)
    try:
        problems = run_round(client, tmp_path)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()

    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    "place",
    [{"cluster": "local"}, {"executor": "processes"}],
    ids=["local-cluster", "processes"],
)
def test_project_classes_made_on_workers_read_back_by_their_plain_names(
    make_project: ProjectFactory, tmp_workspace: Path, place: dict[str, str]
) -> None:
    extra: dict[str, Any] = {}
    if "cluster" in place:
        extra["cluster"] = {"provider": "local", "options": {"n_workers": 2}}
    project = make_project(
        "models",
        {"pipeline.py": MODEL_PIPELINE, "helpers.py": "WEIGHTS = (1, 2, 3)\n"},
        "train evaluate",
        extra=extra,
    )
    platform = MLPlatform()

    if "cluster" in place:
        report = platform.run_on_cluster("models", provider="local")
    else:
        report = platform.run_pipeline_for_project("models", executor=place["executor"])

    assert report.ok, {n: (r.status, r.error, r.traceback) for n, r in report.processes.items()}
    pipeline = sys.modules["pipeline"]  # the driver's own import of the project
    evaluation = report.result("evaluate")
    assert evaluation["total"] == 6
    assert type(evaluation["model"]) is pipeline.Model
    assert type(report.result("train")) is pipeline.Model
    assert report.result("train").pid != os.getpid()
    # A user's shell, with the project's src/ on its path and nothing else of the run.
    code = (
        "import mlops; m = mlops.load_result('models', 'evaluate')['model']; "
        "print(type(m).__module__, type(m).__qualname__, m.weights)"
    )
    shell = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "MLOPS_WORKSPACE_DIR": str(tmp_workspace),
             "PYTHONPATH": str(project / "src")},
    )  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split() == ["pipeline", "Model", "(1,", "2,", "3)"]


@pytest.mark.soak
def test_soak_tasks_of_changing_code_on_fresh_two_worker_clusters(tmp_path: Path) -> None:
    """``nox -s soak``: ``MLOPS_SOAK_ROUNDS`` rounds (default 200), one fresh cluster each."""
    rounds = int(os.environ.get("MLOPS_SOAK_ROUNDS", "200"))

    def report(line: str) -> None:
        print(line, flush=True)  # the soak's progress, shown live with -s

    failed = soak(
        rounds,
        tmp_path,
        lambda: local_client(n_workers=2, threads_per_worker=2),
        report,
    )

    assert failed == 0, f"soak: {failed} failed / {rounds} rounds"
