"""Results do not depend on the executor or the worker count; a handed-in client stays open."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fixtures.projects import ProjectFactory
from mlops.session.platform import MLPlatform


def random_dag_project(seed: int, size: int = 8) -> tuple[str, str]:
    """Module source and adjacency text of a seeded random DAG of summing processes."""
    rng = random.Random(seed)  # noqa: S311 - a seeded graph shape, not a secret
    names = [f"p{i}" for i in range(size)]
    edges = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :] if rng.random() < 0.3]
    lines = ["import random", "from mlops import process", ""]
    for i, name in enumerate(names):
        lines += [
            "@process",
            f"def {name}(ctx):",
            "    upstream = sum(ctx.get_step_result(u) for u in sorted(ctx.upstream))",
            # A generator of its own: threads share the global one (see seed_process).
            f"    return {i} + 2 * upstream + random.Random(ctx.seed * 100 + {i}).random()",
            "",
        ]
    adjacency = "\n".join([*names, *(f"{a} {b}" for a, b in edges)])
    return "\n".join(lines), adjacency


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_dags_give_the_same_results_on_every_executor(
    make_project: ProjectFactory, seed: int
) -> None:
    source, adjacency = random_dag_project(seed)
    outcomes: dict[str, dict[str, Any]] = {}
    for label, executor, workers in (
        ("sequential", "sequential", None),
        ("threads-1", "threads", 1),
        ("threads-2", "threads", 2),
    ):
        extra = {"executor": {"threads_per_worker": workers}} if workers else {}
        make_project(f"dag-{label}", source, adjacency, extra=extra)
        report = MLPlatform().run_pipeline_for_project(f"dag-{label}", executor=executor)
        assert report.ok
        outcomes[label] = {name: report.result(name) for name in report.processes}
    assert outcomes["sequential"] == outcomes["threads-1"] == outcomes["threads-2"]


def test_processes_executor_runs_in_worker_processes_with_shared_stores(
    make_project: ProjectFactory,
) -> None:
    source = """
        import os
        from mlops import process

        @process
        def left(ctx):
            ctx.log_metric("pid", os.getpid())
            return os.getpid()

        @process
        def right():
            return b"y" * 2_000_000

        @process
        def join(left, right):
            return [left, len(right), os.getpid()]
    """
    make_project("procs", source, "left join\nright join")
    platform = MLPlatform()
    report = platform.run_pipeline_for_project("procs", executor="processes")
    assert report.ok, {n: (r.status, r.error, r.traceback) for n, r in report.processes.items()}
    left_pid, size, join_pid = report.result("join")
    assert size == 2_000_000
    assert os_pid() not in (left_pid, join_pid)
    assert report.record["metrics"]["left.pid"] == float(left_pid)
    cached = platform.run_pipeline_for_project("procs", executor="processes")
    assert {r.status.value for r in cached.processes.values()} == {"cached"}


def os_pid() -> int:
    import os

    return os.getpid()


def test_a_client_handed_in_is_used_and_left_open(make_project: ProjectFactory) -> None:
    from distributed import Client, LocalCluster

    make_project("client", "from mlops import process\n\n"
                 "@process\ndef one():\n    return 1\n", "one")  # fmt: skip
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address="127.0.0.1:0") as cluster,
        Client(cluster) as client,
    ):
        report = MLPlatform().run_pipeline_for_project("client", client=client)
        assert report.ok
        assert report.record["executor"] == "dask"
        assert client.status == "running"
        assert client.submit(lambda: 41 + 1).result() == 42
