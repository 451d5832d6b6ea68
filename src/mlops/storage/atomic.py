"""Atomic file replacement, for every file mlops rewrites.

A reader sees the old file or the new one, never a part: writes go to a temp
file in the same folder and are renamed over the target. Read-modify-write
cycles across processes hold a lock of :mod:`mlops.storage.file_locks`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".mlops-tmp-"


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once, at import (single-threaded then): os.umask can only be read by setting it.
_NEW_FILE_MODE = 0o666 & ~_read_umask()


@contextmanager
def atomic_writer(path: Path, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary stream that replaces ``path`` when the block ends, and not at all if it raises.

    The new file keeps the mode of the one it replaces (a new file gets the
    mode the umask gives).

    With ``durable`` the data is fsynced before the rename, so a power loss
    cannot leave an empty file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)  # a rewrite keeps the file's permissions
    except OSError:
        mode = _NEW_FILE_MODE  # as open() would create it, not mkstemp's 0600
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    with atomic_writer(path, durable=durable) as handle:
        handle.write(text.encode("utf-8"))
