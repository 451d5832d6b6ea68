"""A process that ends the program itself (``sys.exit``, ``raise SystemExit``, ``raise
KeyboardInterrupt``) is a failed process, on every executor.

Each test runs the real ``mlops run`` and reads the run back: exit status 1, the
one error line naming the process and why, the process ``failed`` with that
reason, what follows it ``skipped``, the independent branch run as usual, and
no process of the run left behind. (A real Ctrl-C is ``test_crash_safety``'s.)
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from fixtures.cli import run_mlops
from fixtures.projects import ProjectFactory
from fixtures.runs import (
    describe,
    kill_all,
    own_output,
    run_record,
    run_summaries,
    tagged,
    wait_gone,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

PIPELINE = """
import sys
from mlops import process

@process
def first():
    return 1

@process
def leaves(first):
    {statement}
    return first + 1

@process
def after(leaves):
    return leaves + 1

@process
def beside(first):
    return first + 10
"""

EXITS = [
    ("sys.exit(0)", "the process called sys.exit(0)"),
    ("sys.exit(3)", "the process called sys.exit(3)"),
    ("raise SystemExit", "the process called sys.exit()"),
    ("raise KeyboardInterrupt", "the process raised KeyboardInterrupt itself"),
]

EXECUTORS = [
    ["--executor", "sequential"],
    ["--executor", "threads"],
    ["--executor", "processes"],
    ["--cluster", "local"],
]


@pytest.mark.parametrize(
    ("statement", "reason"), EXITS, ids=["exit-0", "exit-3", "raise-systemexit", "raise-kbi"]
)
@pytest.mark.parametrize(
    "executor", EXECUTORS, ids=["sequential", "threads", "processes", "local-cluster"]
)
def test_a_process_that_ends_the_program_is_a_failed_process(
    make_project: ProjectFactory, tmp_workspace: Path, statement: str, reason: str,
    executor: list[str],
) -> None:  # fmt: skip
    make_project("exits", PIPELINE.format(statement=statement), "first leaves beside\nleaves after")
    tag = uuid.uuid4().hex
    try:
        # A run that hangs (a worker thread that took the program's exit for its own)
        # fails here rather than at the suite's timeout.
        ran = run_mlops(
            tmp_workspace, "run", "exits", "--local", *executor,
            timeout=120, env={"MLOPS_TEST_TAG": tag},
        )  # fmt: skip
        assert ran.returncode == 1, (ran.returncode, ran.stdout, ran.stderr)
        lines = own_output(ran.stderr)
        assert not [line for line in lines if "Traceback" in line], ran.stderr
        assert lines[-1].startswith("mlops: run "), ran.stderr
        assert f"failed: process 'leaves': {reason} (fix it" in lines[-1], ran.stderr
        (summary,) = run_summaries(tmp_workspace, "exits")
        assert summary["status"] == "failed"
        record = run_record(tmp_workspace, "exits", summary["run_id"])
        processes = record["processes"]
        assert processes["leaves"]["status"] == "failed"
        assert processes["leaves"]["error"] == reason
        assert processes["after"]["status"] == "skipped"
        assert processes["first"]["status"] == "completed"
        assert processes["beside"]["status"] == "completed"  # the other branch, as usual
        assert record["error"] == {"process": "leaves", "message": reason}
        left = wait_gone(tagged(tag))
        assert not left, describe(left)  # no worker, fork server or tracker outlives it
    finally:
        kill_all(tagged(tag))
