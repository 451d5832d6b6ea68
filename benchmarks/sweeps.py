"""A 12-point search, measured side by side in one run: mlops, DVC and Optuna.

A spaceflights-shaped pipeline: three shared preprocessing steps of ~0.5 s CPU
(companies, shuttles, the model input table), a shared split, then train
(~0.3 s CPU, reading the two swept parameters) and evaluate (its r2). The same
plain functions run under every tool; each appends its name to a count file
when it executes, so executions are counted the same way everywhere. The grid is
alpha in (0.1, 0.3, 1, 3) x depth in (2, 4, 6).

(a) ``mlops sweep --parallel 2 --executor processes`` after one first run (the
    shared steps cached), and cold in a new workspace (each shared step must
    execute once, though two points are in flight);
    ``--cluster local`` (a LocalCluster of 2 worker processes) beside it, cold;
(b) the same 12 points as 12 sequential ``mlops run --local --set ...`` after
    the same first run;
(c) DVC 3, the same pipeline as dvc.yaml stages: ``dvc exp run --queue -S`` x 12
    then ``dvc queue start -j 2``, waiting for the queue, after one ``dvc repro``;
(d) Optuna: ``study.optimize(n_jobs=2)`` with a GridSampler over the 12 points,
    calling the same functions directly (no cache), in a fresh interpreter.

Columns: wall time, executions of each kind of step, the best r2 found.

(e) Per-point cost: random sweeps of N points over a pipeline of no-op steps
(N = 25, 50, 100, 200), ``--parallel 2`` on the processes executor. The cost of
one more point is the slope; linear means the per-point cost at 200 is that at 50.

(f) A process on a Dask cluster: a chain of no-op processes under ``mlops run
--cluster local`` (net of a 1-process run) beside raw Dask on the same kind of
LocalCluster, each result waited for before the next submit, and the chain
submitted ahead. mlops waits for each result: a process's cache key holds its
upstream results' digests, known only once they are computed.

Run by ``nox -s bench -- benchmarks/sweeps.py``; ``--skip-dvc`` leaves (c) out
where DVC is not installed, ``--repeat`` sets the medians (default 3).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _timing import BURN, burn_loops

ALPHAS = ("0.1", "0.3", "1", "3")
DEPTHS = ("2", "4", "6")
SHARED = ("companies", "shuttles", "table", "split")
PER_POINT = ("train", "evaluate")

# The steps themselves, the same text under every tool. COUNT and the loop counts
# are filled in per run.
STEPS = (
    BURN
    + """
import math
import os

COUNT = {count!r}
SHARED_LOOPS = {shared_loops}
TRAIN_LOOPS = {train_loops}


def _count(name):
    with open(COUNT, "a") as handle:
        handle.write(name + "\\n")


def companies_step():
    _count("companies")
    burn(SHARED_LOOPS)
    return list(range(400))


def shuttles_step():
    _count("shuttles")
    burn(SHARED_LOOPS)
    return [x * 3 % 17 for x in range(400)]


def table_step(companies, shuttles):
    _count("table")
    burn(SHARED_LOOPS)
    return list(zip(companies, shuttles))


def split_step(table, test_size):
    _count("split")
    cut = int(len(table) * (1 - test_size))
    return table[:cut], table[cut:]


def train_step(split, alpha, depth):
    _count("train")
    burn(TRAIN_LOOPS)
    return 1.0 / (1.0 + abs(math.log(alpha))) + depth / 100.0 + len(split[0]) * 0.0


def evaluate_step(model):
    _count("evaluate")
    return round(model * 0.9, 12)
"""
)

MLOPS_PIPELINE = """
from mlops import process
{steps}

@process
def companies():
    return companies_step()


@process
def shuttles():
    return shuttles_step()


@process
def table(companies, shuttles):
    return table_step(companies, shuttles)


@process
def split(table, test_size):
    return split_step(table, test_size)


@process
def train(split, alpha, depth):
    return train_step(split, alpha, depth)


@process
def evaluate(ctx, train):
    ctx.log_metric("r2", evaluate_step(train))
    return train
"""

MLOPS_CONFIG = """\
reproducibility:
  random_seed: 1
  experiment_tracking:
    backend: local
environment:
  system: {}
executor:
  n_workers: 2
model:
  name: flights
  parameters:
    alpha: 1
    depth: 2
    test_size: 0.2
    pipeline:
      process_adjlist: |
        companies table
        shuttles table
        table split
        split train
        train evaluate
"""

DVC_STAGES = """
import json
import pickle
import sys
from pathlib import Path

import yaml
{steps}

def _load(name):
    return pickle.loads(Path(name + ".pkl").read_bytes())


def _save(name, value):
    Path(name + ".pkl").write_bytes(pickle.dumps(value))


params = yaml.safe_load(Path("params.yaml").read_text())
stage = sys.argv[1]
if stage == "companies":
    _save("companies", companies_step())
elif stage == "shuttles":
    _save("shuttles", shuttles_step())
elif stage == "table":
    _save("table", table_step(_load("companies"), _load("shuttles")))
elif stage == "split":
    _save("split", split_step(_load("table"), params["split"]["test_size"]))
elif stage == "train":
    _save("model", train_step(_load("split"), params["train"]["alpha"], params["train"]["depth"]))
elif stage == "evaluate":
    Path("metrics.json").write_text(json.dumps({{"r2": evaluate_step(_load("model"))}}))
"""

DVC_YAML = """\
stages:
  companies:
    cmd: {python} stages.py companies
    deps: [stages.py]
    outs: [companies.pkl]
  shuttles:
    cmd: {python} stages.py shuttles
    deps: [stages.py]
    outs: [shuttles.pkl]
  table:
    cmd: {python} stages.py table
    deps: [stages.py, companies.pkl, shuttles.pkl]
    outs: [table.pkl]
  split:
    cmd: {python} stages.py split
    deps: [stages.py, table.pkl]
    params: [split.test_size]
    outs: [split.pkl]
  train:
    cmd: {python} stages.py train
    deps: [stages.py, split.pkl]
    params: [train.alpha, train.depth]
    outs: [model.pkl]
  evaluate:
    cmd: {python} stages.py evaluate
    deps: [stages.py, model.pkl]
    metrics: [{{metrics.json: {{cache: false}}}}]
"""

OPTUNA_SEARCH = """
import json
import sys

import optuna
{steps}

optuna.logging.set_verbosity(optuna.logging.WARNING)
space = {{"alpha": {alphas}, "depth": {depths}}}


def objective(trial):
    table = table_step(companies_step(), shuttles_step())
    split = split_step(table, 0.2)
    model = train_step(split, trial.suggest_categorical("alpha", space["alpha"]),
                       trial.suggest_categorical("depth", space["depth"]))
    return evaluate_step(model)


study = optuna.create_study(direction="maximize", sampler=optuna.samplers.GridSampler(space))
study.optimize(objective, n_trials={points}, n_jobs=2)
print(json.dumps({{"best": study.best_value}}))
"""


class Bench:
    def __init__(self, root: Path, shared_seconds: float, train_seconds: float) -> None:
        self.root = root
        self.mlops = str(Path(sys.executable).with_name("mlops"))
        self.shared_loops = burn_loops(shared_seconds) if shared_seconds else 0
        self.train_loops = burn_loops(train_seconds) if train_seconds else 0
        self.count = root / "count.txt"

    def steps(self) -> str:
        return STEPS.format(
            count=str(self.count), shared_loops=self.shared_loops, train_loops=self.train_loops
        )

    def executions(self) -> dict[str, int]:
        if not self.count.exists():
            return {}
        return dict(collections.Counter(self.count.read_text().split()))

    def reset_count(self) -> None:
        self.count.unlink(missing_ok=True)

    # ------------------------------------------------------------------ mlops

    def workspace(self, name: str) -> Path:
        workspace = self.root / name
        env = self.env(workspace)
        subprocess.run([self.mlops, "create", "flights"], env=env, check=True, capture_output=True)
        project = workspace / "projects" / "flights"
        (project / "src" / "pipeline.py").write_text(MLOPS_PIPELINE.format(steps=self.steps()))
        (project / "configs" / "project_config.yaml").write_text(MLOPS_CONFIG)
        return workspace

    def env(self, workspace: Path) -> dict[str, str]:
        return {**os.environ, "MLOPS_WORKSPACE_DIR": str(workspace)}

    def mlops_call(self, workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.mlops, *args], env=self.env(workspace), capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"mlops {' '.join(args)} failed: {done.stderr}")
        return done

    def sweep_best(self, workspace: Path) -> float:
        shown = self.mlops_call(workspace, "sweeps", "flights", "show", "latest", "--json")
        return float(json.loads(shown.stdout)["best"]["metric"])

    def sweep(self, workspace: Path, *extra: str) -> None:
        self.mlops_call(
            workspace, "sweep", "flights", "--local", "--parallel", "2",
            "--grid", f"model.parameters.alpha={','.join(ALPHAS)}",
            "--grid", f"model.parameters.depth={','.join(DEPTHS)}",
            "--metric", "evaluate.r2", "--goal", "maximize", *extra,
        )  # fmt: skip

    def sequential_runs(self, workspace: Path) -> float:
        best = float("-inf")
        for alpha in ALPHAS:
            for depth in DEPTHS:
                self.mlops_call(
                    workspace, "run", "flights", "--local", "-q",
                    "--set", f"model.parameters.alpha={alpha}",
                    "--set", f"model.parameters.depth={depth}",
                )  # fmt: skip
                shown = self.mlops_call(workspace, "runs", "flights", "show", "latest", "--json")
                metrics = json.loads(shown.stdout)["processes"]["evaluate"]["metrics"]
                best = max(best, float(metrics[-1]["value"]))
        return best

    # ------------------------------------------------------------------ DVC

    def dvc_repo(self, dvc: str) -> Path:
        repo = self.root / "dvc"
        repo.mkdir()
        (repo / "stages.py").write_text(DVC_STAGES.format(steps=self.steps()))
        (repo / "dvc.yaml").write_text(DVC_YAML.format(python=sys.executable))
        (repo / "params.yaml").write_text(
            "train:\n  alpha: 1\n  depth: 2\nsplit:\n  test_size: 0.2\n"
        )
        git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
        for argv in (
            ["git", "init", "-q"],
            [dvc, "init", "-q"],
            [dvc, "config", "core.analytics", "false"],
            [dvc, "repro", "-q"],
            ["git", "add", "-A"],
            [*git, "commit", "-qm", "pipeline"],
        ):
            _dvc_run(argv, repo)
        return repo

    def dvc_queue(self, dvc: str, repo: Path) -> float:
        for alpha in ALPHAS:
            for depth in DEPTHS:
                _dvc_run(
                    [dvc, "exp", "run", "--queue", "-S", f"train.alpha={alpha}",
                     "-S", f"train.depth={depth}"],
                    repo,
                )  # fmt: skip
        _dvc_run([dvc, "queue", "start", "-j", "2"], repo)
        deadline, idle, restarts = time.monotonic() + 1800, 0, 0
        while True:
            # Each status is a DVC command of its own (about a second of CPU): asked every
            # 2 s, so that waiting does not slow the workers it waits for.
            time.sleep(2)
            status = _dvc_run([dvc, "queue", "status"], repo)
            if not any(word in status for word in ("Queued", "Running")):
                break
            # A worker may stop while experiments are still queued: start them again,
            # as a user would; a queue that never gets a worker is an error.
            idle = idle + 1 if "0 active, 0 idle" in status else 0
            if idle >= 3:
                restarts, idle = restarts + 1, 0
                if restarts > 5:
                    raise SystemExit(f"DVC's queue does not run:\n{status}")
                _dvc_run([dvc, "queue", "start", "-j", "2"], repo)
            if time.monotonic() > deadline:
                raise SystemExit(f"DVC's queue did not finish in 30 minutes:\n{status}")
        shown = _dvc_run([dvc, "exp", "show", "--json"], repo)
        return max(_r2_values(json.loads(shown)))

    # ------------------------------------------------------------------ Optuna

    def optuna(self) -> float:
        script = self.root / "optuna_search.py"
        script.write_text(
            OPTUNA_SEARCH.format(
                steps=self.steps(),
                alphas=[float(a) for a in ALPHAS],
                depths=[int(d) for d in DEPTHS],
                points=len(ALPHAS) * len(DEPTHS),
            )
        )
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=True
        )
        return float(json.loads(done.stdout.strip().splitlines()[-1])["best"])


def _dvc_run(argv: Sequence[str], repo: Path) -> str:
    """One command in the DVC repository; its queue workers are ``dvc`` commands found
    on PATH, so the folder of the ``dvc`` in use comes first there."""
    path = os.environ.get("PATH", "")
    if Path(argv[0]).is_absolute():
        path = f"{Path(argv[0]).parent}{os.pathsep}{path}"
    done = subprocess.run(
        argv, cwd=repo, capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": path},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr}")
    return done.stdout


def _r2_values(shown: object) -> list[float]:
    """Every ``r2`` in ``dvc exp show --json``'s nested output."""
    found: list[float] = []
    if isinstance(shown, dict):
        for key, value in shown.items():
            if key == "r2" and isinstance(value, (int, float)):
                found.append(float(value))
            else:
                found.extend(_r2_values(value))
    elif isinstance(shown, list):
        for item in shown:
            found.extend(_r2_values(item))
    return found


Sample = tuple[float, dict[str, int], float]  # wall seconds, executions, best r2


def _measured(bench: Bench, action: Callable[[], float]) -> Sample:
    bench.reset_count()
    started = time.perf_counter()
    best = action()
    return time.perf_counter() - started, bench.executions(), best


def _one_round(bench: Bench, dvc: str | None) -> dict[str, Sample]:
    """Every row once, each in a workspace of its own."""
    warm_sweep, warm_runs = bench.workspace("sweep"), bench.workspace("runs")
    for workspace in (warm_sweep, warm_runs):
        bench.mlops_call(workspace, "run", "flights", "--local", "-q")
    cold, cluster = bench.workspace("cold"), bench.workspace("cluster")

    def swept(workspace: Path, *extra: str) -> Callable[[], float]:
        def action() -> float:
            bench.sweep(workspace, *extra)
            return bench.sweep_best(workspace)

        return action

    row = {
        "(a) mlops sweep, parallel 2, processes": swept(warm_sweep, "--executor", "processes"),
        "(a) the same, cold": swept(cold, "--executor", "processes"),
        "(a) the same, cold, --cluster local (2 workers)": swept(cluster, "--cluster", "local"),
        "(b) 12 sequential mlops run --set": lambda: bench.sequential_runs(warm_runs),
    }
    if dvc is not None:
        repo = bench.dvc_repo(dvc)
        row["(c) DVC exp run --queue x 12, queue start -j 2"] = lambda: bench.dvc_queue(dvc, repo)
    row["(d) Optuna study.optimize(n_jobs=2), no cache"] = bench.optuna
    return {label: _measured(bench, action) for label, action in row.items()}


def _counts(executed: dict[str, int]) -> str:
    shared = "/".join(str(executed.get(name, 0)) for name in SHARED)
    per_point = "/".join(str(executed.get(name, 0)) for name in PER_POINT)
    return f"{shared} | {per_point}"  # two columns of the table


def grid_table(repeat: int, dvc: str | None, shared_seconds: float, train_seconds: float) -> None:
    rows: dict[str, list[Sample]] = collections.defaultdict(list)
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            bench = Bench(Path(folder), shared_seconds, train_seconds)
            for label, sample in _one_round(bench, dvc).items():
                rows[label].append(sample)
    print(f"\n12-point grid, medians of {repeat}; executions summed over the 12 points\n")
    print(f"| how | wall | vs (b) | executed: {'/'.join(SHARED)} | {'/'.join(PER_POINT)} "
          "| best r2 |")  # fmt: skip
    print("|---|---:|---:|---|---|---:|")
    baseline = statistics.median(s for s, _, _ in rows["(b) 12 sequential mlops run --set"])
    for label, samples in rows.items():
        wall = statistics.median(s for s, _, _ in samples)
        shown = ", ".join(f"{b:.6f}" for b in sorted({b for _, _, b in samples}))
        counts = ";  ".join(sorted({_counts(e) for _, e, _ in samples}))
        print(f"| {label} | {wall:.2f} s | {wall / baseline:.2f}x | {counts} | {shown} |")


def per_point_table(sizes: Sequence[int]) -> None:
    print("\nRandom sweeps of no-op steps, --parallel 2, processes executor\n")
    print("| points | wall | per point | marginal per point |")
    print("|---:|---:|---:|---:|")
    walls: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(Path(folder), 0, 0)
        for size in sizes:
            workspace = bench.workspace(f"noop{size}")
            started = time.perf_counter()
            bench.mlops_call(
                workspace, "sweep", "flights", "--local", "--parallel", "2",
                "--executor", "processes", "--method", "random",
                "--param", "model.parameters.alpha={low: 0.1, high: 10}",
                "--max-runs", str(size), "-q",
            )  # fmt: skip
            seconds = time.perf_counter() - started
            marginal = ""
            if walls:
                previous_size, previous = walls[-1]
                marginal = f"{(seconds - previous) / (size - previous_size) * 1000:.0f} ms"
            walls.append((size, seconds))
            print(f"| {size} | {seconds:.2f} s | {seconds / size * 1000:.0f} ms | {marginal} |")


CHAIN_PIPELINE = """
from mlops import process


@process
def p0():
    return 0
{rest}
"""

CHAIN_CONFIG = """\
reproducibility:
  experiment_tracking:
    backend: noop
environment:
  system: {{}}
executor:
  n_workers: 2
model:
  name: chain
  parameters:
    pipeline:
      process_adjlist: |
{edges}
"""


def _noop(value: int) -> int:
    return value + 1


def cluster_table(length: int, repeat: int) -> None:
    """A chain of no-op processes on one LocalCluster of 2 worker processes: mlops (as
    the ansible provider, connected to it) against raw Dask, each result waited for
    before the next is submitted, and submitted ahead (each future passed to the next)."""
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    try:

        def one_by_one() -> None:
            value = 0
            for _ in range(length):
                value = client.submit(_noop, value, pure=False).result()

        def ahead() -> None:
            future = client.submit(_noop, 0, pure=False)
            for _ in range(length - 1):
                future = client.submit(_noop, future, pure=False)
            future.result()

        raw = {name: min(_seconds(action) for _ in range(repeat))
               for name, action in (("one by one", one_by_one), ("ahead", ahead))}  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            bench = Bench(Path(folder), 0, 0)
            walls = [
                _chain_seconds(bench, size, cluster.scheduler_address, repeat)
                for size in (1, length)
            ]
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()
    per_process = (walls[1] - walls[0]) / (length - 1)
    print(f"\nA chain of {length} no-op processes on a LocalCluster of 2 workers, best of "
          f"{repeat}: per process\n")  # fmt: skip
    print("| how | per process |")
    print("|---|---:|")
    print(f"| mlops run on the cluster (net of a 1-process run) | {per_process * 1000:.1f} ms |")
    print(
        f"| raw Dask, submit then result, one by one | {raw['one by one'] / length * 1000:.1f} ms |"
    )
    print(f"| raw Dask, the chain submitted ahead | {raw['ahead'] / length * 1000:.1f} ms |")


def _chain_seconds(bench: Bench, size: int, scheduler: str, repeat: int) -> float:
    workspace = bench.workspace(f"chain{size}")
    project = workspace / "projects" / "flights"
    rest = "".join(
        f"\n\n@process\ndef p{i}(p{i - 1}):\n    return p{i - 1} + 1\n" for i in range(1, size)
    )
    (project / "src" / "pipeline.py").write_text(CHAIN_PIPELINE.format(rest=rest))
    edges = "\n".join(f"        p{i} p{i + 1}" for i in range(size - 1)) or "        p0"
    (project / "configs" / "project_config.yaml").write_text(CHAIN_CONFIG.format(edges=edges))
    argv = ("run", "flights", "--local", "--cluster", "ansible", "--scheduler", scheduler,
            "--no-cache", "-q")  # fmt: skip
    return min(_seconds(lambda: bench.mlops_call(workspace, *argv)) for _ in range(repeat))


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-dvc", action="store_true")
    parser.add_argument("--sizes", default="25,50,100,200")
    parser.add_argument("--shared-seconds", type=float, default=0.5)
    parser.add_argument("--train-seconds", type=float, default=0.3)
    parser.add_argument("--chain", type=int, default=200, help="processes in part f's chain")
    parser.add_argument(
        "--parts", default="aef", help="a: the 12-point grid; e: per-point cost; f: on Dask"
    )
    args = parser.parse_args(argv)
    dvc = None if args.skip_dvc else (shutil.which("dvc") or _beside_python("dvc"))
    if not args.skip_dvc and dvc is None:
        raise SystemExit("DVC is not installed here (the bench group has it); or --skip-dvc")
    if "a" in args.parts:
        grid_table(args.repeat, dvc, args.shared_seconds, args.train_seconds)
    if "e" in args.parts:
        per_point_table([int(s) for s in args.sizes.split(",")])
    if "f" in args.parts:
        cluster_table(args.chain, args.repeat)
    return 0


def _beside_python(name: str) -> str | None:
    found = Path(sys.executable).with_name(name)
    return str(found) if found.exists() else None


if __name__ == "__main__":
    raise SystemExit(main())
