"""The experiment loop through the real CLI: change a setting, rerun, compare.

A 7-process project on the default SQLite store. What reruns is read back from
the run records (``mlops runs ... --json``), never from the engine's internals.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fixtures.cli import run_mlops

PIPELINE = """
from mlops import process


@process
def load(ctx):
    rows = ctx.params["rows"]
    ctx.log_metric("rows", rows)
    return list(range(rows))


@process
def clean(load, threshold):
    return [x for x in load if x < threshold]


def _fraction(context):
    return context.params.get("test_size", 0.25)


@process
def split(ctx, clean):
    cut = int(len(clean) * (1 - _fraction(ctx)))
    ctx.log_metric("train_rows", cut)
    return {"train": clean[:cut], "test": clean[cut:]}


@process
def features(split):
    return [x * x for x in split["train"]]


@process
def train(ctx, features):
    weight = sum(features) * ctx.params["lr"]
    ctx.log_metric("weight", weight)
    return weight


@process
def evaluate(ctx, train, split):
    score = train / (1 + sum(split["test"]))
    ctx.log_metric("score", score)
    return score


@process
def report(evaluate):
    return f"score {evaluate:.3f}"
"""

CONFIG = """\
# The loop project: every value below is read by one process, except `note`.
model:
  name: loop
  parameters:
    rows: 20
    threshold: 15
    test_size: 0.25     # read by split, through a helper
    lr: 0.1
    note: nobody reads this
    pipeline:
      process_adjlist: |
        load clean
        clean split
        split features evaluate
        features train
        train evaluate
        evaluate report
"""
ALL = ["load", "clean", "split", "features", "train", "evaluate", "report"]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    created = run_mlops(workspace, "create", "loop")
    assert created.returncode == 0, created.stderr
    project = workspace / "projects" / "loop"
    (project / "src" / "pipeline.py").write_text(textwrap.dedent(PIPELINE))
    (project / "configs" / "project_config.yaml").write_text(CONFIG)
    return workspace


def mlops(workspace: Path, *args: str) -> str:
    done = run_mlops(workspace, *args)
    assert done.returncode == 0, f"mlops {' '.join(args)}: {done.stderr}"
    return done.stdout


def ran(workspace: Path) -> list[str]:
    """The processes the latest run ran (not reused), from its record."""
    record: dict[str, Any] = json.loads(
        mlops(workspace, "runs", "loop", "show", "latest", "--json")
    )
    return [n for n, p in record["processes"].items() if p["status"] == "completed"]


def test_a_change_reruns_exactly_what_it_reaches(workspace: Path) -> None:
    config = workspace / "projects" / "loop" / "configs" / "project_config.yaml"
    mlops(workspace, "run", "loop", "--local", "-q")
    assert ran(workspace) == ALL

    # test_size is read by split alone (in a helper it passes the context to).
    mlops(workspace, "config", "loop", "set", "model.parameters.test_size=0.5")
    explained = mlops(workspace, "run", "loop", "--local", "--explain")
    assert ran(workspace) == ["split", "features", "train", "evaluate", "report"]
    assert "parameters changed (test_size: 0.25 -> 0.5)" in explained

    # A parameter no process reads reruns nothing.
    mlops(workspace, "config", "loop", "set", "model.parameters.note=still nobody")
    mlops(workspace, "run", "loop", "--local", "-q")
    assert ran(workspace) == []

    # An override runs with the value, records it, and leaves the file as it was.
    before = config.read_bytes()
    mlops(workspace, "run", "loop", "--local", "-q", "--set", "model.parameters.test_size=0.3")
    assert config.read_bytes() == before
    assert ran(workspace) == ["split", "features", "train", "evaluate", "report"]
    latest = json.loads(mlops(workspace, "runs", "loop", "show", "latest", "--json"))
    assert latest["overrides"] == {"model.parameters.test_size": 0.3}
    assert latest["processes"]["split"]["params"] == {"test_size": 0.3}

    # The comparison shows the parameter's old and new value and the metric it moved.
    table = mlops(workspace, "runs", "loop", "compare", "latest", "previous", "--changed")
    rows = [line.split() for line in table.splitlines()[1:]]
    assert ["*", "params:", "split.test_size", "0.3", "0.5"] in rows
    assert ["*", "params:", "run.test_size", "0.3", "0.5"] in rows
    assert any(row[:3] == ["*", "metrics:", "evaluate.score"] for row in rows)
    assert not any("load" in " ".join(row) for row in rows)  # unchanged rows are left out

    # The same value as an edit: the cache serves it exactly like the override.
    mlops(workspace, "config", "loop", "set", "model.parameters.test_size=0.3")
    mlops(workspace, "run", "loop", "--local", "-q")
    assert ran(workspace) == []


def test_runs_lists_newest_first_and_a_result_loads_from_python(workspace: Path) -> None:
    mlops(workspace, "run", "loop", "--local", "-q")
    mlops(workspace, "run", "loop", "--local", "-q", "--set", "model.parameters.lr=0.2")
    listed = json.loads(mlops(workspace, "runs", "loop", "--json", "--metric", "train.weight"))
    assert [row["ran"] for row in listed] == [3, 7]  # newest first: train, evaluate, report
    assert listed[0]["metrics"]["train.weight"] == pytest.approx(
        2 * listed[1]["metrics"]["train.weight"]
    )
    script = (
        "import mlops; "
        f"print(mlops.load_result('loop', 'train', workspace={str(workspace)!r}), "
        f"mlops.load_result('loop', 'train', run='previous', workspace={str(workspace)!r}))"
    )
    import subprocess
    import sys

    printed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert float(printed[0]) == pytest.approx(2 * float(printed[1]))


@pytest.mark.parametrize(
    ("args", "message"),
    [(["runs", "loop", "show", "nope"], "project loop has no run 'nope'"),
     (["runs", "loop", "compare", "latest"], "compare needs two runs or more"),
     (["runs", "loop", "delete", "latest"], "without confirmation"),
     (["run", "loop", "--local", "--set", "model.parameters.lr"], "expected KEY=VALUE"),
     (["run", "loop", "--local", "--set", "model.parameters.pipeline.processes.x.retries=one"],
      "with --set")],
    ids=["unknown-run", "one-run", "delete-unconfirmed", "set-without-value", "set-invalid"],
)  # fmt: skip
def test_mistakes_are_one_line_and_change_nothing(
    workspace: Path, args: list[str], message: str
) -> None:
    mlops(workspace, "run", "loop", "--local", "-q")
    config = workspace / "projects" / "loop" / "configs" / "project_config.yaml"
    before = (config.read_bytes(), mlops(workspace, "runs", "loop", "--json"))
    done = run_mlops(workspace, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert (config.read_bytes(), mlops(workspace, "runs", "loop", "--json")) == before


def test_a_metric_is_listed_by_its_name_alone_when_one_process_gives_it(
    workspace: Path,
) -> None:
    mlops(workspace, "run", "loop", "--local", "-q")
    by_name = json.loads(mlops(workspace, "runs", "loop", "--json", "--metric", "score"))
    qualified = json.loads(mlops(workspace, "runs", "loop", "--json", "--metric", "evaluate.score"))
    assert by_name[0]["metrics"]["score"] == qualified[0]["metrics"]["evaluate.score"]
    assert isinstance(by_name[0]["metrics"]["score"], float)
    table = mlops(workspace, "runs", "loop", "--metric", "score")
    header, row = table.splitlines()[0].split(), table.splitlines()[1].split()
    assert header[-1] == "score"
    assert float(row[-1]) == pytest.approx(by_name[0]["metrics"]["score"])


def test_an_unknown_metric_is_one_line_naming_those_that_exist(workspace: Path) -> None:
    mlops(workspace, "run", "loop", "--local", "-q")
    before = mlops(workspace, "runs", "loop", "--json")
    done = run_mlops(workspace, "runs", "loop", "--metric", "r2_score")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        (
            "mlops: error: no run of loop has a metric 'r2_score' (metrics: evaluate.score, "
            "load.rows, split.train_rows, train.weight)"
        )
    ]
    assert done.stdout == ""
    assert mlops(workspace, "runs", "loop", "--json") == before
