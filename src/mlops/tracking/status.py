"""What happened to a process, and to a run: the statuses every record carries."""

from __future__ import annotations

from enum import StrEnum


class ProcessStatus(StrEnum):
    """What happened to one process in one run."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"  # ran and finished
    CACHED = "cached"  # reused from the cache, not run
    FAILED = "failed"
    SKIPPED = "skipped"  # an upstream failed, a condition was false, or not selected
    INTERRUPTED = "interrupted"  # running when the run was stopped (Ctrl-C, or its process died)

    @property
    def finished_ok(self) -> bool:
        return self in (ProcessStatus.COMPLETED, ProcessStatus.CACHED)


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    #: Stopped before it ended: Ctrl-C, or its owner found dead by a later reader.
    INTERRUPTED = "interrupted"


__all__ = ["ProcessStatus", "RunStatus"]
