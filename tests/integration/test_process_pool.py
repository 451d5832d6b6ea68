"""The processes executor's pool: real worker processes, a worker that dies, a stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from fixtures.cli import run_mlops
from mlops.cluster.local_executors import create_executor
from mlops.cluster.process_pool import ProcessPool


def _die() -> None:
    os._exit(3)  # as a crash in a C extension ends a worker: no exception, no cleanup


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _note_at_exit(path: str) -> int:
    import atexit

    atexit.register(Path(path).write_text, "written at exit", encoding="utf-8")
    return os.getpid()


# The fork server starts once per process, so what it does is judged in a fresh
# interpreter: a pytest worker has run hundreds of tests whose pools came and went.
FORK_SERVER_PROBE = """
import json, os, signal, sys
from pathlib import Path

from mlops.cluster.process_pool import ProcessPool, start_fork_server
from mlops.runtime.parent_death import PARENT_VARIABLE, death_signal

def blocked(pid):
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:"))
    return bool(int(mask, 16) & (1 << (signal.SIGINT - 1)))

def servers():
    import psutil

    found = []
    for child in psutil.Process().children():
        try:
            if "multiprocessing.forkserver" in " ".join(child.cmdline()):
                found.append(child.pid)
        except psutil.NoSuchProcess:
            pass
    return found

start_fork_server()
start_fork_server()  # once per process
report = {"servers": servers(), "self_blocked": blocked("self")}
report["variable_left"] = PARENT_VARIABLE in os.environ
report["server_blocked"] = [blocked(pid) for pid in report["servers"]]
pool = ProcessPool(1)
report["started_before_submit"] = pool.started
try:
    report["worker_parent"] = pool.submit(os.getppid).result(timeout=60)
    mask = pool.submit(signal.pthread_sigmask, signal.SIG_BLOCK, []).result(timeout=60)
    report["worker_blocked"] = signal.SIGINT in mask
    report["worker_death_signal"] = pool.submit(death_signal).result(timeout=60)
finally:
    pool.close()
print(json.dumps(report))
"""


def test_the_fork_server_starts_before_any_worker_and_ctrl_c_reaches_neither() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", FORK_SERVER_PROBE],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout.splitlines()[-1])
    assert len(report["servers"]) == 1, report
    assert report["server_blocked"] == [True]
    assert not report["self_blocked"]  # only while it started
    assert not report["started_before_submit"]
    assert report["worker_parent"] == report["servers"][0]  # forked from the server started first
    assert report["worker_blocked"]
    # A worker ends with its server, and the server with the run (see test_crash_safety).
    assert report["worker_death_signal"] == signal.SIGKILL
    assert not report["variable_left"]  # told to the server alone, while it started


def test_a_worker_runs_its_atexit_handlers_when_the_pool_closes(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    pool = ProcessPool(1)
    try:
        assert pool.submit(_note_at_exit, str(note)).result(timeout=60) != os.getpid()
    finally:
        pool.close()  # waits for the worker to exit
    assert note.read_text(encoding="utf-8") == "written at exit"


def test_tasks_run_in_worker_processes_started_on_first_use() -> None:
    pool = create_executor("processes", n_workers=2)
    assert isinstance(pool, ProcessPool)
    assert not pool.started  # a fully cached run starts no workers
    try:
        futures = [pool.submit(_sleep, 0.5) for _ in range(2)]
        done: set[object] = set()
        while len(done) < 2:
            done |= pool.wait([f for f in futures if f not in done])
        pids = {f.result() for f in futures}
        assert os.getpid() not in pids
        assert len(pids) == 2  # both at once, one per worker
    finally:
        pool.close()


def test_a_worker_that_dies_fails_its_task_and_the_next_task_gets_a_new_pool() -> None:
    pool = ProcessPool(1)
    try:
        with pytest.raises(BrokenProcessPool):
            pool.submit(_die).result(timeout=60)
        assert pool.submit(int, "7").result(timeout=60) == 7
    finally:
        pool.close()


def test_abandon_stops_running_workers_at_once() -> None:
    pool = ProcessPool(1)
    future = pool.submit(_sleep, 60)
    while not future.running():
        time.sleep(0.01)
    started = time.monotonic()
    pool.abandon()
    with pytest.raises(BrokenProcessPool):
        future.result(timeout=30)
    assert time.monotonic() - started < 20  # not the 60 s the task would take
    pool.close()  # nothing left to close: returns at once


CRASHING = """
import os
import signal
from pathlib import Path
from mlops import process

@process
def fine():
    return 1

@process
def crash(fine):
    if Path(__file__).with_name("crash").exists():
        os._exit(3)
    return fine + 1

@process
def after(crash):
    return crash + 1
"""


def test_a_process_that_kills_its_worker_fails_the_run_and_the_rerun_resumes(
    tmp_path: Path,
) -> None:
    assert run_mlops(tmp_path, "create", "crashy").returncode == 0
    folder = tmp_path / "projects" / "crashy"
    (folder / "src" / "pipeline.py").write_text(CRASHING)
    (folder / "configs" / "project_config.yaml").write_text(
        "model:\n  name: crashy\n  parameters:\n    pipeline:\n"
        "      process_adjlist: |\n        fine crash\n        crash after\n"
    )
    args = ("run", "crashy", "--local", "--executor", "processes")
    (folder / "src" / "crash").touch()
    failed = run_mlops(tmp_path, *args)
    assert failed.returncode == 1, failed.stderr
    assert "process 'crash'" in failed.stderr
    assert "terminated abruptly" in failed.stderr
    (folder / "src" / "crash").unlink()
    resumed = run_mlops(tmp_path, *args)
    assert resumed.returncode == 0, resumed.stderr
    assert "(1 reused, 2 ran)" in resumed.stdout
