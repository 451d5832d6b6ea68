"""Who is running a run, and whether it still is.

A run record says ``running`` from its first write until its last. When the
process running it dies without a last write (SIGKILL, a power loss, an OOM
kill), the record would say ``running`` forever. So each run records its
owner (host, pid and the pid's start time, which tells a reused pid from the
original), and a reader that finds a ``running`` run whose owner is gone on
this host marks it ``interrupted``. A run owned by another host is left
alone: its process cannot be checked from here.
"""

from __future__ import annotations

import os
import socket
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from mlops.storage.file_locks import LockFile


@cache
def _host() -> str:
    return socket.gethostname()


def _proc_stat(pid: int) -> list[str]:
    """``/proc/PID/stat`` from its third field (state) on; empty when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes().decode("ascii", "replace")
    except OSError:
        return []
    # The command name (field 2) may hold spaces and parentheses: fields follow the last ')'.
    return stat[stat.rfind(")") + 2 :].split()


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None when unknown."""
    fields = _proc_stat(pid)
    return fields[19] if len(fields) > 19 else None


def owner_record() -> dict[str, Any]:
    """This process as a run's owner."""
    pid = os.getpid()
    return {"host": _host(), "pid": pid, "pid_started": _start_time(pid)}


def owner_gone(owner: Mapping[str, Any] | None) -> bool:
    """True when ``owner`` is a process of this host that no longer runs.

    False when it runs, when it is another host's, or when the record is too
    old to say (no owner recorded): only a certain death changes a record.
    """
    if not isinstance(owner, Mapping) or owner.get("host") != _host():
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, and another user's
    fields = _proc_stat(pid)
    if fields and fields[0] in ("Z", "X"):
        return True  # dead, not yet reaped by its parent
    started = owner.get("pid_started")
    now = fields[19] if len(fields) > 19 else None
    return started is not None and now is not None and now != started  # the pid was reused


def describe_owner(owner: Mapping[str, Any]) -> str:
    return f"pid {owner.get('pid')} on {owner.get('host')}"


class RunWaiting(UserWarning):
    """Another run of the same project holds it: this one waits, then reuses its results."""


@contextmanager
def exclusive_run(
    lock_path: Path, project: str, holder: Callable[[], str | None]
) -> Iterator[None]:
    """Hold ``project``'s run lock for the block, waiting (and saying so) while another
    run holds it.

    Two runs of one project at once would both execute every process the
    cache does not hold yet; one after the other, the second reuses what the
    first computed. ``holder()`` describes the run being waited for. The lock
    is an OS file lock: released when its process dies, however it dies.
    """
    lock = LockFile(lock_path)
    if not lock.acquire(timeout=0):
        running = holder()
        which = f" ({running})" if running else ""
        warnings.warn(
            f"another run of {project} is in progress{which}; waiting for it to end, "
            "then reusing its results",
            RunWaiting,
            stacklevel=3,
        )
        lock.acquire(poll=0.1)  # polled in Python: Ctrl-C still stops the wait
    try:
        yield
    finally:
        lock.release()


__all__ = ["RunWaiting", "describe_owner", "exclusive_run", "owner_gone", "owner_record"]
