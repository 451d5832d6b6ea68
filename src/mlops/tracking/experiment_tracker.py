"""Experiment tracking: parameters, metric series and artifacts of a run.

One protocol, several backends chosen by ``reproducibility.experiment_tracking.backend``:

- ``noop``: validates and discards (for tests and throwaway runs);
- ``local``: the workspace's KV store holds runs, params and metric points, the
  object store holds artifacts, so the web UI reads them from the same place;
- ``mlflow``: an MLflow tracking store (:mod:`mlops.tracking.mlflow_tracker`, extra ``mlflow``).

:mod:`mlops.tracking.trackers` builds the one a config names.

Metric points are stored one key each (``tracking/runs/<id>/metrics/<name>/<seq>``), so
processes logging in parallel (Dask workers) never overwrite each other.
"""

from __future__ import annotations

import math
import numbers
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mlops.errors import MlopsError
from mlops.runtime.clock import utc_now
from mlops.runtime.json_values import JSONValue, record_params
from mlops.runtime.param_changes import leaf_values
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.storage.path_utils import normalize_key


class TrackingError(MlopsError):
    """A value that cannot be tracked (a metric that is not a finite number, ...)."""


@dataclass(frozen=True)
class MetricPoint:
    step: int | None
    value: float
    timestamp: float


@runtime_checkable
class ExperimentTracker(Protocol):
    """What the engine and user code call; every backend implements all of it."""

    def start_run(
        self,
        run_id: str,
        *,
        project: str,
        params: Mapping[str, Any] | None = None,
        parent: str | None = None,
    ) -> None:
        """Begin run ``run_id``; ``parent``: the run it is part of (a sweep's), if any."""
        ...

    def log_params(self, params: Mapping[str, Any]) -> None: ...

    def log_metric(self, name: str, value: float, step: int | None = None) -> None: ...

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None: ...

    def log_artifact(self, path: Path, name: str | None = None) -> str: ...

    def end_run(self, status: str = "finished") -> None: ...


def check_metric(name: object, value: object, step: object) -> tuple[str, float, int | None]:
    """Shared validation: every backend accepts and refuses the same metrics."""
    if not isinstance(name, str) or not name or "/" in name:
        raise TrackingError(f"metric name must be a non-empty string without '/', got {name!r}")
    # numbers.Real / Integral also admit NumPy scalars (np.float32, np.int64).
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TrackingError(f"metric {name!r} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise TrackingError(f"metric {name!r} must be finite, got {value!r}")
    if step is not None and (
        isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0
    ):
        raise TrackingError(f"step of metric {name!r} must be an integer >= 0, got {step!r}")
    return name, float(value), None if step is None else int(step)


class _RunState:
    def __init__(self) -> None:
        self.run_id: str | None = None

    def require(self) -> str:
        if self.run_id is None:
            raise TrackingError("no active run: call start_run() first")
        return self.run_id


class NoOpExperimentTracker:
    """Validates like the others, stores nothing."""

    def __init__(self) -> None:
        self._state = _RunState()

    def start_run(
        self,
        run_id: str,
        *,
        project: str,
        params: Mapping[str, Any] | None = None,
        parent: str | None = None,
    ) -> None:
        self._state.run_id = run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._state.require()

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        self._state.require()
        check_metric(name, value, step)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def log_artifact(self, path: Path, name: str | None = None) -> str:
        self._state.require()
        if not Path(path).is_file():
            raise TrackingError(f"artifact {path} is not a file")
        return Path(path).resolve().as_uri()

    def end_run(self, status: str = "finished") -> None:
        self._state.run_id = None


class LocalExperimentTracker:
    """Runs in the KV store, artifacts in the object store."""

    def __init__(self, kv: KVStore, objects: ObjectStore) -> None:
        self.kv = kv
        self.objects = objects
        self._state = _RunState()

    # ------------------------------------------------------------------ writing

    def start_run(
        self,
        run_id: str,
        *,
        project: str,
        params: Mapping[str, Any] | None = None,
        parent: str | None = None,
    ) -> None:
        normalize_key(run_id, what="run id")
        record: dict[str, JSONValue] = {
            "run_id": run_id,
            "project": project,
            "status": "running",
            "started_at": utc_now(),
            "ended_at": None,
            "params": record_params(params or {}),
            "pid": os.getpid(),
            "parent": parent,
        }
        self.kv.set(f"tracking/runs/{run_id}", record)
        self._state.run_id = run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        run_id = self._state.require()
        record = self._record(run_id)
        merged = dict(record.get("params") or {})
        merged.update(record_params(params))
        record["params"] = merged
        self.kv.set(f"tracking/runs/{run_id}", record)

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        run_id = self._state.require()
        name, number, step = check_metric(name, value, step)
        sequence = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
        point = {"step": step, "value": number, "timestamp": time.time()}
        self.kv.set(f"tracking/runs/{run_id}/metrics/{name}/{sequence}", point)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def log_artifact(self, path: Path, name: str | None = None) -> str:
        run_id = self._state.require()
        source = Path(path)
        if not source.is_file():
            raise TrackingError(f"artifact {source} is not a file")
        key = f"runs/{run_id}/artifacts/{normalize_key(name or source.name, what='artifact name')}"
        info = self.objects.put(key, source)
        self.kv.set(
            f"tracking/runs/{run_id}/artifacts/{normalize_key(name or source.name)}",
            {"uri": info.uri, "size": info.size, "key": key},
        )
        return info.uri

    def end_run(self, status: str = "finished") -> None:
        run_id = self._state.require()
        record = self._record(run_id)
        record.update(status=status, ended_at=utc_now())
        self.kv.set(f"tracking/runs/{run_id}", record)
        self._state.run_id = None

    # ------------------------------------------------------------------ reading (web UI, CLI)

    def _record(self, run_id: str) -> dict[str, Any]:
        record = self.kv.get(f"tracking/runs/{run_id}")
        if not isinstance(record, dict):
            raise TrackingError(f"no run {run_id!r} in {self.kv.describe()}")
        return record

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self._record(run_id)

    def list_runs(self) -> list[dict[str, Any]]:
        records = [self.kv.get(k) for k in self.kv.keys("tracking/runs/") if k.count("/") == 2]
        runs = [r for r in records if isinstance(r, dict)]
        return sorted(runs, key=lambda r: str(r.get("started_at")))

    def metric_names(self, run_id: str) -> list[str]:
        prefix = f"tracking/runs/{run_id}/metrics/"
        return sorted({k[len(prefix) :].split("/", 1)[0] for k in self.kv.keys(prefix)})

    def metric_history(self, run_id: str, name: str) -> list[MetricPoint]:
        points = []
        for key in self.kv.keys(f"tracking/runs/{run_id}/metrics/{name}/"):
            doc = self.kv.get(key)
            if isinstance(doc, dict):
                points.append(MetricPoint(doc.get("step"), float(doc["value"]), doc["timestamp"]))
        return sorted(points, key=lambda p: (p.step if p.step is not None else -1, p.timestamp))


#: Nested parameters as one level, their keys joined with dots (``model.C``).
flat_params = leaf_values
