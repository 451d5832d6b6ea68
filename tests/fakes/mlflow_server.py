"""A fake MLflow tracking server: the REST API subset the MLflow client uses for mlops runs.

It speaks MLflow's wire format (``/api/2.0/mlflow/...``, JSON bodies, error
bodies with ``error_code``), so ``MlflowClient(tracking_uri=fake.url)`` and
the mlops tracker run their real HTTP code against it. State lives in memory.
Artifacts are not served: runs get ``file://`` artifact URIs, which the MLflow
client writes to directly, as it does against a server started with a local
``--default-artifact-root`` and ``--no-serve-artifacts``.

Semantics copied from MLflow and checked by running the same tracker tests
against its SQLite store (``tests/integration/test_mlflow_tracking.py``):
a missing experiment is ``RESOURCE_DOES_NOT_EXIST`` (404), a duplicate name
``RESOURCE_ALREADY_EXISTS`` (400), changing a logged param
``INVALID_PARAMETER_VALUE`` (400); a run's metrics are the latest value per
key (highest step, then timestamp). ``search-runs`` filters understand
``tags.<key> = '<value>'`` and ``attributes.run_name = '<value>'`` joined by
``and``; anything else is a 400, as an unsupported filter is on a real server.

The ``service`` (:class:`fakes.http_service.MockHTTPService`) adds failures,
latency and the request log.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakes.http_service import Handler, MockHTTPService, Request, Response

API = "/api/2.0/mlflow"
_CONDITION = re.compile(
    r"""^\s*(?P<kind>tags|tag|attributes|attribute|attr)\.(?P<key>`[^`]+`|"[^"]+"|[\w.]+)\s*=\s*"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*$""",
    re.IGNORECASE,
)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = Response(status, {"error_code": code, "message": message})


def _now_ms() -> int:
    return int(time.time() * 1000)


def _pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


@dataclass
class _Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    created: int = field(default_factory=_now_ms)

    def as_json(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "artifact_location": self.artifact_location,
            "lifecycle_stage": "active",
            "creation_time": self.created,
            "last_update_time": self.created,
        }


@dataclass
class _Run:
    run_id: str
    experiment_id: str
    run_name: str
    artifact_uri: str
    start_time: int
    status: str = "RUNNING"
    end_time: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def latest_metrics(self) -> list[dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for point in self.history:
            best = latest.get(point["key"])
            order = (point["step"], point["timestamp"], point["value"])
            if best is None or order >= (best["step"], best["timestamp"], best["value"]):
                latest[point["key"]] = point
        return list(latest.values())

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "run_name": self.run_name,
            "experiment_id": self.experiment_id,
            "user_id": self.tags.get("mlflow.user", ""),
            "status": self.status,
            "start_time": self.start_time,
            "artifact_uri": self.artifact_uri,
            "lifecycle_stage": "active",
        }
        if self.end_time is not None:
            info["end_time"] = self.end_time
        return info

    def as_json(self) -> dict[str, Any]:
        return {
            "info": self.info(),
            "data": {
                "metrics": self.latest_metrics(),
                "params": _pairs(self.params),
                "tags": _pairs(self.tags),
            },
        }


class FakeMlflowTracking:
    """The tracking state and the handlers serving it."""

    def __init__(self, artifact_root: Path) -> None:
        self.artifact_root = artifact_root
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.experiments: dict[str, _Experiment] = {}
        self.runs: dict[str, _Run] = {}
        default = _Experiment("0", "Default", (artifact_root / "0").as_uri())
        self.experiments[default.experiment_id] = default

    def routes(self) -> dict[tuple[str, str], Handler]:
        table = {
            ("GET", "experiments/get-by-name"): self._experiment_by_name,
            ("GET", "experiments/get"): self._experiment,
            ("POST", "experiments/create"): self._create_experiment,
            ("POST", "experiments/search"): self._search_experiments,
            ("POST", "runs/create"): self._create_run,
            ("GET", "runs/get"): self._get_run,
            ("POST", "runs/update"): self._update_run,
            ("POST", "runs/log-batch"): self._log_batch,
            ("POST", "runs/search"): self._search_runs,
            ("GET", "metrics/get-history"): self._metric_history,
        }
        return {
            (method, f"{API}/{path}"): _api(handler) for (method, path), handler in table.items()
        }

    # ------------------------------------------------------------------ experiments

    def _find_experiment(self, experiment_id: str | None) -> _Experiment:
        experiment = self.experiments.get(str(experiment_id))
        if experiment is None:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={experiment_id}")
        return experiment

    def _experiment_by_name(self, request: Request) -> dict[str, Any]:
        name = request.arg("experiment_name")
        for experiment in self.experiments.values():
            if experiment.name == name:
                return {"experiment": experiment.as_json()}
        raise ApiError(
            404, "RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name {name}"
        )

    def _experiment(self, request: Request) -> dict[str, Any]:
        return {"experiment": self._find_experiment(request.arg("experiment_id")).as_json()}

    def _create_experiment(self, request: Request) -> dict[str, Any]:
        body = request.json()
        name = body.get("name") or ""
        if not name:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "Invalid experiment name: ''")
        with self._lock:
            if any(e.name == name for e in self.experiments.values()):
                raise ApiError(
                    400, "RESOURCE_ALREADY_EXISTS", f"Experiment '{name}' already exists."
                )
            experiment_id = str(next(self._ids))
            location = (
                body.get("artifact_location") or (self.artifact_root / experiment_id).as_uri()
            )
            self.experiments[experiment_id] = _Experiment(experiment_id, name, location)
        return {"experiment_id": experiment_id}

    def _search_experiments(self, request: Request) -> dict[str, Any]:
        body = request.json() or {}
        if body.get("filter"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "the fake does not filter experiments")
        return {"experiments": [e.as_json() for e in self.experiments.values()]}

    # ------------------------------------------------------------------ runs

    def _find_run(self, run_id: str | None) -> _Run:
        run = self.runs.get(str(run_id))
        if run is None:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Run with id={run_id} not found")
        return run

    def _create_run(self, request: Request) -> dict[str, Any]:
        body = request.json()
        experiment = self._find_experiment(body.get("experiment_id"))
        run_id = uuid.uuid4().hex
        tags = {t["key"]: t.get("value", "") for t in body.get("tags", [])}
        run_name = body.get("run_name") or tags.get("mlflow.runName") or run_id[:8]
        tags["mlflow.runName"] = run_name
        if body.get("user_id"):
            tags["mlflow.user"] = body["user_id"]
        run = _Run(
            run_id=run_id,
            experiment_id=experiment.experiment_id,
            run_name=run_name,
            artifact_uri=f"{experiment.artifact_location.rstrip('/')}/{run_id}/artifacts",
            start_time=int(body.get("start_time") or _now_ms()),
            tags=tags,
        )
        with self._lock:
            self.runs[run_id] = run
        return {"run": run.as_json()}

    def _get_run(self, request: Request) -> dict[str, Any]:
        return {"run": self._find_run(request.arg("run_id") or request.arg("run_uuid")).as_json()}

    def _update_run(self, request: Request) -> dict[str, Any]:
        body = request.json()
        run = self._find_run(body.get("run_id") or body.get("run_uuid"))
        with self._lock:
            if body.get("status"):
                run.status = body["status"]
            if body.get("end_time"):
                run.end_time = int(body["end_time"])
            if body.get("run_name"):
                run.run_name = run.tags["mlflow.runName"] = body["run_name"]
        return {"run_info": run.info()}

    def _log_batch(self, request: Request) -> dict[str, Any]:
        body = request.json()
        run = self._find_run(body.get("run_id"))
        if run.status != "RUNNING":
            raise ApiError(400, "INVALID_STATE", f"The run {run.run_id} must be in 'active' state.")
        with self._lock:
            for param in body.get("params", []):
                key, value = param["key"], param.get("value", "")
                if key in run.params and run.params[key] != value:
                    raise ApiError(
                        400,
                        "INVALID_PARAMETER_VALUE",
                        f"Changing param values is not allowed. Param with key='{key}' was "
                        f"already logged with value='{run.params[key]}' for run ID="
                        f"'{run.run_id}'. Attempted logging new value '{value}'.",
                    )
                run.params[key] = value
            for tag in body.get("tags", []):
                run.tags[tag["key"]] = tag.get("value", "")
            for metric in body.get("metrics", []):
                run.history.append(
                    {
                        "key": metric["key"],
                        "value": float(metric["value"]),
                        "timestamp": int(metric.get("timestamp") or _now_ms()),
                        "step": int(metric.get("step") or 0),
                    }
                )
        return {}

    def _search_runs(self, request: Request) -> dict[str, Any]:
        body = request.json() or {}
        wanted = {str(e) for e in body.get("experiment_ids", [])}
        conditions = _parse_filter(body.get("filter") or "")
        runs = [
            run
            for run in self.runs.values()
            if run.experiment_id in wanted and all(_holds(run, *c) for c in conditions)
        ]
        runs.sort(key=lambda r: (-r.start_time, r.run_id))  # MLflow's default order
        return {"runs": [r.as_json() for r in runs]}

    def _metric_history(self, request: Request) -> dict[str, Any]:
        run = self._find_run(request.arg("run_id") or request.arg("run_uuid"))
        key = request.arg("metric_key")
        return {"metrics": [p for p in run.history if p["key"] == key]}


def _api(handler: Any) -> Handler:
    def serve(request: Request) -> Response:
        try:
            return Response(200, handler(request))
        except ApiError as exc:
            return exc.response

    return serve


def _unquote(text: str) -> str:
    if text[:1] in {"`", '"', "'"}:
        text = text[1:-1]
    return re.sub(r"\\(.)", r"\1", text)


def _parse_filter(text: str) -> list[tuple[str, str, str]]:
    if not text.strip():
        return []
    conditions = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CONDITION.match(part)
        if match is None:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid filter '{text}'")
        kind = "tags" if match["kind"].lower().startswith("tag") else "attributes"
        conditions.append((kind, _unquote(match["key"]), _unquote(match["value"])))
    return conditions


def _holds(run: _Run, kind: str, key: str, value: str) -> bool:
    if kind == "tags":
        return run.tags.get(key) == value
    if key == "run_name":
        return run.run_name == value
    raise ApiError(400, "INVALID_PARAMETER_VALUE", f"the fake does not filter on {key}")


@dataclass
class FakeMlflowServer:
    service: MockHTTPService
    tracking: FakeMlflowTracking

    @property
    def url(self) -> str:
        return self.service.url

    def calls(self, endpoint: str | None = None) -> list[Request]:
        """Requests received, optionally to one endpoint such as ``runs/log-batch``."""
        return self.service.calls(f"{API}/{endpoint}" if endpoint else None)


@contextmanager
def fake_mlflow_server(artifact_root: Path) -> Iterator[FakeMlflowServer]:
    tracking = FakeMlflowTracking(artifact_root)
    service = MockHTTPService(tracking.routes())
    try:
        yield FakeMlflowServer(service, tracking)
    finally:
        service.stop()
