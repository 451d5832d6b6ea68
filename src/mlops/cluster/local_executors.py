"""The executors that run on this machine: in this thread, or on a local Dask cluster.

- ``sequential``: each task at submit time, in this thread;
- ``threads``: a Dask ``LocalCluster`` with threads in this process, started
  on the first task (a fully cached run starts no cluster);
- ``processes``: a pool of worker processes, one per core, for CPU-bound
  Python code (:mod:`mlops.cluster.process_pool`), also started on the first
  task;
- with a client (a cluster provider's), a Dask executor on it, closed by
  its owner.

The engine receives what this module makes; it never starts a cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from mlops.cluster.process_pool import ProcessPool, start_fork_server
from mlops.cluster.worker_signals import interrupts_for_this_process_only
from mlops.engine.executors import DaskExecutor, Executor, SequentialExecutor
from mlops.errors import ConfigError
from mlops.runtime.request import EXECUTOR_KINDS

DEFAULT_EXECUTOR = "sequential"


@contextlib.contextmanager
def environ_restored() -> Iterator[None]:
    """Undo changes to ``os.environ`` made inside the block.

    Dask's nanny exports thread limits and ``PYTHONHASHSEED`` into this
    process's environment while it spawns workers; they are meant for the
    workers, not for the program that asked for a cluster.
    """
    before = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(before):
            del os.environ[key]
        for key, value in before.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


def local_client(
    *,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    processes: bool = True,
    **options: Any,
) -> Any:
    """A client of a new ``LocalCluster`` (``client.cluster``), sized from the machine.

    Worker processes get one thread each, one per core; an in-process cluster
    gets one worker with a thread per core. ``options`` go to ``LocalCluster``.
    """
    from distributed import Client, LocalCluster

    cores = os.cpu_count() or 1
    # Worker processes talk TCP: on loopback only. Threads talk in-process.
    network = {"host": "127.0.0.1"} if processes else {}
    with environ_restored(), interrupts_for_this_process_only():
        cluster = LocalCluster(
            n_workers=n_workers or (cores if processes else 1),
            threads_per_worker=threads_per_worker or (1 if processes else cores),
            processes=processes,
            # The scheduler always serves HTTP (metrics); without an address it takes
            # port 8787 on the host's public address, and two clusters collide there.
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
            **network,
            **options,
        )
        return Client(cluster)


def create_executor(
    kind: str | None = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    client: Any = None,
) -> Executor:
    """The executor named ``kind`` (``sequential`` when None); see the module docstring."""
    if client is not None:
        return DaskExecutor(client, name=kind or "dask")
    name = (kind or DEFAULT_EXECUTOR).strip().lower()
    if name == "sequential":
        return SequentialExecutor()
    if name == "dask":
        raise ConfigError(
            "executor.type: 'dask' runs on a cluster's client",
            hint="use `mlops run NAME --cluster PROVIDER`, or threads/processes for this machine",
        )
    if name not in EXECUTOR_KINDS:
        raise ConfigError(
            f"executor.type: unknown executor {kind!r}",
            hint=f"choose one of: {', '.join(EXECUTOR_KINDS)}",
        )
    if name == "processes":
        return ProcessPool(n_workers)

    def start() -> Any:
        return local_client(
            n_workers=n_workers, threads_per_worker=threads_per_worker, processes=False
        )

    return DaskExecutor(start=start, name=name, owns=True, in_process=True)


def start_early(kind: str | None, *, client: Any = None) -> None:
    """Start now what the executor ``kind`` can start before it runs anything.

    The processes executor's fork server (:func:`~mlops.cluster.process_pool.start_fork_server`):
    its imports then overlap the run's checks of the project instead of
    delaying the first process. Nothing for the others: a cluster or a pool of
    threads costs what it costs only once a process runs.
    """
    if client is None and (kind or DEFAULT_EXECUTOR).strip().lower() == "processes":
        start_fork_server()


__all__ = [
    "DEFAULT_EXECUTOR",
    "create_executor",
    "environ_restored",
    "local_client",
    "start_early",
]
