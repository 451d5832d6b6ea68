"""Locks that leave no file: exclusive across processes, and gone once released."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from mlops.errors import StorageError
from mlops.storage.file_locks import LockFile, file_lock


def test_a_released_lock_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "x.lock"
    with file_lock(path):
        assert path.exists()
    assert not path.exists()


def test_a_failed_block_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with pytest.raises(OSError, match="full"), file_lock(path):
        raise OSError(28, "No space left on device (full)")
    assert not path.exists()


def test_a_held_lock_times_out_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with (
        file_lock(path),
        pytest.raises(StorageError, match="held the lock on the index"),
        file_lock(path, timeout=0.1, what="the index"),
    ):
        pass


def _hold(path: str, held: object, release: object) -> None:
    lock = LockFile(Path(path))
    assert lock.acquire(timeout=10)
    held.set()  # type: ignore[attr-defined]
    release.wait(10)  # type: ignore[attr-defined]
    lock.release()


def test_a_waiter_takes_the_lock_its_holder_removed_and_nobody_holds_it_twice(
    tmp_path: Path,
) -> None:
    """The holder removes the file as it lets go; a waiter that opened the old file
    must not believe it holds the lock while a newcomer holds the new one."""
    path = tmp_path / "x.lock"
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(str(path), held, release))
    holder.start()
    try:
        assert held.wait(30)
        waiter = LockFile(path)
        assert not waiter.acquire(timeout=0.05)
        release.set()
        assert waiter.acquire(timeout=10)
        assert path.exists()
        newcomer = LockFile(path)
        assert not newcomer.acquire(timeout=0.2)  # the waiter holds the file at the path
        waiter.release()
        assert newcomer.acquire(timeout=1)
        newcomer.release()
    finally:
        release.set()
        holder.join(30)
    assert not path.exists()


def test_the_wait_polls_so_it_can_end(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with file_lock(path):
        started = time.monotonic()
        assert not LockFile(path).acquire(timeout=0.2, poll=0.05)
        assert time.monotonic() - started < 5


def test_a_taker_whose_file_was_removed_between_open_and_lock_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the inode check closes: a taker opens the file, the holder removes it
    and lets go, the taker's lock then succeeds on a file no longer at the path. It
    must start again, or a newcomer would lock a new file and both would hold."""
    import os

    from mlops.storage import file_locks

    path = tmp_path / "x.lock"
    holder = LockFile(path)
    assert holder.acquire(timeout=1)
    real_open = os.open
    opened: list[int] = []

    def open_then_holder_lets_go(*args: object, **kwargs: object) -> int:
        descriptor = real_open(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(descriptor)
        if len(opened) == 1:
            holder.release()  # removes the file this taker just opened, then unlocks
        return descriptor

    monkeypatch.setattr(file_locks.os, "open", open_then_holder_lets_go)
    taker = LockFile(path)
    assert taker.acquire(timeout=1)
    monkeypatch.undo()
    assert len(opened) == 2  # it opened the file again, at the path
    newcomer = LockFile(path)
    assert not newcomer.acquire(timeout=0.2)
    taker.release()
    assert newcomer.acquire(timeout=1)
    newcomer.release()
