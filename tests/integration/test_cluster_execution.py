"""Pipelines on real Dask clusters: an external scheduler with two workers, and a LocalCluster.

The external cluster is a ``dask scheduler`` and two ``dask worker``
subprocesses on loopback, started with none of the test's mlops variables, so
the workers know only what a run sends them (its variables and its code).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.cli import run_mlops
from fixtures.projects import ProjectFactory, write_module
from fixtures.servers import DaskCluster, dask_cluster, free_port
from mlops.cluster.providers import ClusterWarning, SlurmClusterProvider
from mlops.errors import ClusterError
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform, RunReport

pytestmark = pytest.mark.slow

PIPELINE = """
import json
import os
from pathlib import Path
from mlops import process

@process
def load(ctx, data_file):
    return json.loads((Path(ctx.project_dir) / data_file).read_text())

@process
def double(ctx, load):
    return [2 * x for x in load]

@process
def square(ctx, load):
    return [x * x for x in load]

@process
def total(ctx, double, square):
    ctx.log_metric("total", sum(double) + sum(square))
    return {"double": sum(double), "square": sum(square)}

@process
def where(ctx):
    return {
        "pid": os.getpid(),
        "project_dir": str(ctx.project_dir),
        "project": os.environ.get("MLOPS_PROJECT_ID"),
        "execution": os.environ.get("MLOPS_EXECUTION"),
        "flag": os.environ.get("RUN_FLAG"),
    }
"""
ADJLIST = "load double square\ndouble total\nsquare total\nwhere"
RESULTS = ("load", "double", "square", "total")


@pytest.fixture(scope="module")
def external_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    with dask_cluster(tmp_path_factory.mktemp("dask"), workers=2) as cluster:
        yield cluster


def make_demo(make_project: ProjectFactory, name: str, **cluster: Any) -> Path:
    project = make_project(
        name,
        PIPELINE,
        ADJLIST,
        params={"data_file": "data/numbers.json"},
        extra={"cluster": cluster} if cluster else None,
    )
    (project / "data").mkdir(exist_ok=True)
    (project / "data" / "numbers.json").write_text("[1, 2, 3, 4]", encoding="utf-8")
    return project


def cache_keys(platform: MLPlatform, name: str) -> set[str]:
    _, config = platform.load(name)
    stores = platform.open_stores(name, config)
    try:
        return {k.removeprefix("cache/entries/") for k in stores.kv.keys("cache/entries/")}
    finally:
        stores.kv.close()
        stores.objects.close()


def results(report: RunReport) -> dict[str, Any]:
    return {name: report.result(name) for name in RESULTS}


def test_a_pipeline_on_an_existing_scheduler_matches_a_local_run(
    make_project: ProjectFactory, external_cluster: DaskCluster
) -> None:
    # The same project twice (each project has its own stores): one run here, one on the cluster.
    make_demo(make_project, "here", env={"RUN_FLAG": "from-config"})
    project = make_demo(make_project, "there", env={"RUN_FLAG": "from-config"})
    platform = MLPlatform()
    local = platform.run_pipeline_for_project("here")
    remote = platform.run_on_cluster(
        "there", provider="ansible", scheduler_address=external_cluster.address
    )
    local_keys = cache_keys(platform, "here")

    assert local.ok
    assert remote.ok
    assert (
        results(remote)
        == results(local)
        == {
            "load": [1, 2, 3, 4],
            "double": [2, 4, 6, 8],
            "square": [1, 4, 9, 16],
            "total": {"double": 20, "square": 30},
        }
    )
    assert cache_keys(platform, "there") == local_keys
    assert len(local_keys) == 5

    where = remote.result("where")
    assert where["pid"] != os.getpid()
    assert where["project"] == "there"
    assert where["execution"] == "cluster"
    assert where["flag"] == "from-config"
    # The project was uploaded: the workers read their own copy of it.
    assert Path(where["project_dir"]) != project
    assert "mlops-code" in Path(where["project_dir"]).parts

    record = remote.record
    assert record["execution"] == {
        "path": "cluster",
        "provider": "ansible",
        "scheduler": external_cluster.address,
        "workers": 2,
        "code": "upload",
    }
    assert record["executor"] == "dask"
    assert local.record["execution"]["path"] == "local"


def test_long_lived_workers_pick_up_changed_code_and_reuse_unchanged_results(
    make_project: ProjectFactory, external_cluster: DaskCluster
) -> None:
    project = make_demo(make_project, "evolving")
    platform = MLPlatform()
    first = platform.run_on_cluster(
        "evolving", provider="ansible", scheduler_address=external_cluster.address
    )
    assert first.ok
    write_module(project, "pipeline.py", PIPELINE.replace("2 * x for x", "3 * x for x"))

    second = platform.run_on_cluster(
        "evolving", provider="ansible", scheduler_address=external_cluster.address
    )

    assert second.ok
    assert second.result("double") == [3, 6, 9, 12]
    assert second.result("total") == {"double": 30, "square": 30}
    reused = {n for n, r in second.processes.items() if r.cache_hit}
    assert reused == {"load", "square", "where"}


def test_an_unreachable_scheduler_means_a_warning_and_a_local_run(
    make_project: ProjectFactory,
) -> None:
    make_demo(make_project, "fallback", connect_timeout=2)
    closed = f"tcp://127.0.0.1:{free_port()}"

    with pytest.warns(
        ClusterWarning, match=r"cluster \(ansible\): cannot reach the Dask scheduler"
    ):
        report = MLPlatform().run_on_cluster(
            "fallback", provider="ansible", scheduler_address=closed
        )

    assert report.ok
    assert results(report)["total"] == {"double": 20, "square": 30}
    execution = report.record["execution"]
    assert execution["path"] == "local"
    assert execution["provider"] == "ansible"
    assert execution["scheduler"] == closed
    assert "cannot reach the Dask scheduler" in execution["fallback"]
    assert report.result("where")["pid"] == os.getpid()


def test_a_required_cluster_that_is_unreachable_fails_before_anything_runs(
    make_project: ProjectFactory,
) -> None:
    make_demo(make_project, "strict", required=True, connect_timeout=2)
    closed = f"tcp://127.0.0.1:{free_port()}"
    platform = MLPlatform()

    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler") as caught:
        platform.run_on_cluster("strict", provider="ansible", scheduler_address=closed)

    assert caught.value.exit_code == 2
    assert cache_keys(platform, "strict") == set()


def test_the_local_provider_runs_on_worker_processes(make_project: ProjectFactory) -> None:
    make_demo(make_project, "local-cluster", options={"n_workers": 2})

    report = MLPlatform().run_on_cluster("local-cluster", provider="local")

    assert report.ok, {n: (r.status, r.error, r.traceback) for n, r in report.processes.items()}
    assert results(report)["total"] == {"double": 20, "square": 30}
    assert report.result("where")["pid"] != os.getpid()
    execution = report.record["execution"]
    assert (execution["path"], execution["provider"], execution["workers"]) == (
        "cluster",
        "local",
        2,
    )
    assert execution["code"] == "local"


# ------------------------------------------------------------------ through the commands


def test_mlops_run_cluster_through_the_cli(
    make_project: ProjectFactory, external_cluster: DaskCluster, tmp_workspace: Path
) -> None:
    make_demo(make_project, "cli")

    done = run_mlops(
        tmp_workspace, "run", "cli", "--local", "--cluster", "ansible",
        "--scheduler", external_cluster.address,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    run = _latest(tmp_workspace, "cli")
    assert run is not None
    assert run["execution"]["path"] == "cluster"
    assert run["status"] == "completed"


def test_cli_fallback_warns_and_required_exits_2(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    make_demo(make_project, "cli-fallback", connect_timeout=2)
    closed = f"tcp://127.0.0.1:{free_port()}"

    relaxed = run_mlops(
        tmp_workspace,
        "run",
        "cli-fallback",
        "--local",
        "--cluster",
        "ansible",
        "--scheduler",
        closed,
    )
    assert relaxed.returncode == 0, relaxed.stderr
    assert "mlops: warning: cluster (ansible): cannot reach the Dask scheduler" in relaxed.stderr

    make_demo(make_project, "cli-strict", connect_timeout=2, required=True)
    strict = run_mlops(
        tmp_workspace, "run", "cli-strict", "--local", "--cluster", "ansible", "--scheduler", closed
    )
    assert strict.returncode == 2
    lines = strict.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "mlops: error: cluster (ansible): cannot reach the Dask scheduler at"
    )
    assert "cluster.required: false" in lines[0]
    assert _latest(tmp_workspace, "cli-strict") is None


def test_process_runner_runs_a_project_on_the_cluster(
    make_project: ProjectFactory, external_cluster: DaskCluster, tmp_workspace: Path
) -> None:
    import subprocess
    import sys

    make_demo(make_project, "job")
    env = {k: v for k, v in os.environ.items() if k != "MLOPS_WORKSPACE_DIR"}
    done = subprocess.run(
        [sys.executable, "-m", "mlops.cluster.process_runner", "--project", "job",
         "--workspace", str(tmp_workspace), "--cluster", "ansible",
         "--scheduler", external_cluster.address],
        capture_output=True, text=True, env=env, check=False, timeout=180,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("run ")
    assert "completed on cluster (ansible): 5 completed" in done.stdout


def _latest(workspace: Path, project: str) -> dict[str, Any] | None:
    from mlops.tracking.run_records import latest_run

    platform = MLPlatform(Workspace.resolve(workspace))
    _, config = platform.load(project)
    stores = platform.open_stores(project, config)
    try:
        return latest_run(stores.kv)
    finally:
        stores.kv.close()
        stores.objects.close()


@pytest.mark.slow
def test_slurm_without_dask_jobqueue_warns_and_runs_a_local_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # an import of it fails
    provider = SlurmClusterProvider({"cores": 1})

    with pytest.warns(ClusterWarning, match=r"needs dask-jobqueue.*pip install 'mlops\[cluster\]'"):
        client, cluster = provider.start()
    try:
        assert type(cluster).__name__ == "LocalCluster"
        assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
    finally:
        provider.stop()
    assert provider.client is None
