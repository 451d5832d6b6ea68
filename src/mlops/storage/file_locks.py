"""Inter-process locks that leave no file behind.

A lock is an OS file lock (``flock``) on a file in ``.mlops/locks`` (or
``.mlops/envs/.locks``): the kernel releases it when its holder dies, however
it dies. The file exists only while someone holds or waits for the lock: the
holder removes it before letting go, so a command that failed (a full disk, a
mistake found late) or finished leaves nothing in the workspace.

Removing a lock file is safe only because a taker checks, once it holds the
lock, that the file it locked is still the one at the path (same inode). A
taker that waited on a file removed meanwhile finds it gone or replaced and
starts again, so two holders never hold "the same" lock on two files.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlops.errors import StorageError

DEFAULT_LOCK_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.05


class LockFile:
    """An exclusive lock on ``path``: :meth:`acquire` takes it, :meth:`release` gives it back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._descriptor: int | None = None

    @property
    def held(self) -> bool:
        return self._descriptor is not None

    def acquire(self, timeout: float | None = None, *, poll: float = POLL_INTERVAL_S) -> bool:
        """Take the lock within ``timeout`` seconds (None: wait as long as it takes).

        Returns False when the time ran out. The wait polls in Python, so Ctrl-C
        and other signals stop it.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            taken = self._try_once()
            if taken:
                return True
            if taken is None:  # the file went away under us: take the new one at once
                continue
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def _try_once(self) -> bool | None:
        """True: held. False: someone else holds it. None: the file was replaced; try again."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(descriptor)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        try:
            current = self.path.stat().st_ino
        except FileNotFoundError:
            current = None
        if current != os.fstat(descriptor).st_ino:  # removed by its last holder
            os.close(descriptor)
            return None
        self._descriptor = descriptor
        return True

    def release(self) -> None:
        """Remove the file, then let go: the next taker creates it anew."""
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is None:
            return
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        finally:
            os.close(descriptor)  # closing releases the flock


@contextmanager
def file_lock(
    path: Path, *, timeout: float = DEFAULT_LOCK_TIMEOUT_S, what: str = "this file"
) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the block; StorageError after ``timeout`` s."""
    lock = LockFile(path)
    if not lock.acquire(timeout):
        raise StorageError(
            f"another mlops process has held the lock on {what} for {timeout:g} s ({path})",
            hint="wait for it to finish and try again",
        )
    try:
        yield
    finally:
        lock.release()


__all__ = ["DEFAULT_LOCK_TIMEOUT_S", "LockFile", "file_lock"]
