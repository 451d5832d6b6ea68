"""Reading a user's file within a size, and only when it is a regular file.

A path where a config should be can name a FIFO (opening it waits for a writer
forever), a device such as ``/dev/zero`` (reading it never ends) or a file
larger than any config. Every read of a user's file starts here: the file is
opened without waiting (``O_NONBLOCK``), checked to be a regular file on the
open descriptor (no window between a check and the open), and read to at most
one byte past the limit, so a caller sees "too large" without holding more.
It imports nothing of mlops' own, so the launcher can use it before it loads
anything else.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegularFileError(OSError):
    """The path names something other than a regular file (a FIFO, a device, a folder)."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"it is {kind}, not a regular file")
        self.path = path
        self.kind = kind


def read_regular_file(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path``, which must be a regular file.

    ``FileNotFoundError`` and other ``OSError`` pass through; a FIFO, device,
    socket or folder is a :class:`NotRegularFileError` naming what it is.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(path, _kind(mode))
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


__all__ = ["NotRegularFileError", "read_regular_file"]
