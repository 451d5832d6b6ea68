"""The record of a sweep: its spec, its points (each an ordinary run), status and best point.

A sweep is ``sweeps/<sweep id>`` in the project's KV store, written when it
starts and each time a point settles: its points (the swept values, the run,
its status, the metric), how it ended, and the best point by its goal.
``completed`` means every point completed; ``completed_with_failures`` that
some failed and the others went on; ``interrupted`` a stop signal, or an owner
found dead by a later reader (as for runs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from mlops.runtime.clock import utc_now
from mlops.runtime.json_values import record_params, record_value
from mlops.storage.interfaces.kv_store import KVStore
from mlops.tracking.run_owner import owner_gone, owner_record
from mlops.tracking.run_records import new_run_id
from mlops.tracking.status import RunStatus

SWEEPS_PREFIX = "sweeps/"


class SweepStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_FAILURES = "completed_with_failures"
    FAILED = "failed"  # stopped by a mistake found once it ran (a metric no point gives)
    INTERRUPTED = "interrupted"


def new_sweep_id() -> str:
    return f"sweep-{new_run_id()}"


def find_metric(metrics: Mapping[str, Any], name: str) -> str | None:
    """The key of metric ``name`` in a run's metrics: ``process.metric`` as given, or the one
    metric of that name in any process; None when there is none, or more than one."""
    if name in metrics:
        return name
    found = [key for key in metrics if key.rsplit(".", 1)[-1] == name]
    return found[0] if len(found) == 1 else None


def ranked(points: Sequence[Mapping[str, Any]], goal: str) -> list[Mapping[str, Any]]:
    """Points with a metric, best first by ``goal`` (``minimize``/``maximize``)."""
    scored = [p for p in points if isinstance(p.get("metric"), int | float)]
    return sorted(scored, key=lambda p: float(p["metric"]), reverse=goal == "maximize")


def ordered_points(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A sweep's points best first by its goal; those without a metric after, by index."""
    points = list(record.get("points") or [])
    best = ranked(points, str((record.get("spec") or {}).get("goal") or "minimize"))
    ranked_ids = {id(p) for p in best}
    rest = sorted((p for p in points if id(p) not in ranked_ids), key=lambda p: int(p["index"]))
    return [*best, *rest]


def matching_sweeps(sweeps: Sequence[Mapping[str, Any]], wanted: str) -> list[Mapping[str, Any]]:
    """The sweeps (given newest first) that ``wanted`` names: ``latest`` the newest, an id
    that one, else every sweep whose id starts with it (one match names a sweep)."""
    if wanted == "latest" and sweeps:
        return [sweeps[0]]
    exact = [s for s in sweeps if s.get("sweep_id") == wanted]
    return exact or [s for s in sweeps if str(s.get("sweep_id")).startswith(wanted)]


class SweepRecorder:
    """Writes one sweep's record as its points settle (safe from several threads)."""

    def __init__(
        self,
        kv: KVStore,
        *,
        sweep_id: str,
        project: str,
        name: str | None,
        spec: Mapping[str, Any],
        resumed_from: str | None = None,
    ) -> None:
        self.kv = kv
        self.sweep_id = sweep_id
        self.goal = str(spec.get("goal") or "minimize")
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self.record: dict[str, Any] = {
            "sweep_id": sweep_id,
            "project": project,
            "name": name,
            "spec": record_value(spec),
            "status": SweepStatus.RUNNING.value,
            "started_at": utc_now(),
            "finished_at": None,
            "duration": None,
            "owner": owner_record(),
            "resumed_from": resumed_from,
            "points": [],
            "best": None,
            "error": None,
        }
        self._write()

    def point_started(self, index: int, values: Mapping[str, Any], run_id: str) -> None:
        with self._lock:
            self.record["points"].append(
                {
                    "index": index,
                    "params": record_params(values),
                    "run_id": run_id,
                    "status": RunStatus.RUNNING.value,
                    "metric": None,
                    "error": None,
                }
            )
            self._write()

    def point_finished(
        self, index: int, status: RunStatus, *, metric: float | None, error: str | None
    ) -> None:
        with self._lock:
            for point in self.record["points"]:
                if point["index"] == index:
                    point.update(status=status.value, metric=metric, error=error)
            best = ranked(self.record["points"], self.goal)
            self.record["best"] = dict(best[0]) if best else None
            self._write()

    def finish(self, status: SweepStatus, *, error: str | None = None) -> None:
        with self._lock:
            for point in self.record["points"]:
                if status is SweepStatus.INTERRUPTED and point["status"] == "running":
                    point["status"] = RunStatus.INTERRUPTED.value
            self.record.update(
                status=status.value,
                finished_at=utc_now(),
                duration=round(time.perf_counter() - self._started, 6),
                error=error,
            )
            self._write()

    def _write(self) -> None:
        self.kv.set(f"{SWEEPS_PREFIX}{self.sweep_id}", self.record)


def get_sweep(kv: KVStore, sweep_id: str) -> dict[str, Any] | None:
    """One sweep's record; a ``running`` one whose owner died on this host reads as
    ``interrupted`` (and is written so)."""
    record = kv.get(f"{SWEEPS_PREFIX}{sweep_id}")
    if not isinstance(record, dict):
        return None
    if record.get("status") == SweepStatus.RUNNING.value and owner_gone(record.get("owner")):
        record["status"] = SweepStatus.INTERRUPTED.value
        for point in record.get("points") or []:
            if point.get("status") == RunStatus.RUNNING.value:
                point["status"] = RunStatus.INTERRUPTED.value
        record["error"] = "its process ended without recording the end"
        kv.set(f"{SWEEPS_PREFIX}{sweep_id}", record)
    return record


def list_sweeps(kv: KVStore) -> list[dict[str, Any]]:
    """Every sweep of the project, oldest first."""
    ids = [key[len(SWEEPS_PREFIX) :] for key in kv.keys(SWEEPS_PREFIX) if key.count("/") == 1]
    found = [get_sweep(kv, sweep_id) for sweep_id in ids]
    return sorted(
        (s for s in found if s is not None),
        key=lambda s: (str(s.get("started_at")), str(s.get("sweep_id"))),
    )


__all__ = [
    "SWEEPS_PREFIX",
    "SweepRecorder",
    "SweepStatus",
    "find_metric",
    "get_sweep",
    "list_sweeps",
    "matching_sweeps",
    "new_sweep_id",
    "ordered_points",
    "ranked",
]
