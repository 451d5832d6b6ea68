"""A workspace the machine refuses to write: a full disk, a store it may only read, a
store removed while a run uses it. Each is one line, exit status 2, and leaves no
lock, journal or half-made file behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.cli import run_mlops

pytestmark = pytest.mark.slow

SLOW_PIPELINE = """\
import os
import time
from pathlib import Path

from mlops import process


@process
def first(greeting):
    signal = Path(os.environ["FAULT_SIGNALS"])
    (signal / "started").touch()
    deadline = time.monotonic() + 60
    while not (signal / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return greeting


@process
def second(first):
    return first + "!"
"""


def _files(root: Path) -> set[str]:
    # Python's bytecode cache of the project's modules is not mlops's to leave or not.
    return {str(p.relative_to(root)) for p in root.rglob("*") if "__pycache__" not in p.parts}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB file system of its own (a tmpfs), so the test can fill it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def test_create_on_a_full_disk_leaves_no_lock_and_no_folder(small_disk: Path) -> None:
    workspace = small_disk / "ws"
    assert run_mlops(workspace, "create", "first").returncode == 0
    filler = _fill(small_disk)
    before = _files(workspace)
    failed = run_mlops(workspace, "create", "second", "--template", "sklearn")
    assert failed.returncode == 2, failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert "No space left on device" in failed.stderr
    assert _files(workspace) == before
    assert not any((workspace / ".mlops" / "locks").iterdir())
    filler.unlink()
    assert run_mlops(workspace, "create", "second").returncode == 0


def test_a_run_on_a_full_disk_names_the_fix_and_leaves_no_journal(small_disk: Path) -> None:
    workspace = small_disk / "ws"
    assert run_mlops(workspace, "create", "demo").returncode == 0
    assert run_mlops(workspace, "run", "demo", "--local", "-q").returncode == 0
    filler = _fill(small_disk)
    before = _files(workspace)
    failed = run_mlops(workspace, "run", "demo", "--local", "--no-cache")
    assert failed.returncode == 2, failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert "free space on the disk" in failed.stderr
    assert _files(workspace) == before  # no kv.sqlite3-wal, -shm, lock or temp file
    filler.unlink()
    history = run_mlops(workspace, "runs", "demo")
    assert history.returncode == 0, history.stderr
    assert "completed" in history.stdout


def test_a_first_run_on_a_full_disk_leaves_no_empty_store(small_disk: Path) -> None:
    workspace = small_disk / "ws"
    assert run_mlops(workspace, "create", "demo").returncode == 0
    _fill(small_disk)
    before = _files(workspace)
    failed = run_mlops(workspace, "run", "demo", "--local")
    assert failed.returncode == 2, failed.stderr
    assert not (workspace / ".mlops" / "kv.sqlite3").exists()
    assert _files(workspace) - before <= {".mlops/objects", ".mlops/objects/demo"}


@pytest.fixture
def read_only_store(tmp_path: Path) -> Iterator[Path]:
    """A workspace whose KV store this process may read but not write (its folder may)."""
    workspace = tmp_path / "ws"
    assert run_mlops(workspace, "create", "demo").returncode == 0
    assert run_mlops(workspace, "run", "demo", "--local", "-q").returncode == 0
    store = workspace / ".mlops" / "kv.sqlite3"
    if os.geteuid() == 0:  # root writes whatever the mode says: make the file immutable
        made = subprocess.run(["chattr", "+i", str(store)], capture_output=True, check=False)
        if made.returncode != 0:
            pytest.skip("this file system cannot make a file immutable (chattr +i)")
    else:
        store.chmod(0o444)
    try:
        yield workspace
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(store)], check=False)
        store.chmod(0o644)


def test_a_store_that_may_only_be_read_refuses_a_run_and_leaves_no_journal(
    read_only_store: Path,
) -> None:
    workspace = read_only_store
    before = _files(workspace)
    failed = run_mlops(workspace, "run", "demo", "--local", "--no-cache")
    assert failed.returncode == 2, failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert "readonly database" in failed.stderr
    assert "writable" in failed.stderr
    assert _files(workspace) == before  # no kv.sqlite3-wal or -shm beside it
    history = run_mlops(workspace, "runs", "demo")  # the history still reads
    assert history.returncode == 0, history.stderr
    assert "completed" in history.stdout
    assert _files(workspace) == before


def test_a_store_removed_during_a_run_is_an_error_not_a_lost_record(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    signals = tmp_path / "signals"
    signals.mkdir()
    assert run_mlops(workspace, "create", "demo").returncode == 0
    project = workspace / "projects" / "demo"
    (project / "src" / "pipeline.py").write_text(SLOW_PIPELINE)
    config = project / "configs" / "project_config.yaml"
    config.write_text(config.read_text().replace("        hello\n", "        first second\n"))
    assert run_mlops(workspace, "config", "demo", "validate", "--local").returncode == 0
    script = Path(sys.executable).parent / "mlops"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "mlops.main"]
    env = {**os.environ, "MLOPS_WORKSPACE_DIR": str(workspace), "FAULT_SIGNALS": str(signals)}
    run = subprocess.Popen(
        [*argv, "run", "demo", "--local"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (signals / "started").exists():
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the process never started"
            time.sleep(0.02)
        for store in (workspace / ".mlops").glob("kv.sqlite3*"):
            store.unlink()
        (signals / "go").touch()
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "records could not be written" in lines[0] or "could not be recorded" in lines[0]
    assert "removed or replaced while in use" in lines[0]
