"""Where tasks run: one small protocol, an in-process backend and Dask.

``submit(fn, *args)`` returns a future, ``wait(futures)`` returns the ones
that finished (at least one), ``close()`` releases what the executor started.

- ``sequential``: runs each task at submit time, in this thread; for
  debugging (breakpoints work) and for small graphs, where it is fastest.
- ``threads`` / ``processes``: a Dask ``LocalCluster`` with threads in this
  process, or worker processes (one per core) for CPU-bound Python code.
- ``dask``: a ``distributed.Client`` the caller hands in (a scheduler address
  or a cluster provider's client); it is not closed here, its owner closes it.

Dask is imported only when a Dask executor is created.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future
from typing import Any, Protocol

from mlops.errors import ConfigError
from mlops.runtime.request import EXECUTOR_KINDS

DEFAULT_EXECUTOR = "sequential"


class ResultFuture(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...

    def done(self) -> bool: ...


class Executor(Protocol):
    name: str
    #: Tasks run in this process: stores can be handed over live, results travel inline.
    in_process: bool

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> ResultFuture: ...

    def wait(self, futures: Collection[ResultFuture]) -> set[ResultFuture]: ...

    def close(self) -> None: ...


class SequentialExecutor:
    """Runs each task when it is submitted, in the caller's thread."""

    name = "sequential"
    in_process = True

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> ResultFuture:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, like Dask
            future.set_exception(exc)
        return future

    def wait(self, futures: Collection[ResultFuture]) -> set[ResultFuture]:
        return {f for f in futures if f.done()}

    def close(self) -> None:
        return None


class DaskExecutor:
    """Tasks on a ``distributed.Client``; closes the client and cluster only if it made them.

    Given a ``start`` function instead of a client, the cluster starts on the
    first submit: a run whose every process is reused from the cache never
    pays for starting workers.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        start: Callable[[], Any] | None = None,
        name: str = "dask",
        owns: bool = False,
        in_process: bool = False,
    ) -> None:
        if (client is None) == (start is None):
            raise ValueError("give either a client or a start function")
        self._client = client
        self._start = start
        self.name = name
        self.owns = owns
        self.in_process = in_process

    @property
    def started(self) -> bool:
        return self._client is not None

    @property
    def client(self) -> Any:
        if self._client is None and self._start is not None:
            self._client = self._start()
        return self._client

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> ResultFuture:
        future: ResultFuture = self.client.submit(fn, *args, pure=False)
        return future

    def wait(self, futures: Collection[ResultFuture]) -> set[ResultFuture]:
        from distributed import wait

        # A client a provider hands in is not the process-wide default one.
        with self.client.as_current():
            done, _ = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done)

    def close(self) -> None:
        if not self.owns or self._client is None:
            return
        cluster = getattr(self._client, "cluster", None)
        self._client.close()
        if cluster is not None:
            cluster.close()
        self._client = None


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
    with environ_restored():
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
    processes = name == "processes"

    def start() -> Any:
        return local_client(
            n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes
        )

    return DaskExecutor(start=start, name=name, owns=True, in_process=not processes)


__all__ = [
    "DEFAULT_EXECUTOR",
    "EXECUTOR_KINDS",
    "DaskExecutor",
    "Executor",
    "ResultFuture",
    "SequentialExecutor",
    "create_executor",
    "local_client",
]
