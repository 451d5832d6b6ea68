"""The MLflow tracker: one MLflow run per mlops run (``experiment_tracking.backend: mlflow``).

The only module that imports ``mlflow``; it is imported when the backend is
chosen, so projects that do not track with MLflow never pay for it. Every
MLflow failure leaves here as a one-line :class:`TrackingError` naming the
tracking URI.

``experiment_tracking.parameters``:

- ``tracking_uri``: any MLflow tracking URI (``sqlite:``, ``http(s):``,
  ``databricks``, ``file:``). The default is a single local database file,
  ``sqlite:///<workspace>/.mlops/mlflow.db``. MLflow itself defaults to a
  SQLite file since 3.7: its ``./mlruns`` file store is in maintenance mode and
  refuses to open unless ``MLFLOW_ALLOW_FILE_STORE`` is set, which we leave to
  users who choose it on purpose.
- ``experiment_name``: defaults to the project id.
- ``artifact_location``: where a new experiment keeps artifacts; defaults to
  ``<workspace>/.mlops/mlflow-artifacts`` so nothing lands in the current
  directory (MLflow's default for database stores).
- ``tags``: extra tags set on every run.

MLflow's client is used directly, never the fluent ``mlflow.start_run`` API:
that keeps the active run in process-global state, which two runs in one
process (tests, a server) would share.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlops.errors import ConfigError
from mlops.runtime.json_values import record_params
from mlops.tracking.experiment_tracker import (
    MetricPoint,
    TrackingError,
    check_metric,
    flat_params,
)

# mlops run statuses -> MLflow's RunStatus names.
_END_STATUS = {"completed": "FINISHED", "finished": "FINISHED", "failed": "FAILED"}
# MLflow keeps at most this many characters of a parameter value.
_MAX_PARAM_LENGTH = 6000
_MAX_PARAM_KEY_LENGTH = 250
_PARAM_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /]")
# Schema creation on a new database logs migration steps at INFO; a run shows none of it.
_MIGRATION_LOGGERS = ("alembic", "mlflow.store.db.utils")


def default_tracking_uri(state_dir: Path) -> str:
    return f"sqlite:///{(state_dir / 'mlflow.db').resolve()}"


def tracking_uri(parameters: Mapping[str, Any], state_dir: Path) -> str:
    """The store a workspace's runs write to: ``tracking_uri``, else the default."""
    return str(parameters.get("tracking_uri") or default_tracking_uri(state_dir))


def store_environ(parameters: Mapping[str, Any], state_dir: Path) -> dict[str, str]:
    """The variables that point MLflow's own tools at the store the runs write to.

    ``MLFLOW_TRACKING_URI`` for the client and its CLI, ``MLFLOW_BACKEND_STORE_URI``
    for ``mlflow ui``/``mlflow server``: ``mlops exec NAME -- mlflow ui`` opens the
    project's runs with the MLflow of the project's environment, the version that
    wrote the store (another version refuses a schema it did not make).
    """
    uri = tracking_uri(parameters, state_dir)
    return {"MLFLOW_TRACKING_URI": uri, "MLFLOW_BACKEND_STORE_URI": uri}


@contextlib.contextmanager
def _quiet_migrations() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _MIGRATION_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class MlflowExperimentTracker:
    """Params, metric series and artifacts in an MLflow tracking store."""

    #: MLflow keeps artifacts in its own store: a run's files are copied there.
    copies_artifacts = True

    def __init__(
        self,
        tracking_uri: str,
        *,
        experiment_name: str | None = None,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as exc:
            raise ConfigError(
                "reproducibility.experiment_tracking.backend: mlflow is not installed",
                hint="pip install 'mlops[mlflow]'",
            ) from exc
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.artifact_location = artifact_location
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        with self._translated("open the tracking store"):
            self._client = MlflowClient(tracking_uri=tracking_uri)
        self._run: str | None = None  # MLflow's run id
        self.mlops_run_id: str | None = None

    @contextlib.contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """MLflow, database and network failures as one line naming the store."""
        from mlflow.exceptions import MlflowException

        try:
            with _quiet_migrations():
                yield
        except TrackingError:
            raise
        except (MlflowException, OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise TrackingError(f"mlflow ({self.tracking_uri}): cannot {action}: {first}") from exc
        except Exception as exc:  # database drivers, HTTP clients: translated at the boundary
            raise TrackingError(
                f"mlflow ({self.tracking_uri}): cannot {action}: {type(exc).__name__}: {exc}"
            ) from exc

    def _require(self) -> str:
        if self._run is None:
            raise TrackingError("no active run: call start_run() first")
        return self._run

    # ------------------------------------------------------------------ writing

    def start_run(
        self,
        run_id: str,
        *,
        project: str,
        params: Mapping[str, Any] | None = None,
        parent: str | None = None,
    ) -> None:
        """Begin the MLflow run; a sweep's point is nested under the sweep's run, by
        MLflow's own convention (the ``mlflow.parentRunId`` tag), so its UI groups them."""
        name = self.experiment_name or project
        with self._translated(f"start a run in experiment {name!r}"):
            experiment = self._client.get_experiment_by_name(name)
            if experiment is None:
                experiment_id = self._client.create_experiment(
                    name, artifact_location=self.artifact_location
                )
            else:
                experiment_id = experiment.experiment_id
            tags = {**self.tags, "mlops.run_id": run_id, "mlops.project": project}
            if parent is not None:
                tags["mlops.parent_run_id"] = parent
                parent_run = self._find_run(experiment_id, parent)
                if parent_run is not None:
                    tags["mlflow.parentRunId"] = parent_run
            run = self._client.create_run(experiment_id, run_name=run_id, tags=tags)
        self._run = run.info.run_id
        self.mlops_run_id = run_id
        if params:
            self.log_params(params)

    def _find_run(self, experiment_id: str, mlops_run_id: str) -> str | None:
        """The MLflow id of the run mlops knows as ``mlops_run_id`` in this experiment."""
        found = self._client.search_runs(
            [experiment_id], filter_string=f"tags.`mlops.run_id` = '{_quoted(mlops_run_id)}'"
        )
        return str(found[0].info.run_id) if found else None

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        run = self._require()
        flat = record_params(flat_params(params))
        batch = [Param(_param_key(key), _param_text(value)) for key, value in flat.items()]
        with self._translated("log params"):
            # MLflow caps a batch at 100 params.
            for start in range(0, len(batch), 100):
                self._client.log_batch(run, params=batch[start : start + 100])

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        self.log_metrics({name: value}, step)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        from mlflow.entities import Metric

        run = self._require()
        now = int(time.time() * 1000)
        batch = []
        for name, value in metrics.items():
            key, number, checked_step = check_metric(name, value, step)
            batch.append(Metric(key, number, now, checked_step or 0))
        with self._translated("log metrics"):
            for start in range(0, len(batch), 1000):
                self._client.log_batch(run, metrics=batch[start : start + 1000])

    def log_artifact(self, path: Path, name: str | None = None) -> str:
        run = self._require()
        source = Path(path)
        if not source.is_file():
            raise TrackingError(f"artifact {source} is not a file")
        target = Path(name or source.name)
        if target.is_absolute() or ".." in target.parts:
            raise TrackingError(f"artifact name {name!r} must be a relative path inside the run")
        folder = target.parent.as_posix() if target.parent != Path() else None
        with self._translated(f"log artifact {target.as_posix()}"):
            if target.name == source.name:
                self._client.log_artifact(run, str(source), folder)
            else:  # MLflow names an artifact after its file: stage a renamed copy.
                with tempfile.TemporaryDirectory(prefix="mlops-artifact-") as staging:
                    staged = Path(staging) / target.name
                    shutil.copyfile(source, staged)
                    self._client.log_artifact(run, str(staged), folder)
            root = self._client.get_run(run).info.artifact_uri
        return f"{str(root).rstrip('/')}/{target.as_posix()}"

    def end_run(self, status: str = "finished") -> None:
        run = self._require()
        with self._translated("end the run"):
            self._client.set_terminated(run, _END_STATUS.get(status, "KILLED"))
        self._run = None

    # ------------------------------------------------------------------ reading

    def find_run(self, run_id: str) -> Any:
        """The MLflow run recorded for the mlops run ``run_id`` (None when absent)."""
        with self._translated(f"search for run {run_id!r}"):
            experiments = [e.experiment_id for e in self._client.search_experiments()]
            found = self._client.search_runs(
                experiments, filter_string=f"tags.`mlops.run_id` = '{_quoted(run_id)}'"
            )
        return found[0] if found else None

    def metric_history(self, run_id: str, name: str) -> list[MetricPoint]:
        run = self.find_run(run_id)
        if run is None:
            raise TrackingError(f"mlflow ({self.tracking_uri}): no run {run_id!r}")
        with self._translated(f"read metric {name!r}"):
            history = self._client.get_metric_history(run.info.run_id, name)
        points = [MetricPoint(m.step, float(m.value), m.timestamp / 1000) for m in history]
        return sorted(points, key=lambda p: (p.step or 0, p.timestamp))


def _param_key(key: str) -> str:
    """A key MLflow accepts: letters, digits and ``_-. /``, at most 250 characters."""
    return _PARAM_KEY_CHARS.sub("_", key)[:_MAX_PARAM_KEY_LENGTH]


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text[:_MAX_PARAM_LENGTH]


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def create_mlflow_tracker(
    parameters: Mapping[str, Any], state_dir: Path
) -> MlflowExperimentTracker:
    """The tracker for ``experiment_tracking.parameters`` of a workspace."""
    key = "reproducibility.experiment_tracking.parameters"
    known = {"tracking_uri", "experiment_name", "artifact_location", "tags"}
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise ConfigError(
            f"{key}.{unknown[0]}: unknown mlflow parameter",
            hint=f"choose from: {', '.join(sorted(known))}",
        )
    for name in ("tracking_uri", "experiment_name", "artifact_location"):
        value = parameters.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{key}.{name}: expected a non-empty string, found {value!r}")
    tags = parameters.get("tags") or {}
    if not isinstance(tags, Mapping):
        raise ConfigError(f"{key}.tags: expected a mapping of tag -> value, found {tags!r}")
    uri = tracking_uri(parameters, state_dir)
    location = parameters.get("artifact_location")
    if location is None and uri.startswith("sqlite:"):
        location = (state_dir / "mlflow-artifacts").resolve().as_uri()
    return MlflowExperimentTracker(
        uri,
        experiment_name=parameters.get("experiment_name"),
        artifact_location=location,
        tags=tags,
    )


__all__ = [
    "MlflowExperimentTracker",
    "create_mlflow_tracker",
    "default_tracking_uri",
    "store_environ",
    "tracking_uri",
]
