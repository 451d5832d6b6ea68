"""A run in its project's environment ends with the ``mlops run`` that launched it.

``mlops run NAME`` of a project with a venv starts ``mlops job run`` again in
that venv and waits for it. Each test signals the launcher alone, as ``kill``
does, while the run inside is held in a long C call, and checks what a user
would see: the launcher's exit status and last line, the run recorded
``interrupted`` by the run itself (with the signal it stopped on, not found
orphaned later), and no process of the run left behind.
"""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest

from fixtures.cli import run_mlops
from fixtures.runs import (
    descendants,
    describe,
    kill_all,
    run_record,
    run_summaries,
    start_mlops,
    wait_gone,
    write_held_project,
)
from fixtures.servers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.venv]

VENV = "environment:\n  venv: {}\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose venv (mlops in it, nothing else) is built once for the module;
    every project with the same spec runs in it."""
    root = tmp_path_factory.mktemp("launcher")
    workspace = root / "ws"
    write_held_project(workspace, "warmup", environment=VENV)
    counts = {"MLOPS_TEST_COUNT": str(root / "count"), "MLOPS_TEST_MARK": str(root / "mark")}
    built = run_mlops(
        workspace, "run", "warmup", env={**counts, "MLOPS_TEST_SLEEP": "0"}, timeout=600
    )
    assert built.returncode == 0, built.stderr
    assert "running in " in built.stderr, built.stderr  # in the venv, through a child
    return workspace


@pytest.mark.parametrize(
    ("signum", "executor"),
    [
        (signal.SIGTERM, "sequential"),
        (signal.SIGHUP, "sequential"),
        (signal.SIGKILL, "sequential"),
        (signal.SIGTERM, "processes"),
        (signal.SIGKILL, "processes"),
    ],
    ids=["sigterm", "sighup", "sigkill", "sigterm-processes", "sigkill-processes"],
)
def test_a_signal_to_the_launcher_stops_the_run_in_the_environment(
    workspace: Path, tmp_path: Path, signum: signal.Signals, executor: str
) -> None:
    name = f"held-{uuid.uuid4().hex[:8]}"
    write_held_project(workspace, name, environment=VENV)
    mark, stderr = tmp_path / "mark", tmp_path / "stderr"
    env = {
        **os.environ,
        "MLOPS_WORKSPACE_DIR": str(workspace),
        "MLOPS_TEST_COUNT": str(tmp_path / "count"),
        "MLOPS_TEST_MARK": str(mark),
    }
    launcher = start_mlops("run", name, "--executor", executor, env=env, stderr_file=stderr)
    wait_until(mark.exists, "the slow process", launcher)  # type: ignore[arg-type]
    started = descendants(launcher.pid)
    try:
        commands = describe(started)
        assert "job run --request" in commands, commands  # the run is the launcher's child
        os.kill(launcher.pid, signum)
        launcher.wait(timeout=60)
        err = stderr.read_text()
        if signum == signal.SIGKILL:
            # The kernel tells the child its launcher is gone: it stops as on SIGTERM.
            assert launcher.returncode == -signal.SIGKILL
            stopped_on = signal.SIGTERM
        else:
            assert launcher.returncode == 128 + signum, err  # 143, 129: as a shell reports
            stopped_on = signum
        left = wait_gone(started)
        assert not left, describe(left)
        # The child's own last line, on the stderr it shares with its launcher.
        lines = [line for line in stderr.read_text().splitlines() if line.strip()]
        assert lines[-1] == f"mlops: interrupted by {stopped_on.name}", err
        assert "Traceback" not in err, err
    finally:
        kill_all(started)
    (run, *_) = run_summaries(workspace, name)
    record = run_record(workspace, name, run["run_id"])
    assert record["status"] == "interrupted"
    assert record["error"] == {"message": f"interrupted ({stopped_on.name})"}
    assert record["processes"]["slow"]["status"] == "interrupted"
    assert record["processes"]["last"]["status"] == "skipped"
