"""Equal results are equal to the cache whatever their pickles: a process whose edit
gives a data frame equal to the old one reruns alone, its downstream reused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.cli import run_mlops

pd = pytest.importorskip("pandas")

PIPELINE = """
import pandas as pd

from mlops import process


@process
def prepare():
    {body}


@process
def features(prepare):
    return prepare.assign(ratio=prepare["price"] / prepare["size"])


@process
def score(features):
    return float(features["ratio"].sum())
"""

# Two ways to build the same frame: column by column (pandas keeps one block per
# assignment) and at once (one consolidated block); their pickles differ.
BY_COLUMN = """frame = pd.DataFrame({"size": [1, 2, 3]})
    frame["price"] = [10.0, 20.0, 40.0]
    frame["rooms"] = [1.0, 2.0, 2.0]
    return frame"""
AT_ONCE = """return pd.DataFrame(
        {"size": [1, 2, 3], "price": [10.0, 20.0, 40.0], "rooms": [1.0, 2.0, 2.0]}
    )"""
CHANGED = AT_ONCE.replace("40.0", "30.0")

CONFIG = """\
environment:
  system: {}
model:
  name: homes
  parameters:
    pipeline:
      process_adjlist: |
        prepare features
        features score
"""


def _run(workspace: Path, body: str) -> dict[str, str]:
    source = workspace / "projects" / "homes" / "src" / "pipeline.py"
    source.write_text(PIPELINE.format(body=body))
    done = run_mlops(workspace, "run", "homes", "--local")
    assert done.returncode == 0, done.stderr
    shown = run_mlops(workspace, "runs", "homes", "show", "latest", "--json")
    processes = json.loads(shown.stdout)["processes"]
    return {name: record["status"] for name, record in processes.items()}


def test_an_edit_that_gives_an_equal_frame_reruns_only_its_process(tmp_path: Path) -> None:
    a, b = pd.DataFrame({"size": [1]}), pd.DataFrame({"size": [1]})
    assert a.equals(b)
    workspace = tmp_path / "ws"
    assert run_mlops(workspace, "create", "homes").returncode == 0
    (workspace / "projects" / "homes" / "configs" / "project_config.yaml").write_text(CONFIG)
    assert set(_run(workspace, BY_COLUMN).values()) == {"completed"}
    assert _run(workspace, AT_ONCE) == {
        "prepare": "completed",
        "features": "cached",
        "score": "cached",
    }
    # A frame that is not equal still reruns what reads it.
    assert set(_run(workspace, CHANGED).values()) == {"completed"}
