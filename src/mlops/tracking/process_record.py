"""The record of one process in one run, as the run record and the summary table hold it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops.runtime.json_values import record_params
from mlops.tracking.status import ProcessStatus


@dataclass
class ProcessRecord:
    """One process in one run: the row of the summary table and of the run record."""

    name: str
    status: ProcessStatus = ProcessStatus.PENDING
    key: str | None = None
    cache_hit: bool = False
    duration: float = 0.0
    attempts: int = 0
    iterations: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    traceback: str | None = None
    reason: str | None = None  # why it ran, was reused or was skipped (--explain)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)
    #: The parameters its cache key covers (what it read), as it ran or was reused with them.
    params: dict[str, Any] = field(default_factory=dict)
    #: Files it kept (``ctx.log_artifact``, ``outputs:``): :mod:`mlops.tracking.artifacts` entries.
    artifacts: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "key": self.key,
            "cache_hit": self.cache_hit,
            "duration": round(self.duration, 6),
            "attempts": self.attempts,
            "iterations": self.iterations,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "traceback": self.traceback,
            "reason": self.reason,
            "metrics": self.metrics,
            "steps": self.steps,
            "params": record_params(self.params),
            "artifacts": self.artifacts,
        }


__all__ = ["ProcessRecord"]
