"""Why each process ran, through the real command: judged against the previous run of the
project (named), with a nested parameter's change named at its leaf."""

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
def load(rows):
    return list(range(rows))


@process
def split(load, test_size):
    cut = int(len(load) * (1 - test_size))
    return {"train": load[:cut], "test": load[cut:]}


@process
def train(split, model_options):
    return {"n": len(split["train"]), "features": list(model_options["features"])}
"""

CONFIG = """\
model:
  name: flights
  parameters:
    rows: 20
    test_size: 0.2
    model_options:
      test_size: 0.2
      random_state: 3
      features: [engines, passenger_capacity, crew, d_check_complete, moon_clearance_complete]
    pipeline:
      process_adjlist: |
        load split
        split train
"""

FEATURES = "model.parameters.model_options.features"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    created = run_mlops(workspace, "create", "flights")
    assert created.returncode == 0, created.stderr
    project = workspace / "projects" / "flights"
    (project / "src" / "pipeline.py").write_text(textwrap.dedent(PIPELINE))
    (project / "configs" / "project_config.yaml").write_text(CONFIG)
    return workspace


def mlops(workspace: Path, *args: str) -> str:
    done = run_mlops(workspace, *args)
    assert done.returncode == 0, f"mlops {' '.join(args)}: {done.stderr}"
    return done.stdout


def latest(workspace: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(
        mlops(workspace, "runs", "flights", "show", "latest", "--json")
    )
    return record


def test_a_nested_parameter_change_names_the_leaf(workspace: Path) -> None:
    mlops(workspace, "run", "flights", "--local", "-q")
    explained = mlops(
        workspace, "run", "flights", "--local", "--explain",
        "--set", f"{FEATURES}=[engines, passenger_capacity, crew, d_check_complete, "
        "moon_clearance_complete, iata_approved]",
    )  # fmt: skip
    line = next(line for line in explained.splitlines() if " train " in f" {line} ")
    assert "model_options.features: 5 items -> 6 items (added 'iata_approved')" in line
    assert "random_state" not in line
    assert "test_size" not in line

    shown = mlops(workspace, "runs", "flights", "show", "latest")
    row = next(line for line in shown.splitlines() if line.startswith("train "))
    assert "model_options.random_state=3" in row
    assert "model_options.features:" in row
    assert "iata_approved" in row

    # Against the previous run, which had the sixth feature: both leaves are named.
    previous = latest(workspace)["run_id"]
    random_state = "model.parameters.model_options.random_state"
    mlops(workspace, "run", "flights", "--local", "-q", "--set", f"{random_state}=4")
    assert latest(workspace)["processes"]["train"]["reason"] == (
        "ran: parameters changed (model_options.features: 6 items -> 5 items "
        "(removed 'iata_approved'); model_options.random_state: 3 -> 4) "
        f"since run {previous}"
    )


def test_why_it_ran_is_judged_against_the_previous_run(workspace: Path) -> None:
    mlops(workspace, "run", "flights", "--local", "-q", "--set", "model.parameters.test_size=0.3")
    mlops(workspace, "run", "flights", "--local", "-q")  # test_size 0.2: split runs
    mlops(workspace, "run", "flights", "--local", "-q", "--set", "model.parameters.test_size=0.3")
    reused = latest(workspace)  # 0.3 again: everything reused from the first run
    assert {p["status"] for p in reused["processes"].values()} == {"cached"}

    # An edit of split's code, with 0.3 still: the previous run had 0.3 too, so only
    # the code changed, and the reason names that run.
    pipeline = workspace / "projects" / "flights" / "src" / "pipeline.py"
    pipeline.write_text(pipeline.read_text().replace("(1 - test_size))", "(1.0 - test_size))"))
    mlops(workspace, "run", "flights", "--local", "-q", "--set", "model.parameters.test_size=0.3")
    reason = latest(workspace)["processes"]["split"]["reason"]
    assert reason == f"ran: its code changed since run {reused['run_id']}"
