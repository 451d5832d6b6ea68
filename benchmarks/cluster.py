"""Cluster execution, measured side by side in one run.

A project of 8 independent CPU-bound processes of about 1 s each (calibrated
on this machine), run with the cache off:

- sequential, in this process;
- the ``local`` provider: a LocalCluster of 2 single-threaded worker
  processes, timed once already started (the run alone) and once with its start;
- the ``ansible`` provider: an external ``dask scheduler`` with 2 ``dask
  worker`` subprocesses on loopback, the run including connecting, the worker
  plugin and the project upload.

Speed-up is sequential time over wall time. Per-task overhead is what the
cluster adds to each process: (wall x workers - total compute) / processes,
where total compute is the sum of the sequential run's process durations.

Run by ``nox -s bench -- benchmarks/cluster.py``; ``--quick`` shrinks sizes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from _timing import BURN, burn_loops

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the suite's loopback cluster helper
from fixtures.servers import dask_cluster  # noqa: E402
from mlops.cluster.local_executors import local_client  # noqa: E402
from mlops.managers.project_manager import ProjectManager  # noqa: E402
from mlops.runtime.workspace import Workspace  # noqa: E402
from mlops.session.platform import MLPlatform, RunReport  # noqa: E402

WORKERS = 2

PIPELINE = "from mlops import process\n" + BURN + "\n{processes}\n"

PROCESS = """
@process(name="task{index}")
def task{index}(ctx, loops):
    return burn(loops)
"""


def make_workspace(folder: Path, tasks: int, loops: int) -> MLPlatform:
    workspace = Workspace.resolve(folder)
    manager = ProjectManager(workspace)
    manager.create("bench")
    project = workspace.projects_dir / "bench"
    processes = "".join(PROCESS.format(index=i) for i in range(tasks))
    (project / "src" / "pipeline.py").write_text(PIPELINE.format(processes=processes))
    config = {
        "reproducibility": {"random_seed": 1, "experiment_tracking": {"backend": "noop"}},
        "environment": {"system": {}},
        "model": {
            "name": "bench",
            "framework": "custom",
            "parameters": {
                "loops": loops,
                "pipeline": {"process_adjlist": "\n".join(f"task{i}" for i in range(tasks))},
            },
        },
    }
    (project / "configs" / "project_config.yaml").write_text(yaml.safe_dump(config))
    return MLPlatform(workspace)


def timed(action: Callable[[], RunReport]) -> tuple[float, RunReport]:
    started = time.perf_counter()
    report = action()
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"benchmark run failed: {report.failed_process}")
    return elapsed, report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 processes of 0.25 s")
    args = parser.parse_args(argv)
    tasks, seconds = (4, 0.25) if args.quick else (8, 1.0)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    loops = burn_loops(seconds)
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="mlops-bench-cluster-") as tmp:
        platform = make_workspace(Path(tmp) / "ws", tasks, loops)
        sequential, report = timed(
            lambda: platform.run_pipeline_for_project(
                "bench", executor="sequential", use_cache=False
            )
        )
        compute = sum(record.duration for record in report.processes.values())
        rows.append(("sequential (this process)", sequential))

        started = time.perf_counter()
        client = local_client(n_workers=WORKERS, threads_per_worker=1)
        start_cost = time.perf_counter() - started
        try:
            warm, _ = timed(
                lambda: platform.run_pipeline_for_project(
                    "bench", executor="dask", client=client, use_cache=False
                )
            )
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
        rows.append((f"LocalCluster ({WORKERS} workers), already started", warm))
        # The local provider sizes itself from the machine: one worker per core.
        with_start, _ = timed(
            lambda: platform.run_on_cluster("bench", provider="local", use_cache=False)
        )
        rows.append((f"LocalCluster ({WORKERS} workers), start included", with_start))

        with dask_cluster(Path(tmp) / "dask", workers=WORKERS) as external:
            remote, _ = timed(
                lambda: platform.run_on_cluster(
                    "bench", provider="ansible", scheduler_address=external.address,
                    use_cache=False,
                )
            )  # fmt: skip
        rows.append((f"external scheduler ({WORKERS} workers), connect + upload", remote))

    print(f"## Cluster execution ({os.cpu_count()} cores, Python {sys.version.split()[0]})\n")
    print(
        f"{tasks} independent processes of ~{seconds:g} s (total compute {compute:.2f} s); "
        f"LocalCluster start alone: {start_cost:.2f} s.\n"
    )
    print("| run | wall (s) | speed-up | per-task overhead (ms) |")
    print("|---|---:|---:|---:|")
    for label, wall in rows:
        workers = 1 if label.startswith("sequential") else WORKERS
        overhead = (wall * workers - compute) / tasks * 1000
        print(f"| {label} | {wall:.2f} | {sequential / wall:.2f}x | {overhead:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
