"""Worker processes that Ctrl-C does not reach: the run stops them, in order."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def interrupts_for_this_process_only() -> Iterator[None]:
    """Start worker processes that Ctrl-C does not reach.

    Ctrl-C sends SIGINT to every process of the terminal's foreground group,
    the workers included: each would die printing Dask's tracebacks while
    the run is still stopping them in order. Threads and processes inherit
    the signal mask of the thread that creates them, so with SIGINT blocked
    here while the cluster starts, its event-loop thread and every worker
    process it spawns keep it blocked, while this thread unblocks it
    afterwards: a Ctrl-C during the start is delivered then, not lost.
    """
    _start_quiet_resource_tracker()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_quiet_resource_tracker() -> None:
    # multiprocessing's resource tracker removes the semaphores workers leave when
    # an interrupted run ends at once, and warns about each "leak" on the run's stderr.
    # Started here (it starts once per process), it cleans up without the warning.
    from multiprocessing import resource_tracker

    quiet = "ignore:resource_tracker:UserWarning"
    sys.warnoptions.append(quiet)
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(quiet)


__all__ = ["interrupts_for_this_process_only"]
