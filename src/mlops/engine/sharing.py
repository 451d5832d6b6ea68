"""Tasks in flight by cache key, shared by the schedulers of runs that go on at once.

A sweep runs its points together on one executor. Two points whose process has
the same cache key (same code, upstream results, inputs and the parameters it
reads) would compute the same result twice, racing, before either could
reuse the other's from the cache. The first to start a key's task registers it
here; a second finds it and waits for that task instead of submitting its own,
so a result shared by points is computed once, however many are in flight.
Once the task has finished, its result is in the cache for the points after.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from mlops.engine.executors import ResultFuture


@dataclass(frozen=True)
class SharedTask:
    future: ResultFuture
    run_id: str  # the run that submitted it


class TaskSharing:
    """The tasks running for a group of runs, by the cache key of their result."""

    def __init__(self) -> None:
        self._tasks: dict[str, SharedTask] = {}
        self._lock = threading.Lock()

    def running(self, key: str) -> SharedTask | None:
        with self._lock:
            return self._tasks.get(key)

    def add(self, key: str, future: ResultFuture, run_id: str) -> None:
        with self._lock:
            self._tasks.setdefault(key, SharedTask(future, run_id))

    def release(self, key: str, future: ResultFuture) -> None:
        """The task of ``key`` is done: later runs find its result in the cache."""
        with self._lock:
            task = self._tasks.get(key)
            if task is not None and task.future is future:
                del self._tasks[key]


__all__ = ["SharedTask", "TaskSharing"]
