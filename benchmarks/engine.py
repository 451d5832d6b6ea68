"""Pipeline engine overhead and speed, measured side by side in one run.

(a) 1,000 no-op processes as a chain and as a wide fan-out: milliseconds per
    process for our scheduler on the sequential executor and on Dask threads,
    Kedro's SequentialRunner, and raw ``dask.delayed`` on the same graph.
    Our runs include cache keys and result stores (in-memory stores, so disk
    speed is not what is measured; the disk case is (c)).
(b) 2 independent CPU-bound processes of about 1 s each: wall time on the
    processes executor (started before timing, and including its start).
(c) 100 processes of about 20 ms on the default sqlite/local stores: a cold
    run against a fully cached rerun.
(d) The project templates' pipeline (custom) on each executor, cluster start
    included: the evidence for the default executor.

Run by ``nox -s bench``; prints markdown tables. ``--quick`` shrinks sizes.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import logging
import os
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _timing import median_seconds
from mlops.cache.step_state_manager import StepStateManager
from mlops.cluster.local_executors import create_executor
from mlops.config.graph import PipelineGraph
from mlops.engine.executors import Executor
from mlops.engine.scheduler import DaskNetworkXExecutor, RunPlan
from mlops.engine.step_system import ProcessDefinition, ProcessOptions
from mlops.engine.store_transport import LiveStores, StoreHandle
from mlops.storage.backends.memory import MemoryKVStore, MemoryObjectStore
from mlops.storage.factory import create_kv_store, create_object_store
from mlops.storage.settings import StoreSettings

PROCESSES_MODULE = """
import time


def noop(ctx):
    return None


def burn(ctx, loops):
    total = 0
    for i in range(loops):
        total += i * i % 7
    return total


def nap(ctx):
    time.sleep(0.02)
    return ctx.process_name
"""


def load_functions(folder: Path) -> Any:
    """The benchmark's process functions, in a module workers can import too."""
    name = f"bench_processes_{uuid.uuid4().hex[:6]}"
    (folder / f"{name}.py").write_text(textwrap.dedent(PROCESSES_MODULE), encoding="utf-8")
    sys.path.insert(0, str(folder))
    return __import__(name)


def chain(n: int) -> PipelineGraph:
    nodes = [f"p{i}" for i in range(n)]
    return PipelineGraph.from_edges(nodes, itertools.pairwise(nodes))


def fan_out(n: int) -> PipelineGraph:
    nodes = [f"p{i}" for i in range(n)]
    return PipelineGraph.from_edges(nodes, [("p0", leaf) for leaf in nodes[1:]])


def run_graph(
    graph: PipelineGraph,
    function: Callable[..., Any],
    executor: Executor,
    stores: StoreHandle,
    *,
    source_root: Path,
    params: dict[str, Any] | None = None,
    use_cache: bool = True,
) -> DaskNetworkXExecutor:
    kv, objects = stores.open()
    definitions = {
        name: ProcessDefinition(function, ProcessOptions(name=name)) for name in graph.order
    }
    plan = RunPlan(
        graph,
        definitions,
        run_id=uuid.uuid4().hex,
        project="bench",
        params=params or {},
        source_root=source_root,
        use_cache=use_cache,
    )
    scheduler = DaskNetworkXExecutor(
        plan, executor=executor, state=StepStateManager(kv, objects), stores=stores
    )
    run = scheduler.run()
    if run.status.value != "completed":
        failed = run.failed_process
        raise SystemExit(f"benchmark run failed at {failed}: {run.processes[str(failed)].error}")
    return scheduler


def memory_stores() -> LiveStores:
    return LiveStores(MemoryKVStore("bench"), MemoryObjectStore())


# ------------------------------------------------------------------ (a) overhead


def kedro_seconds(shape: str, n: int, repeat: int) -> float | None:
    # Kedro ships a telemetry plugin; a benchmark must not talk to anyone.
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    try:
        from kedro.io import DataCatalog
        from kedro.pipeline import node, pipeline
        from kedro.runner import SequentialRunner
    except ImportError:
        return None
    logging.getLogger("kedro").setLevel(logging.ERROR)

    def identity(*_: Any) -> int:
        return 0

    if shape == "chain":
        nodes = [node(identity, None, "d0", name="n0")] + [
            node(identity, f"d{i - 1}", f"d{i}", name=f"n{i}") for i in range(1, n)
        ]
    else:
        nodes = [node(identity, None, "root", name="n0")] + [
            node(identity, "root", f"d{i}", name=f"n{i}") for i in range(1, n)
        ]
    built = pipeline(nodes)
    return median_seconds(lambda: SequentialRunner().run(built, DataCatalog()), repeat)


def delayed_seconds(shape: str, n: int, repeat: int) -> float:
    from dask.base import compute
    from dask.delayed import delayed

    def identity(*_: Any) -> int:
        return 0

    def build() -> Any:
        step = delayed(identity, pure=False)
        if shape == "chain":
            value = step()
            for _ in range(1, n):
                value = step(value)
            return value
        root = step()
        return delayed(list)([step(root) for _ in range(1, n)])

    return median_seconds(lambda: compute(build(), scheduler="sync"), repeat)


def overhead_table(n: int, repeat: int, functions: Any, root: Path) -> list[str]:
    rows = ["| graph | runner | ms / process | vs Kedro |", "|---|---|---:|---:|"]
    threads = create_executor("threads")

    def measure(graph: PipelineGraph, executor: Callable[[], Executor]) -> float:
        def once() -> None:
            run_graph(graph, functions.noop, executor(), memory_stores(), source_root=root)

        return median_seconds(once, repeat)

    try:
        threads.submit(int).result()  # start the cluster before timing
        for shape, graph in (("chain", chain(n)), ("fan-out", fan_out(n))):
            kedro = kedro_seconds(shape, n, repeat)
            results = {
                "mlops sequential": measure(graph, lambda: create_executor("sequential")),
                "mlops Dask threads": measure(graph, lambda: threads),
                "dask.delayed (sync)": delayed_seconds(shape, n, repeat),
            }
            if kedro is not None:
                results["Kedro SequentialRunner"] = kedro
            for runner, seconds in results.items():
                ratio = f"{seconds / kedro:.2f}x" if kedro else "n/a"
                rows.append(f"| {shape} ({n}) | {runner} | {seconds * 1000 / n:.3f} | {ratio} |")
    finally:
        threads.close()
    return rows


# ------------------------------------------------------------------ (b) parallel CPU work


def calibrate_loops(functions: Any, target: float = 1.0) -> int:
    """Loops that take ``target`` seconds here: sized on a 0.3 s sample, then checked once."""

    def timed(loops: int, repeat: int) -> float:
        return median_seconds(functools.partial(functions.burn, None, loops), repeat)

    loops = 100_000
    while (took := timed(loops, 1)) < 0.3:
        loops *= 2
    loops = int(loops * target / took)
    return int(loops * target / timed(loops, 3))


def parallel_table(functions: Any, root: Path, state_dir: Path) -> list[str]:
    loops = calibrate_loops(functions)
    graph = PipelineGraph.from_edges(["a", "b"], [])
    settings = StoreSettings(None, {"backend": "local", "root": "objects"}, str(state_dir), "par")
    rows = ["| executor | wall time (s) | vs one after the other | target |",
            "|---|---:|---:|---|"]  # fmt: skip

    def once(executor: Executor) -> float:
        start = time.perf_counter()
        run_graph(graph, functions.burn, executor, settings if not executor.in_process
                  else LiveStores(*settings.open()), source_root=root,
                  params={"loops": loops}, use_cache=False)  # fmt: skip
        return time.perf_counter() - start

    single = once(create_executor("sequential"))
    rows.append(f"| sequential (one process after the other) | {single:.2f} | 1.00x | - |")
    processes = create_executor("processes")
    try:
        started = time.perf_counter()
        processes.submit(int).result()
        startup = time.perf_counter() - started
        warm = min(once(processes) for _ in range(3))
    finally:
        processes.close()
    rows.append(
        f"| processes, cluster already started | {warm:.2f} | {warm / single:.2f}x | <= 1.3 s |"
    )
    total = warm + startup
    rows.append(f"| processes, including cluster start | {total:.2f} | {total / single:.2f}x | - |")
    return rows


# ------------------------------------------------------------------ (c) cache


def cache_table(functions: Any, root: Path, state_dir: Path, n: int) -> list[str]:
    nodes = [f"p{i}" for i in range(n)]
    graph = PipelineGraph.from_edges(nodes, itertools.pairwise(nodes))
    kv = create_kv_store(None, state_dir=state_dir, namespace="cache-bench")
    objects = create_object_store({"backend": "local", "root": "objects/cache-bench"},
                                  state_dir=state_dir)  # fmt: skip
    stores = LiveStores(kv, objects)
    start = time.perf_counter()
    run_graph(graph, functions.nap, create_executor("sequential"), stores, source_root=root)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    scheduler = run_graph(graph, functions.nap, create_executor("sequential"), stores,
                          source_root=root)  # fmt: skip
    warm = time.perf_counter() - start
    reused = sum(r.cache_hit for r in scheduler.records.values())
    return [
        "| run | wall time (s) | processes reused |",
        "|---|---:|---:|",
        f"| cold ({n} x 20 ms) | {cold:.3f} | 0 |",
        f"| fully cached rerun | {warm:.3f} | {reused} |",
        f"| **speed-up** | **{cold / warm:.0f}x** | target >= 20x |",
    ]


# ------------------------------------------------------------------ (d) the default executor


def template_table(workspace: Path) -> list[str]:
    from mlops.runtime.workspace import Workspace
    from mlops.session.platform import MLPlatform

    platform = MLPlatform(Workspace.resolve(workspace))
    platform.projects.create("demo", template="custom")
    rows = ["| executor | custom template, cold run (s) |", "|---|---:|"]
    for kind in ("sequential", "threads", "processes"):
        start = time.perf_counter()
        report = platform.run_pipeline_for_project("demo", executor=kind, use_cache=False)
        took = time.perf_counter() - start
        if not report.ok:
            raise SystemExit(f"template run failed on {kind}")
        rows.append(f"| {kind} | {took:.3f} |")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller graphs, one repeat")
    args = parser.parse_args(argv)
    n, repeat = (200, 1) if args.quick else (1000, 3)
    with tempfile.TemporaryDirectory(prefix="mlops-engine-bench-") as scratch:
        root = Path(scratch)
        source_root = root / "src"
        source_root.mkdir()
        functions = load_functions(source_root)
        sections = [
            ("(a) per-process overhead, no-op processes", overhead_table(n, repeat, functions,
                                                                        source_root)),
            ("(b) two ~1 s CPU-bound processes on 2 cores", parallel_table(functions, source_root,
                                                                           root / "state")),
            ("(c) cold run vs fully cached rerun", cache_table(functions, source_root,
                                                              root / "state", 100)),
            ("(d) the custom template on each executor (cluster start included)",
             template_table(root / "workspace")),
        ]  # fmt: skip
    print(f"## Pipeline engine ({os.cpu_count()} cores, Python {sys.version.split()[0]})\n")
    for title, rows in sections:
        print(f"### {title}\n")
        print("\n".join(rows))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
