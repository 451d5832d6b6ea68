"""The ``processes`` executor: a pool of worker processes on this machine.

CPU-bound Python code needs processes (the GIL serialises threads). A bare
``concurrent.futures.ProcessPoolExecutor`` starts in a fraction of the time a
Dask ``LocalCluster`` takes (no scheduler, no nannies, no TCP), which is what a
run on one machine pays for; ``--cluster local`` keeps the Dask cluster, with
its dashboard, for those who want one.

- Workers are forked from a fork server, never from the run: a fork of a
  process with threads (the engine's, the progress display's) can deadlock in
  the child. The fork server is a fresh, single-threaded interpreter that
  imports the worker's side of the engine once (``PRELOAD``); each worker is a
  fork of it, so starting two workers costs one interpreter's imports, not two
  (as spawned workers each paid). A fork server's child ends with ``os._exit``;
  each worker runs its ``atexit`` handlers on the way out all the same
  (:func:`run_exit_handlers_at_worker_exit`), as a spawned one does.
- Workers start with SIGINT blocked (the fork server inherits the mask of the
  thread that starts it, and its forks inherit it from there; the server itself
  ignores SIGINT): Ctrl-C reaches the whole foreground process group, and a
  worker dying mid-task would print its traceback while the run is stopping
  in order. The run itself stops them (``abandon``).
- Workers end with the run, however it ends: the fork server gets SIGKILL from the
  kernel when the run's process ends, and each worker when the server does
  (:mod:`mlops.cluster.fork_server_lifetime`). Without that, a run killed with
  SIGKILL would leave them all running, each holding the pipes the others wait on.
- A worker that dies (a crash in a C extension, ``os._exit``) breaks the whole
  pool: the tasks then running fail with the reason, and the next submit gets a
  fresh pool, as Dask's nanny would restart the worker.
- The pool starts on the first submit, so a fully cached run starts no workers.
  The fork server can start earlier (:func:`start_fork_server`): a run that
  knows it will use this executor starts it before reading its config, so the
  server's imports run on another core meanwhile instead of delaying the first
  process. It forks nothing until a process is submitted.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import multiprocessing.util
import os
import signal
import threading
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from mlops.cluster.worker_signals import interrupts_for_this_process_only
from mlops.engine.executors import ResultFuture
from mlops.runtime.parent_death import children_die_with_this_process

#: What the fork server imports once for every worker it forks: first what makes it
#: end with the run, then the run's main module (multiprocessing imports it in each
#: worker; for the ``mlops`` script, that is the command line), this module (the
#: workers' initializer), the module a task's function lives in and the local
#: stores a task opens.
PRELOAD = (
    "mlops.cluster.fork_server_lifetime",
    "__main__",
    __name__,
    "mlops.engine.worker",
    "mlops.storage.local_stores",
)


def run_exit_handlers_at_worker_exit() -> None:
    """Run the worker's ``atexit`` handlers when it stops, as a spawned worker would.

    A fork server's child ends with ``os._exit``, which skips them: a process's
    own ``atexit`` work (a tracker closing its run, a file flushed, coverage
    data saved) would be lost. multiprocessing runs its finalizers on the way
    out; this is one of them.
    """
    multiprocessing.util.Finalize(None, atexit._run_exitfuncs, exitpriority=0)


def _worker_started() -> None:
    """The pool's initializer, first thing in each worker."""
    # Imported in the fork server already (a preload): its pid came with the fork.
    from mlops.cluster.fork_server_lifetime import worker_dies_with_server

    worker_dies_with_server()
    run_exit_handlers_at_worker_exit()


@contextlib.contextmanager
def _starting_workers() -> Iterator[None]:
    """Around whatever may start the fork server or a worker (see the module docstring):
    SIGINT blocked, and the fork server told to end with this process."""
    with interrupts_for_this_process_only(), children_die_with_this_process(signal.SIGKILL):
        yield


def worker_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fork server that has imported what they need."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def start_fork_server() -> None:
    """Start the workers' fork server now, if it is not running; no worker starts.

    It takes a few milliseconds here (the server imports ``PRELOAD`` in its own
    process, and the first worker waits for that, not this call). SIGINT is
    blocked while it starts, as for the pool itself (see the module docstring).
    """
    from multiprocessing import forkserver

    worker_context()
    with _starting_workers():
        forkserver.ensure_running()


class ProcessPool:
    """The ``Executor`` protocol on worker processes of this machine (see the module docstring)."""

    name = "processes"
    in_process = False

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def started(self) -> bool:
        return self._pool is not None

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # Inside: the pool's queues start multiprocessing's resource tracker,
                # which must be the quiet one (it would warn of "leaked semaphores"
                # after an interrupted run).
                with _starting_workers():
                    self._pool = ProcessPoolExecutor(
                        max_workers=self.workers,
                        mp_context=worker_context(),
                        initializer=_worker_started,
                    )
            return self._pool

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> ResultFuture:
        pool = self._current()
        try:
            return self._submit(pool, fn, *args)
        except BrokenProcessPool:
            # A worker died: the pool cannot take work any more. The tasks that
            # were running on it failed with the reason; this one gets a new pool.
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return self._submit(self._current(), fn, *args)

    @staticmethod
    def _submit(pool: ProcessPoolExecutor, fn: Callable[..., Any], /, *args: Any) -> ResultFuture:
        # The pool spawns its workers inside submit, from this thread: they inherit
        # its signal mask, so SIGINT is blocked here while they start (and the fork
        # server, should it start again here, is told to end with this process).
        with _starting_workers():
            return pool.submit(fn, *args)

    def wait(self, futures: Collection[ResultFuture]) -> set[ResultFuture]:
        pending: list[Future[Any]] = [f for f in futures if isinstance(f, Future)]
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        return set(done)

    def abandon(self) -> None:
        """Stop the workers now: the program is being interrupted and ends next."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            if process.is_alive():
                process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and not self._closed:
            pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["ProcessPool", "start_fork_server"]
