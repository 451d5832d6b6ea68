"""Processes that end with the process that started them: the kernel's parent-death signal.

What a run starts (the processes executor's fork server and workers, the run
a launcher starts in a project's environment) must not outlive it, and a
SIGKILL gives the parent no chance to stop anything. On Linux,
``prctl(PR_SET_PDEATHSIG)`` asks the kernel to send a signal to a process when
its parent ends, however it ends. This module is the one place that calls it
(through ctypes: nothing to build or install).

The signal is asked for by the child itself, first thing, rather than between
fork and exec in the parent (a ``preexec_fn`` is unsafe in a parent with
threads, and rules out the fast spawn). The parent passes its pid and the
signal in the child's environment (:func:`child_environment`, or
:func:`children_die_with_this_process` for code that starts processes with
this process's environment); :func:`adopt` reads and removes it, so the child's
own children never see it. A parent that ended before the child asked is seen
right after: the child's parent is no longer that pid, and the child ends.

Elsewhere than Linux nothing is set: there a run's workers end by the other
means the executors have (a terminated pool, Dask's parent-alive pipe).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Mapping, MutableMapping

#: In a child's environment: ``<parent pid>:<signal number>``.
PARENT_VARIABLE = "MLOPS_DIE_WITH_PARENT"
_PR_SET_PDEATHSIG = 1
_PR_GET_PDEATHSIG = 2


def supported() -> bool:
    return sys.platform.startswith("linux")


def _set_death_signal(signum: int) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    unused = ctypes.c_ulong(0)
    if libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signum), unused, unused, unused) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")


def die_with_parent(parent: int, signum: int) -> bool:
    """Have the kernel send ``signum`` to this process when ``parent`` (its parent) ends.

    False where that cannot be asked for (not Linux). When ``parent`` is already
    gone (this process was re-parented before it asked), it ends now, as it
    would have had it asked in time.
    """
    if not supported():
        return False
    _set_death_signal(int(signum))
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)
        os._exit(128 + int(signum))  # the signal is blocked or handled: leave all the same
    return True


def death_signal() -> int:
    """The signal this process gets when its parent ends (0: none)."""
    if not supported():
        return 0
    import ctypes

    value = ctypes.c_int(0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_GET_PDEATHSIG, ctypes.byref(value), 0, 0, 0) != 0:
        return 0
    return value.value


def child_environment(environ: Mapping[str, str], signum: int) -> dict[str, str]:
    """``environ`` for a child that must get ``signum`` when this process ends (:func:`adopt`)."""
    return {**environ, PARENT_VARIABLE: f"{os.getpid()}:{int(signum)}"}


def adopt(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Die with the parent the environment names (and remove it from there); False if none."""
    value = environ.pop(PARENT_VARIABLE, None)
    if value is None:
        return False
    try:
        parent, signum = (int(part) for part in value.split(":"))
        signal.Signals(signum)
    except ValueError:
        return False  # not one this module wrote
    if parent == os.getpid():
        return False  # set here for this process's children, while it starts them
    return die_with_parent(parent, signum)


@contextlib.contextmanager
def children_die_with_this_process(signum: int) -> Iterator[None]:
    """Processes started inside the block with this process's environment, which call
    :func:`adopt`, get ``signum`` when this process ends."""
    before = os.environ.get(PARENT_VARIABLE)
    os.environ[PARENT_VARIABLE] = child_environment({}, signum)[PARENT_VARIABLE]
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PARENT_VARIABLE, None)
        else:
            os.environ[PARENT_VARIABLE] = before


__all__ = [
    "PARENT_VARIABLE",
    "adopt",
    "child_environment",
    "children_die_with_this_process",
    "death_signal",
    "die_with_parent",
    "supported",
]
