"""Run records: one JSON document per pipeline run in the project's KV store.

``runs/<run_id>`` holds the run's status, timings, selection, environment and
one entry per process (status, duration, cache hit, attempts, error, metrics,
why it ran). The record is rewritten as processes finish, so the web UI and
``mlops info`` see a run in progress. Run ids sort by start time.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from mlops.core.dask_networkx_executor import ProcessRecord
from mlops.core.graph_types import PipelineGraph, ProcessStatus, RunStatus
from mlops.storage.interfaces.kv_store import KVStore

RUNS_PREFIX = "runs/"


def new_run_id() -> str:
    """``20261121T071129-3f2a9c``: sortable by start time, unique across hosts."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class RunRecorder:
    """Writes one run's record; thread-safe (updates arrive from executor callbacks)."""

    def __init__(
        self,
        kv: KVStore,
        *,
        run_id: str,
        project: str,
        graph: PipelineGraph,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.kv = kv
        self.run_id = run_id
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self.record: dict[str, Any] = {
            "run_id": run_id,
            "project": project,
            "status": RunStatus.RUNNING.value,
            "started_at": _now(),
            "finished_at": None,
            "duration": None,
            "pid": os.getpid(),
            "order": list(graph.order),
            "edges": [list(edge) for edge in graph.edges],
            "processes": {name: ProcessRecord(name).to_json() for name in graph.order},
            "metrics": {},
            "error": None,
            **dict(details or {}),
        }
        self._write()

    def update(self, process: ProcessRecord) -> None:
        with self._lock:
            self.record["processes"][process.name] = process.to_json()
            if process.status.finished_ok:
                for point in process.metrics:
                    self.record["metrics"][f"{process.name}.{point['name']}"] = point["value"]
            self._write()

    def finish(self, status: RunStatus, *, error: Mapping[str, Any] | None = None) -> None:
        with self._lock:
            self.record.update(
                status=status.value,
                finished_at=_now(),
                duration=round(time.perf_counter() - self._started, 6),
                error=dict(error) if error else None,
            )
            self._write()

    def _write(self) -> None:
        self.kv.set(f"{RUNS_PREFIX}{self.run_id}", self.record)


def get_run(kv: KVStore, run_id: str) -> dict[str, Any] | None:
    record = kv.get(f"{RUNS_PREFIX}{run_id}")
    return record if isinstance(record, dict) else None


def list_runs(kv: KVStore) -> list[dict[str, Any]]:
    """Every run record of the project, oldest first."""
    records = [kv.get(key) for key in kv.keys(RUNS_PREFIX) if key.count("/") == 1]
    runs = [r for r in records if isinstance(r, dict)]
    return sorted(runs, key=lambda r: (str(r.get("started_at")), str(r.get("run_id"))))


def latest_run(kv: KVStore) -> dict[str, Any] | None:
    runs = list_runs(kv)
    return runs[-1] if runs else None


def process_counts(record: Mapping[str, Any]) -> dict[str, int]:
    """How many processes of a run ended in each status."""
    counts = {status.value: 0 for status in ProcessStatus}
    for process in (record.get("processes") or {}).values():
        counts[str(process.get("status"))] = counts.get(str(process.get("status")), 0) + 1
    return {k: v for k, v in counts.items() if v}


__all__ = [
    "RUNS_PREFIX",
    "RunRecorder",
    "get_run",
    "latest_run",
    "list_runs",
    "new_run_id",
    "process_counts",
]
