"""Runs that are killed, interrupted or started twice, driven from the outside.

Every test runs the real ``mlops`` command in a subprocess and checks what a
user would see afterwards: the exit status, stderr, the run records (``mlops
runs --json``, the web API) and which processes ran again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fixtures.cli import run_mlops
from fixtures.runs import (
    descendants,
    describe,
    kill_all,
    mlops_argv,
    own_output,
    run_record,
    run_summaries,
    start_mlops,
    wait_gone,
    write_held_project,
)
from fixtures.servers import wait_until
from mlops.runtime.workspace import Workspace
from mlops.web.server import create_app

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Any]:
    workspace = tmp_path / "ws"
    write_held_project(workspace, "crash")
    env = {
        **os.environ,
        "MLOPS_WORKSPACE_DIR": str(workspace),
        "MLOPS_TEST_COUNT": str(tmp_path / "count"),
        "MLOPS_TEST_MARK": str(tmp_path / "mark"),
    }
    return {"workspace": workspace, "env": env, "mark": tmp_path / "mark", "tmp": tmp_path}


def _start(
    project: dict[str, Any], *args: str, stderr_file: Path | None = None, **env: str
) -> subprocess.Popen[str]:
    """``mlops run crash ARGS`` in a session of its own (as a terminal's foreground job)."""
    project["mark"].unlink(missing_ok=True)
    env = {**project["env"], **env}
    return start_mlops("run", "crash", *args, env=env, stderr_file=stderr_file)


def _runs(project: dict[str, Any]) -> list[dict[str, Any]]:
    return run_summaries(project["workspace"], "crash")


def _executions(project: dict[str, Any]) -> list[str]:
    count = project["tmp"] / "count"
    return count.read_text().split() if count.exists() else []


def test_a_killed_run_is_shown_interrupted_once_its_process_is_gone(
    project: dict[str, Any],
) -> None:
    running = _start(project, "--local")
    wait_until(project["mark"].exists, "the slow process", running)  # type: ignore[arg-type]
    # While its process lives, a run is running, whoever reads it.
    assert _runs(project)[0]["status"] == "running"
    os.kill(running.pid, signal.SIGKILL)
    running.communicate(timeout=30)
    # The CLI and the web API each find it on their own: one reads a copy of the workspace.
    copy = project["tmp"] / "copy"
    shutil.copytree(project["workspace"], copy)
    app = create_app(Workspace.resolve(copy))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        listed = client.get("/api/projects/crash/runs").json()
        assert listed["runs"][0]["status"] == "interrupted"
        detail = client.get(f"/api/projects/crash/runs/{listed['runs'][0]['run_id']}").json()
        assert detail["processes"]["slow"]["status"] == "interrupted"
    runs = _runs(project)
    assert runs[0]["status"] == "interrupted"
    shown = run_mlops(project["workspace"], "runs", "crash", "show", runs[0]["run_id"], "--json")
    record = json.loads(shown.stdout)
    assert record["processes"]["slow"]["status"] == "interrupted"
    assert record["processes"]["last"]["status"] == "skipped"
    assert f"pid {running.pid}" in record["error"]["message"]


@pytest.mark.parametrize(
    "args",
    [
        ["--local"],
        ["--local", "--executor", "threads"],
        ["--local", "--executor", "processes"],
        ["--local", "--cluster", "local"],
        [],  # through the project's environment: the child is interrupted, not killed
    ],
    ids=["sequential", "threads", "processes", "local-cluster", "project-environment"],
)
def test_ctrl_c_stops_every_executor_at_once_and_the_next_run_resumes(
    project: dict[str, Any], args: list[str]
) -> None:
    running = _start(project, *args)
    try:
        wait_until(project["mark"].exists, "the slow process", running)  # type: ignore[arg-type]
    except RuntimeError as exc:  # the run ended before `slow` started: show why
        _, err = running.communicate(timeout=60)
        raise AssertionError(f"{exc}\n{err}") from exc
    signalled = time.monotonic()
    os.killpg(running.pid, signal.SIGINT)  # as Ctrl-C does: the whole foreground group
    _, err = running.communicate(timeout=60)
    took = time.monotonic() - signalled
    assert running.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == "mlops: interrupted", err
    assert "Traceback" not in err, err
    assert not [line for line in lines if line.startswith(("warning", "/"))], err
    # `slow` sleeps 60 s: an exit well before that proves it was stopped, not awaited.
    # (On an idle machine every executor exits within 2 s; under load, tearing down
    # worker processes takes longer, and a tighter bound here measured the machine.)
    assert took < 20, f"{took:.1f} s from SIGINT to exit\n{err}"
    interrupted = _runs(project)[0]
    assert interrupted["status"] == "interrupted", (interrupted, err)
    resumed = subprocess.run(
        [*mlops_argv(), "run", "crash", "--local"], capture_output=True, text=True,
        env={**project["env"], "MLOPS_TEST_SLEEP": "0"}, check=False, timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert _executions(project) == ["first", "slow", "slow", "last"]  # first was reused
    assert _runs(project)[0]["status"] == "completed"


LOCAL_EXECUTORS = [
    ["--local"],
    ["--local", "--executor", "threads"],
    ["--local", "--executor", "processes"],
    ["--local", "--cluster", "local"],
]
LOCAL_EXECUTOR_IDS = ["sequential", "threads", "processes", "local-cluster"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
@pytest.mark.parametrize("args", LOCAL_EXECUTORS, ids=LOCAL_EXECUTOR_IDS)
def test_sigterm_and_sighup_stop_a_run_as_interrupted(
    project: dict[str, Any], args: list[str], signum: signal.Signals
) -> None:
    stderr = project["tmp"] / "stderr"
    running = _start(project, *args, stderr_file=stderr)
    wait_until(project["mark"].exists, "the slow process", running)  # type: ignore[arg-type]
    started = descendants(running.pid)
    try:
        os.kill(running.pid, signum)  # to mlops alone, as `kill` sends it
        running.wait(timeout=60)
        err = stderr.read_text()
        assert running.returncode == 128 + signum, err  # 143, 129: as a shell reports it
        lines = own_output(err)
        assert lines[-1] == f"mlops: interrupted by {signum.name}", err
        assert not [line for line in lines if "Traceback" in line], err
        left = wait_gone(started)
        assert not left, describe(left)
    finally:
        kill_all(started)
    (run, *_) = _runs(project)
    record = run_record(project["workspace"], "crash", run["run_id"])
    assert record["status"] == "interrupted"
    # Recorded by the run as it stopped, not found orphaned by a later reader.
    assert record["error"] == {"message": f"interrupted ({signum.name})"}
    assert record["processes"]["slow"]["status"] == "interrupted"
    assert record["processes"]["last"]["status"] == "skipped"


@pytest.mark.parametrize(
    "args",
    [["--local", "--executor", "processes"], ["--local", "--cluster", "local"]],
    ids=["processes", "local-cluster"],
)
def test_a_run_killed_outright_leaves_no_process_behind(
    project: dict[str, Any], args: list[str]
) -> None:
    running = _start(project, *args, stderr_file=project["tmp"] / "stderr")
    wait_until(project["mark"].exists, "the slow process", running)  # type: ignore[arg-type]
    started = descendants(running.pid)  # workers, the fork server, the resource tracker
    try:
        assert started, "the run started no process of its own"
        os.kill(running.pid, signal.SIGKILL)
        running.wait(timeout=60)
        left = wait_gone(started)
        assert not left, describe(left)
    finally:
        kill_all(started)


def test_two_runs_at_once_execute_each_process_once(project: dict[str, Any]) -> None:
    release = project["tmp"] / "release"
    held = {"MLOPS_TEST_RELEASE": str(release)}
    first = _start(project, "--local", **held)
    wait_until(project["mark"].exists, "the first run", first)  # type: ignore[arg-type]
    waiting = project["tmp"] / "second.err"
    with waiting.open("w") as stderr:
        second = subprocess.Popen(
            [*mlops_argv(), "run", "crash", "--local"], env={**project["env"], **held},
            stdout=subprocess.DEVNULL, stderr=stderr, text=True,
        )  # fmt: skip
    # The first run is held in `slow` until the second says it waits for it.
    wait_until(
        lambda: "another run of crash is in progress" in waiting.read_text(),
        "the second run to wait", second,  # type: ignore[arg-type]
    )  # fmt: skip
    release.write_text("go")
    _, first_err = first.communicate(timeout=120)
    second.wait(timeout=120)
    second_err = waiting.read_text()
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    assert sorted(_executions(project)) == ["first", "last", "slow"]
    assert "another run of crash is in progress" in second_err
    assert "waiting for it to end, then reusing its results" in second_err
    statuses = [run["status"] for run in _runs(project)]
    assert statuses == ["completed", "completed"]
