"""The whole ``mlops run`` command, in fresh interpreters, beside Kedro and the floor.

What a user waits for: each row starts a new interpreter, so imports, config
reading, the run record and interpreter shutdown are all counted. CPU time is
the child's own (``os.wait4``), which the other work on a busy machine does not
inflate the way it inflates wall time.

(a) Start-up: ``python -c pass``, ``mlops --version``, ``import mlops.platform``.
(b) CPU per no-op process on a chain of N processes (``--local --no-cache``),
    net of a 1-process run, piped and under a pseudo-terminal (where the live
    progress table is drawn); Kedro's SequentialRunner on the same chain, net of
    a 1-node pipeline.
(c) A cached 1-process project: wall time of the whole command with ``--local``,
    and in a venv of its own (built before timing: the launcher, then the run inside).
(d) 100 processes of 20 ms: the cold run against a fully cached rerun.
(e) The processes executor, wall time: a project of two independent ~1 s CPU-bound
    processes against ``multiprocessing.Pool(2)`` running the same two calls, and a
    tiny 1-process run against starting and closing a bare ``LocalCluster`` of 2
    worker processes, each in a fresh interpreter.
(f) Interpreter shutdown: seconds from a command's last line of output to its
    exit, for the sklearn template in its built environment (a run that executes
    its processes, then a fully cached rerun) and a cached 1-process run, each
    beside ``python -c`` importing what that run imported, then printing a line.

``--baseline TREE`` runs every mlops row a second time with ``TREE/src`` first on
``PYTHONPATH`` (e.g. ``git archive`` of an earlier commit), so before and after
are measured in one run, interleaved.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from _timing import BURN, burn_loops

PYTHON = os.environ.get("MLOPS_BENCH_PYTHON") or sys.executable
# A --baseline tree may predate `from mlops import process`: its projects take the
# decorator from where it was then.
IMPORT_PROCESS = [
    "try:",
    "    from mlops import process",
    "except ImportError:",
    "    from mlops.core.step_system import process",
]

KEDRO_CHAIN = """
import sys
from kedro.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog
from kedro.pipeline import node, pipeline
from kedro.runner import ParallelRunner, SequentialRunner

def step(*_):
    return 1

if __name__ == "__main__":
    n, parallel = int(sys.argv[1]), sys.argv[2] == "parallel"
    nodes = [node(step, None, "d0", name="n0")]
    nodes += [node(step, f"d{i - 1}", f"d{i}", name=f"n{i}") for i in range(1, n)]
    catalog = (SharedMemoryDataCatalog if parallel else DataCatalog)(
        {f"d{i}": MemoryDataset() for i in range(n)}
    )
    (ParallelRunner() if parallel else SequentialRunner()).run(pipeline(nodes), catalog)
"""


POOL = (
    BURN
    + """
import multiprocessing, sys
if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(burn, [int(sys.argv[1])] * 2)
"""
)

BARE_CLUSTER = """
from dask.distributed import Client, LocalCluster
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    with cluster, Client(cluster) as client:
        client.submit(int, 1).result()
"""


def burn_source(loops: int) -> str:
    body = (
        "    total = 0\n    for i in range(LOOPS):\n        total += i * i % 7\n    return total\n"
    )
    lines = [*IMPORT_PROCESS, f"LOOPS = {loops}", ""]
    for name in ("left", "right"):
        lines += ["@process", f"def {name}():", body]
    return "\n".join(lines)


def executor_rows(trees: list[Tree], root: Path, repeat: int) -> list[str]:
    loops = burn_loops(1.0)
    script = root / "pool.py"
    script.write_text(POOL)
    cluster = root / "cluster.py"
    cluster.write_text(BARE_CLUSTER)
    env = dict(os.environ)
    pool = median(measured([PYTHON, str(script), str(loops)], env, repeat), 0)
    bare = median(measured([PYTHON, str(cluster)], env, repeat), 0)
    rows = ["| measure | wall s | peer | peer wall s | ratio |", "|---|---:|---|---:|---:|"]
    for tree in trees:
        workspace = root / f"{tree.label}-burn"
        env = tree.env(workspace)
        if not workspace.exists():
            subprocess.run(tree.mlops("create", "burn"), env=env, check=True, capture_output=True)
            folder = workspace / "projects" / "burn"
            (folder / "src" / "pipeline.py").write_text(burn_source(loops))
            (folder / "configs" / "project_config.yaml").write_text(
                "model:\n  name: burn\n  parameters:\n    pipeline:\n"
                "      process_adjlist: |\n        left\n        right\n"
            )
        argv = tree.mlops("run", "burn", "--local", "--no-cache", "--executor", "processes")
        two = median(measured(argv, env, repeat), 0)
        rows.append(
            f"| {tree.label}: 2 x 1 s CPU, `--executor processes` | {two:.2f} | "
            f"`multiprocessing.Pool(2)` | {pool:.2f} | {two / pool:.2f}x |"
        )
        env = project(tree, root, "tiny", 1)
        argv = tree.mlops("run", "tiny", "--local", "--no-cache", "--executor", "processes")
        tiny = median(measured(argv, env, repeat), 0)
        rows.append(
            f"| {tree.label}: 1 tiny process, `--executor processes` | {tiny:.2f} | "
            f"bare `LocalCluster(2)` start, 1 task, close | {bare:.2f} | {tiny / bare:.2f}x |"
        )
    return rows


def chain_source(n: int, sleep: float = 0.0) -> str:
    body = f"time.sleep({sleep})\n    " if sleep else ""
    lines = ["import time", *IMPORT_PROCESS, ""]
    lines += ["@process", "def p0():", f"    {body}return 0", ""]
    for i in range(1, n):
        lines += ["@process", f"def p{i}(p{i - 1}):", f"    {body}return p{i - 1}", ""]
    return "\n".join(lines)


def chain_config(name: str, n: int, environment: str = "system: {}") -> str:
    edges = "".join(f"        p{i - 1} p{i}\n" for i in range(1, n)) or "        p0\n"
    return (
        f"environment:\n  {environment}\n"
        f"model:\n  name: {name}\n  parameters:\n    pipeline:\n      process_adjlist: |\n{edges}"
    )


class Tree:
    """One mlops to measure: the installed one, or a source tree put first on the path."""

    def __init__(self, label: str, src: Path | None) -> None:
        self.label = label
        self.src = src

    def env(self, workspace: Path) -> dict[str, str]:
        env = {**os.environ, "MLOPS_WORKSPACE_DIR": str(workspace), "NO_COLOR": "1"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if self.src is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(self.src), env.get("PYTHONPATH")])
            )
        return env

    def mlops(self, *args: str) -> list[str]:
        return [PYTHON, "-m", "mlops.main", *args]


def timed(argv: list[str], env: dict[str, str], *, terminal: bool = False) -> tuple[float, float]:
    """(wall, CPU) seconds of one command; fails loudly if the command does."""
    start = time.perf_counter()
    if terminal:
        leader, follower = pty.openpty()
        child = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower
        )
        os.close(follower)
        output: list[bytes] = []

        def drain() -> None:
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                output.append(chunk[-2000:])

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
    else:  # a file, not a pipe: a pipe nobody reads fills and blocks a chatty command
        sink = tempfile.TemporaryFile()  # noqa: SIM115 - closed once read, below
        child = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if terminal:
        reader.join(timeout=5)
        os.close(leader)
        text = b"".join(output).decode(errors="replace")
    else:
        sink.seek(0)
        text = sink.read().decode(errors="replace")
        sink.close()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode}:\n{text[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def after_last_line(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from the last byte ``argv`` writes to its exit: what shutdown adds.

    Unbuffered, so the last line leaves when it is written, not at the final flush.
    """
    child = subprocess.Popen(
        argv,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert child.stdout is not None
    descriptor = child.stdout.fileno()
    last = [time.perf_counter()]
    output: list[bytes] = []

    def drain() -> None:
        # Not to EOF in this thread's caller: a grandchild may hold the pipe open.
        for chunk in iter(lambda: os.read(descriptor, 65536), b""):
            last[0] = time.perf_counter()
            output.append(chunk[-2000:])

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    _, status, _ = os.wait4(child.pid, 0)
    end = time.perf_counter()
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=5)
    if child.returncode != 0:
        text = b"".join(output).decode(errors="replace")
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode}:\n{text[-2000:]}")
    return end - last[0]


def shutdown_rows(trees: list[Tree], root: Path, repeat: int) -> list[str]:
    """What interpreter shutdown adds after the last line, against the same imports bare."""
    rows = [
        "| run | tree | after the last line | `python -c` with the same imports | added |",
        "|---|---|---:|---:|---:|",
    ]

    def row(title: str, label: str, argv: list[str], floor: list[str], env: dict[str, str]) -> str:
        mlops = statistics.median(after_last_line(argv, env) for _ in range(repeat))
        bare = statistics.median(after_last_line(floor, env) for _ in range(repeat))
        return f"| {title} | {label} | {mlops:.3f} s | {bare:.3f} s | {mlops - bare:+.3f} s |"

    for tree in trees:
        workspace = root / f"{tree.label}-sklearn"
        env = tree.env(workspace)
        subprocess.run(
            tree.mlops("create", "wine", "--template", "sklearn"),
            env=env,
            check=True,
            capture_output=True,
        )
        argv = tree.mlops("run", "wine")
        timed(argv, env)  # builds the environment and fills the cache
        python = next((workspace / ".mlops").rglob("bin/python"), None)
        assert python is not None, "the sklearn template's environment was not built"
        heavy = "import sklearn.ensemble, matplotlib.pyplot; print('done')"
        floor = [str(python), "-c", heavy]
        executing = statistics.median(
            after_last_line([*argv, "--no-cache"], env) for _ in range(repeat)
        )
        bare = statistics.median(after_last_line(floor, env) for _ in range(repeat))
        rows.append(
            f"| sklearn template, its 6 processes executed | {tree.label} | {executing:.3f} s "
            f"| {bare:.3f} s | {executing - bare:+.3f} s |"
        )
        light = [str(python), "-c", "import mlops.platform; print('done')"]
        rows.append(row("sklearn template, fully cached", tree.label, argv, light, env))
        env = project(tree, root, "cached", 1)
        argv = tree.mlops("run", "cached", "--local")
        timed(argv, env)
        floor = [PYTHON, "-c", "import mlops.platform; print('done')"]
        rows.append(row("cached 1-process `--local`", tree.label, argv, floor, env))
    return rows


def median(samples: list[tuple[float, float]], index: int) -> float:
    return statistics.median(sample[index] for sample in samples)


def measured(
    argv: list[str], env: dict[str, str], repeat: int, *, terminal: bool = False
) -> list[tuple[float, float]]:
    """``repeat`` timings after one unmeasured run (which compiles bytecode, warms caches)."""
    timed(argv, env, terminal=terminal)
    return [timed(argv, env, terminal=terminal) for _ in range(repeat)]


def project(
    tree: Tree,
    root: Path,
    name: str,
    n: int,
    *,
    sleep: float = 0.0,
    environment: str = "system: {}",
) -> dict[str, str]:
    workspace = root / f"{tree.label}-{name}"
    env = tree.env(workspace)
    if not workspace.exists():
        subprocess.run(tree.mlops("create", name), env=env, check=True, capture_output=True)
        folder = workspace / "projects" / name
        (folder / "src" / "pipeline.py").write_text(chain_source(n, sleep))
        (folder / "configs" / "project_config.yaml").write_text(chain_config(name, n, environment))
    return env


def startup_rows(trees: list[Tree], root: Path, repeat: int) -> list[str]:
    rows = [
        "| command | " + " | ".join(f"{t.label} CPU s" for t in trees) + " |",
        "|---|" + "---:|" * len(trees),
    ]
    floor = measured([PYTHON, "-c", "pass"], dict(os.environ), repeat)
    rows.append(f"| `python -c pass` | {median(floor, 1):.3f}" + " |" * len(trees))
    for title, args in (
        ("`mlops --version`", ["--version"]),
        ("`import mlops.platform`", None),
    ):
        cells = []
        for tree in trees:
            env = tree.env(root / "none")
            argv = tree.mlops(*args) if args else [PYTHON, "-c", "import mlops.platform"]
            cells.append(f"{median(measured(argv, env, repeat), 1):.3f}")
        rows.append(f"| {title} | " + " | ".join(cells) + " |")
    return rows


def chain_rows(
    trees: list[Tree], root: Path, sizes: list[int], repeat: int, kedro: bool
) -> list[str]:
    rows = [
        (
            "| processes | runner | CPU ms/process, piped | CPU ms/process, terminal "
            "| wall s (mlops: terminal) |"
        ),
        "|---:|---|---:|---:|---:|",
    ]
    for tree in trees:
        env = project(tree, root, "one", 1)
        base = median(measured(tree.mlops("run", "one", "--local", "--no-cache"), env, repeat), 1)
        for n in sizes:
            env = project(tree, root, f"c{n}", n)
            argv = tree.mlops("run", f"c{n}", "--local", "--no-cache")
            piped = median(measured(argv, env, repeat), 1)
            shown = [
                timed(argv, env, terminal=True) for _ in range(1 if n > 300 else repeat)
            ]  # warmed by piped
            rows.append(
                f"| {n} | {tree.label} | {(piped - base) / (n - 1) * 1000:.2f} | "
                f"{(median(shown, 1) - base) / (n - 1) * 1000:.2f} | {median(shown, 0):.2f} |"
            )
    if kedro:
        # ParallelRunner: its worker processes' CPU is not the command's own, so its
        # cost per node is wall time (the last column), net of a 1-node run.
        for runner in ("sequential", "parallel"):
            kedro_argv = [PYTHON, "-c", KEDRO_CHAIN]
            env = dict(os.environ)
            one = measured([*kedro_argv, "1", runner], env, repeat)
            for n in sizes:
                if runner == "parallel" and n > 1000:
                    continue  # minutes per run: its cost per node grows with the graph
                many = measured([*kedro_argv, str(n), runner], env, repeat)
                cpu = (median(many, 1) - median(one, 1)) / (n - 1) * 1000
                wall = (median(many, 0) - median(one, 0)) / (n - 1) * 1000
                rows.append(
                    f"| {n} | Kedro {runner.capitalize()}Runner | {cpu:.2f} | "
                    f"| {median(many, 0):.2f} ({wall:.2f} ms/node) |"
                )
    return rows


def cached_rows(trees: list[Tree], root: Path, repeat: int) -> list[str]:
    rows = [
        "| measure | " + " | ".join(t.label for t in trees) + " |",
        "|---|" + "---:|" * len(trees),
    ]
    one, built, versus, cold, warm, ratio = [], [], [], [], [], []
    for tree in trees:
        env = project(tree, root, "cached", 1)
        argv = tree.mlops("run", "cached", "--local")
        local = median(measured(argv, env, repeat), 0)
        one.append(f"{local:.3f} s")
        # The same project in a venv of its own: built by the first (unmeasured) run.
        env = project(tree, root, "inenv", 1, environment="venv: {}")
        inside = median(measured(tree.mlops("run", "inenv"), env, repeat), 0)
        built.append(f"{inside:.3f} s")
        versus.append(f"{inside / local:.2f}x")
        env = project(tree, root, "sleepy", 100, sleep=0.02)
        argv = tree.mlops("run", "sleepy", "--local")
        samples = []
        for _ in range(repeat):
            shutil.rmtree(root / f"{tree.label}-sleepy" / ".mlops", ignore_errors=True)
            first = timed(argv, env)
            samples.append((first[0], timed(argv, env)[0]))
        cold_s, warm_s = (
            statistics.median(s[0] for s in samples),
            statistics.median(s[1] for s in samples),
        )
        cold.append(f"{cold_s:.2f} s")
        warm.append(f"{warm_s:.2f} s")
        ratio.append(f"{cold_s / warm_s:.1f}x")
    rows.append("| cached 1-process `mlops run --local`, wall | " + " | ".join(one) + " |")
    rows.append("| same, in its built venv (`mlops run`), wall | " + " | ".join(built) + " |")
    rows.append("| in its venv / `--local` | " + " | ".join(versus) + " |")
    rows.append("| 100 x 20 ms, cold `mlops run`, wall | " + " | ".join(cold) + " |")
    rows.append("| same, fully cached rerun, wall | " + " | ".join(warm) + " |")
    rows.append("| cold / cached | " + " | ".join(ratio) + " |")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100,1000", help="chain lengths, comma-separated (e.g. 100,1000,5000)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="a source tree to measure beside this one")
    parser.add_argument("--parts", default="abcdef", help="tables a to f (see the docstring)")
    options = parser.parse_args(argv)
    trees = [Tree("now", None)]
    if options.baseline is not None:
        trees.append(Tree("before", options.baseline.resolve() / "src"))
    sizes = [int(size) for size in options.sizes.split(",")]
    kedro = importlib.util.find_spec("kedro") is not None
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as scratch:
        root = Path(scratch)
        if "a" in options.parts:
            print("\n".join(["", "### Start-up", *startup_rows(trees, root, options.repeat)]))
        if "b" in options.parts:
            print(
                "\n".join(
                    [
                        "",
                        "### CPU per process, whole command",
                        *chain_rows(trees, root, sizes, options.repeat, kedro),
                    ]
                )
            )
        if "c" in options.parts or "d" in options.parts:
            print("\n".join(["", "### Cached runs", *cached_rows(trees, root, options.repeat)]))
        if "e" in options.parts:
            rows = executor_rows(trees, root, options.repeat)
            print("\n".join(["", "### The processes executor", *rows]))
        if "f" in options.parts:
            rows = shutdown_rows(trees, root, options.repeat)
            print("\n".join(["", "### Interpreter shutdown", *rows]))
    print(
        textwrap.dedent(
            "\n(medians; CPU is the command's own, net of a 1-process run where per process)"
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
