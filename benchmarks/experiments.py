"""The experiment loop's costs, measured side by side in one run.

(a) What charts and artifacts add to a fully cached run. One project, four
processes, two static matplotlib charts, and a process that logs a 1 MiB
artifact. Each row is the median wall time of a fully cached
``run_pipeline_for_project`` (in this interpreter, after a first run):

- no charts, no artifact (the floor);
- with the artifact (the cached process lists its file again, nothing copied);
- with the charts drawn again on every run (how runs worked before charts were
  reused: their reuse records are removed before each run);
- with the charts reused (inputs unchanged), as runs work now.

Target: reused charts and the artifact add well under 0.5 s to a cached run.

(b) ``mlops runs NAME`` with 1,000 runs stored (SQLite), as a user types it
(a subprocess), against ``mlops --version`` (the interpreter and CLI floor).
Target: under 0.5 s.

Run by ``nox -s bench -- benchmarks/experiments.py``; ``--quick`` shrinks sizes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path

from _timing import median_seconds
from mlops.managers.project_manager import ProjectManager
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_records import RunRecorder, new_run_id
from mlops.tracking.status import ProcessStatus, RunStatus

PIPELINE = """
from mlops import process
from mlops import chart


@process
def load(ctx):
    ctx.log_metric("rows", 100)
    return list(range(100))


@process
def train(ctx, load, artifact=False):
    for step in range(20):
        ctx.log_metric("loss", 1.0 / (step + 1), step=step)
    if artifact:
        path = ctx.project_dir / "work" / "model.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"w" * (1 << 20))
        ctx.log_artifact(path)
    return sum(load)


@process
def evaluate(ctx, train):
    ctx.log_metric("score", train / 1000)
    return train


@process
def report(evaluate):
    return f"score {evaluate}"


@chart
def loss(ctx):
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots()
    axes.plot(*zip(*ctx.series("train", "loss")))
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    return figure


@chart
def scores(ctx):
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots()
    axes.bar(["score"], [ctx.final("evaluate", "score")])
    return figure
"""

CONFIG = """\
model:
  name: {name}
  parameters:
    pipeline:
      process_adjlist: |
        load train
        train evaluate
        evaluate report
      processes:
        train:
          params: {{artifact: {artifact}}}
reporting:
  charts: [{charts}]
"""


def make(workspace: Workspace, name: str, *, charts: bool, artifact: bool) -> None:
    ProjectManager(workspace).create(name)
    project = workspace.projects_dir / name
    (project / "src" / "pipeline.py").write_text(textwrap.dedent(PIPELINE))
    chart_list = "{name: loss}, {name: scores}" if charts else ""
    (project / "configs" / "project_config.yaml").write_text(
        CONFIG.format(name=name, artifact=str(artifact).lower(), charts=chart_list)
    )


def cached_run_seconds(workspace: Workspace, name: str, repeat: int, *, redraw: bool) -> float:
    platform = MLPlatform(workspace)
    first = platform.run_pipeline_for_project(name)
    if not first.ok:
        raise SystemExit(f"{name}: the first run failed: {first.failed_process}")
    stores = platform.open_stores(name)

    def run() -> None:
        if redraw:  # forget earlier renders: every chart is drawn again
            for key in stores.kv.keys("charts/inputs/"):
                stores.kv.delete(key)
        report = platform.run_pipeline_for_project(name)
        if not report.ok or any(not r.cache_hit for r in report.processes.values()):
            raise SystemExit(f"{name}: the rerun was not fully cached")

    try:
        return median_seconds(run, repeat)
    finally:
        stores.kv.close()
        stores.objects.close()


def record_runs(workspace: Workspace, name: str, runs: int) -> None:
    ProjectManager(workspace).create(name, template="custom")
    platform = MLPlatform(workspace)
    graph = platform.load_project(name).graph
    stores = platform.open_stores(name)
    try:
        for index in range(runs):
            recorder = RunRecorder(
                stores.kv, run_id=new_run_id(), project=name, graph=graph,
                details={"executor": "sequential", "params": {"epochs": index}},
            )  # fmt: skip
            for process in graph.order:
                record = ProcessRecord(process, ProcessStatus.COMPLETED, duration=0.01)
                record.metrics = [{"name": "loss", "value": 1 / (index + 1), "step": 0}]
                record.params = {"epochs": index}
                recorder.update(record)
            recorder.finish(RunStatus.COMPLETED)
    finally:
        stores.kv.close()
        stores.objects.close()


def cli_seconds(workspace: Workspace, args: Sequence[str], repeat: int) -> float:
    mlops = Path(sys.executable).parent / "mlops"
    # As installed: bytecode is written once and read after (a shell that sets
    # PYTHONDONTWRITEBYTECODE would make every call compile every module again).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["MLOPS_WORKSPACE_DIR"] = str(workspace.root)

    def call() -> None:
        subprocess.run([str(mlops), *args], env=env, check=True, capture_output=True)

    call()  # the first call writes the bytecode
    return median_seconds(call, repeat)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 runs stored, 3 repeats")
    args = parser.parse_args(argv)
    repeat, runs = (3, 100) if args.quick else (7, 1000)
    with tempfile.TemporaryDirectory(prefix="mlops-bench-experiments-") as tmp:
        workspace = Workspace.resolve(Path(tmp) / "ws").ensure()
        make(workspace, "plain", charts=False, artifact=False)
        make(workspace, "artifact", charts=False, artifact=True)
        make(workspace, "charted", charts=True, artifact=False)
        rows = [
            ("no charts, no artifact (floor)", cached_run_seconds(
                workspace, "plain", repeat, redraw=False)),
            ("a 1 MiB artifact, re-attached", cached_run_seconds(
                workspace, "artifact", repeat, redraw=False)),
            ("2 charts drawn again (before)", cached_run_seconds(
                workspace, "charted", repeat, redraw=True)),
            ("2 charts reused (now)", cached_run_seconds(
                workspace, "charted", repeat, redraw=False)),
        ]  # fmt: skip
        record_runs(workspace, "history", runs)
        floor = cli_seconds(workspace, ["--version"], repeat)
        listing = cli_seconds(workspace, ["runs", "history"], repeat)
    print(f"## The experiment loop ({os.cpu_count()} cores, Python {sys.version.split()[0]})\n")
    print(f"(a) A fully cached run, median of {repeat}, in this interpreter.\n")
    print("| run | wall (s) | added to the floor (s) | vs floor |")
    print("|---|---:|---:|---:|")
    base = rows[0][1]
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} | {seconds - base:+.3f} | {seconds / base:.1f}x |")
    print(f"\n(b) `mlops runs NAME` with {runs} runs stored, median of {repeat}, a subprocess.\n")
    print("| command | wall (s) | vs `mlops --version` |")
    print("|---|---:|---:|")
    print(f"| `mlops --version` | {floor:.3f} | 1.0x |")
    print(f"| `mlops runs history` | {listing:.3f} | {listing / floor:.1f}x |")
    added = max(rows[1][1], rows[3][1]) - base
    met = added < 0.5 and listing < 0.5
    print(
        f"\nTargets (charts and artifacts add < 0.5 s to a cached run: {added:+.3f} s; "
        f"`mlops runs` < 0.5 s: {listing:.3f} s): {'met' if met else 'MISSED'}."
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
