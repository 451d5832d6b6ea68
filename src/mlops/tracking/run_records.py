"""Run records in the project's KV store, written as the run goes.

- ``runs/<run_id>``: status, timings, selection, executor, metrics' last values,
  and once finished how many processes ended in each status;
- ``runs/<run_id>/processes/<name>``: one process (status, duration, cache hit,
  attempts, error, metrics, why it ran), written when it changes;
- ``runs/<run_id>/environment``: interpreter, platform and installed packages.

A run records its owner (host, pid); a reader that finds a ``running`` run
whose owner died marks it ``interrupted`` (:func:`settle_if_orphaned`).

Each update writes one small document, so a process finishing costs the same
however large the graph, and a reader sees a run in progress. ``get_run``
assembles the three; ``list_runs`` returns the summaries. Run ids sort by start
time.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from mlops.config.graph import PipelineGraph
from mlops.runtime.clock import utc_now
from mlops.storage.interfaces.kv_store import KVStore
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_owner import describe_owner, owner_gone, owner_record
from mlops.tracking.status import ProcessStatus, RunStatus

RUNS_PREFIX = "runs/"


def new_run_id() -> str:
    """``20261121T071129-3f2a9c``: sortable by start time, unique across hosts."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


class RunRecorder:
    """Writes one run's records; thread-safe (updates arrive from executor callbacks)."""

    def __init__(
        self,
        kv: KVStore,
        *,
        run_id: str,
        project: str,
        graph: PipelineGraph,
        details: Mapping[str, Any] | None = None,
        environment: Mapping[str, Any] | None = None,
    ) -> None:
        self.kv = kv
        self.run_id = run_id
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self.summary: dict[str, Any] = {
            "run_id": run_id,
            "project": project,
            "status": RunStatus.RUNNING.value,
            "started_at": utc_now(),
            "finished_at": None,
            "duration": None,
            "pid": os.getpid(),
            "owner": owner_record(),
            "order": list(graph.order),
            "edges": [list(edge) for edge in graph.edges],
            "metrics": {},
            "error": None,
            **dict(details or {}),
        }
        self.processes = {name: ProcessRecord(name).to_json() for name in graph.order}
        self.environment = dict(environment or {})
        # One write for the whole start (one transaction in SQLite, MSET in Redis):
        # a run of 1,000 processes starts as fast as a run of one.
        kv.set_many(
            {
                f"{RUNS_PREFIX}{run_id}/environment": self.environment,
                **{
                    f"{RUNS_PREFIX}{run_id}/processes/{name}": document
                    for name, document in self.processes.items()
                },
                f"{RUNS_PREFIX}{run_id}": self.summary,
            }
        )

    @property
    def record(self) -> dict[str, Any]:
        """The whole record, as :func:`get_run` assembles it."""
        return _assemble(self.summary, self.processes, self.environment)

    def update(self, process: ProcessRecord) -> None:
        document = process.to_json()
        with self._lock:
            self.processes[process.name] = document
            self.kv.set(f"{RUNS_PREFIX}{self.run_id}/processes/{process.name}", document)

    def finish(self, status: RunStatus, *, error: Mapping[str, Any] | None = None) -> None:
        with self._lock:
            if status is RunStatus.INTERRUPTED:
                _interrupt_processes(self.kv, self.run_id, self.processes)
            metrics: dict[str, float] = {}
            for name, document in self.processes.items():
                if document["status"] in _FINISHED_OK:
                    for point in document["metrics"]:
                        metrics[f"{name}.{point['name']}"] = point["value"]
            self.summary.update(
                status=status.value,
                finished_at=utc_now(),
                duration=round(time.perf_counter() - self._started, 6),
                metrics=metrics,
                counts=process_counts({"processes": self.processes}),
                error=dict(error) if error else None,
            )
            self._write_summary()

    def attach_artifacts(self, artifacts: list[dict[str, Any]]) -> None:
        """Files the run produced after its processes (its charts), listed on the run."""
        with self._lock:
            self.summary["artifacts"] = [*self.summary.get("artifacts", []), *artifacts]
            self._write_summary()

    def _write_summary(self) -> None:
        self.kv.set(f"{RUNS_PREFIX}{self.run_id}", self.summary)


_FINISHED_OK = {s.value for s in ProcessStatus if s.finished_ok}
_UNFINISHED = {ProcessStatus.RUNNING.value, ProcessStatus.PENDING.value}


def _interrupt_processes(kv: KVStore, run_id: str, processes: dict[str, Any]) -> None:
    """Processes running when the run stopped become ``interrupted``; pending ones ``skipped``."""
    for name, document in processes.items():
        if document.get("status") not in _UNFINISHED:
            continue
        running = document["status"] == ProcessStatus.RUNNING.value
        status = ProcessStatus.INTERRUPTED if running else ProcessStatus.SKIPPED
        processes[name] = {
            **document,
            "status": status.value,
            "reason": "the run was interrupted" if running else "the run was interrupted first",
        }
        kv.set(f"{RUNS_PREFIX}{run_id}/processes/{name}", processes[name])


def settle_if_orphaned(kv: KVStore, summary: dict[str, Any]) -> dict[str, Any]:
    """``summary``, marked ``interrupted`` (in the store too) when it says ``running`` and
    its owner is a process of this host that is gone; see :mod:`mlops.tracking.run_owner`."""
    if summary.get("status") != RunStatus.RUNNING.value or not owner_gone(summary.get("owner")):
        return summary
    run_id = str(summary.get("run_id"))
    prefix = f"{RUNS_PREFIX}{run_id}/processes/"
    found = {key[len(prefix) :]: value for key, value in kv.get_many(kv.keys(prefix)).items()}
    processes = {name: doc for name, doc in found.items() if isinstance(doc, dict)}
    _interrupt_processes(kv, run_id, processes)
    settled = {
        **summary,
        "status": RunStatus.INTERRUPTED.value,
        "counts": process_counts({"processes": processes}),
        "error": {
            "message": f"the run's process ({describe_owner(summary['owner'])}) ended "
            "before the run did (killed, or the machine stopped)"
        },
    }
    kv.set(f"{RUNS_PREFIX}{run_id}", settled)
    return settled


def get_run(kv: KVStore, run_id: str) -> dict[str, Any] | None:
    """A run's summary with its processes and environment, or None."""
    summary = kv.get(f"{RUNS_PREFIX}{run_id}")
    if not isinstance(summary, dict):
        return None
    summary = settle_if_orphaned(kv, summary)
    prefix = f"{RUNS_PREFIX}{run_id}/processes/"
    found = {key[len(prefix) :]: value for key, value in kv.get_many(kv.keys(prefix)).items()}
    order = summary.get("order") or sorted(found)
    processes = {name: found[name] for name in order if isinstance(found.get(name), dict)}
    environment = kv.get(f"{RUNS_PREFIX}{run_id}/environment")
    return _assemble(summary, processes, environment if isinstance(environment, dict) else {})


def _assemble(
    summary: Mapping[str, Any], processes: Mapping[str, Any], environment: Mapping[str, Any]
) -> dict[str, Any]:
    # The summary names the environment (manager, spec hash); the separate
    # document adds what it contained (interpreter, platform, packages).
    merged = {**(summary.get("environment") or {}), **environment}
    return {**summary, "processes": dict(processes), "environment": merged}


def list_runs(kv: KVStore) -> list[dict[str, Any]]:
    """Every run's summary (no processes), oldest first."""
    summaries = [key for key in kv.keys(RUNS_PREFIX) if key.count("/") == 1]
    runs = [
        settle_if_orphaned(kv, r) for r in kv.get_many(summaries).values() if isinstance(r, dict)
    ]
    return sorted(runs, key=lambda r: (str(r.get("started_at")), str(r.get("run_id"))))


def earlier_run_ids(kv: KVStore, run_id: str) -> list[str]:
    """The ids of the runs that started before ``run_id``, newest first (by start time:
    two ids of the same second do not sort by it)."""
    summaries = [key for key in kv.keys(RUNS_PREFIX) if key.count("/") == 1]
    starts = {
        str(summary.get("run_id")): (str(summary.get("started_at")), str(summary.get("run_id")))
        for summary in kv.get_many(summaries).values()
        if isinstance(summary, dict)
    }
    mine = starts.get(run_id)
    earlier = [i for i, start in starts.items() if i != run_id and (not mine or start < mine)]
    return sorted(earlier, key=starts.__getitem__, reverse=True)


def process_in_run(kv: KVStore, run_id: str, process: str) -> dict[str, Any] | None:
    """The record of ``process`` in run ``run_id``, or None."""
    document = kv.get(f"{RUNS_PREFIX}{run_id}/processes/{process}")
    return document if isinstance(document, dict) else None


def latest_run(kv: KVStore) -> dict[str, Any] | None:
    runs = list_runs(kv)
    return runs[-1] if runs else None


def run_artifacts(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every artifact of a run: each process's (named ``<process>/<name>``), then the run's."""
    found = []
    for process, document in (record.get("processes") or {}).items():
        for entry in document.get("artifacts") or []:
            found.append({**entry, "process": process, "name": f"{process}/{entry['name']}"})
    found.extend(record.get("artifacts") or [])
    return found


def process_counts(record: Mapping[str, Any]) -> dict[str, int]:
    """How many processes of a run ended in each status."""
    counts = {status.value: 0 for status in ProcessStatus}
    for process in (record.get("processes") or {}).values():
        counts[str(process.get("status"))] = counts.get(str(process.get("status")), 0) + 1
    return {k: v for k, v in counts.items() if v}


__all__ = [
    "RUNS_PREFIX",
    "RunRecorder",
    "earlier_run_ids",
    "get_run",
    "latest_run",
    "list_runs",
    "new_run_id",
    "process_counts",
    "process_in_run",
    "run_artifacts",
    "settle_if_orphaned",
]
