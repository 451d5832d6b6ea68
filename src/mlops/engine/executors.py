"""Where tasks run: one small protocol, an in-process backend and a Dask client.

``submit(fn, *args)`` returns a future, ``wait(futures)`` returns the ones
that finished (at least one), ``close()`` releases what the executor started.

- :class:`SequentialExecutor`: runs each task at submit time, in this thread;
  for debugging (breakpoints work) and for small graphs, where it is fastest.
- :class:`DaskExecutor`: a ``distributed.Client`` the caller hands in, or a
  function that starts one on first use. The engine never creates a cluster
  itself: :mod:`mlops.cluster.local_executors` starts local ones.

Dask is imported only when a Dask executor waits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import Future
from typing import Any, Protocol


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

    def abandon(self) -> None:
        """Give up the work in flight without waiting for it: the program is being
        interrupted and ends next. ``close`` does nothing afterwards."""


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

    def abandon(self) -> None:
        return None  # the interrupt already stopped the task, in this very thread


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

    def abandon(self) -> None:
        # A graceful close waits for the running tasks (a thread in a long C call cannot
        # be stopped at all). The program ends next instead: threads end with it, and
        # Dask's worker processes exit when the process that started them is gone.
        self.owns = False

    def close(self) -> None:
        if not self.owns or self._client is None:
            return
        cluster = getattr(self._client, "cluster", None)
        self._client.close()
        if cluster is not None:
            cluster.close()
        self._client = None


__all__ = [
    "DaskExecutor",
    "Executor",
    "ResultFuture",
    "SequentialExecutor",
]
