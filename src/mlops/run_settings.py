"""What a run derives from a project's config, apart from running it.

The stores (scoped to the project), the per-process options, the spill
threshold, how workers reach the stores, the tracker, the execution context
and the mlops extras an environment needs: small functions of the config,
kept out of :mod:`mlops.platform` so it reads as the sequence of a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlops.adapters.config_schema import ProjectConfig
from mlops.core.executors import Executor
from mlops.core.experiment_tracker import ExperimentTracker, create_tracker
from mlops.core.graph_types import PipelineGraph, RunStatus
from mlops.core.payload_spill import DEFAULT_SPILL_THRESHOLD
from mlops.core.store_transport import LiveStores, StoreHandle, StoreSettings
from mlops.errors import ConfigError
from mlops.runtime.context import RuntimeContext
from mlops.storage.factory import KV_ALIASES, OBJECT_ALIASES
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore


@dataclass(frozen=True)
class ProjectStores:
    kv: KVStore
    objects: ObjectStore
    kv_config: dict[str, Any] | None
    objects_config: dict[str, Any] | None


def failed_run_id(previous: Mapping[str, Any] | None) -> str | None:
    """The id of the previous run when it failed (this run resumes it)."""
    if previous and previous.get("status") == RunStatus.FAILED.value:
        return str(previous["run_id"])
    return None


def execution_context(
    execution: RuntimeContext | None,
    project_id: str,
    workspace: Path,
    project_dir: Path,
    stores: ProjectStores,
) -> RuntimeContext:
    return replace(
        execution or RuntimeContext(),
        project_id=project_id,
        workspace=workspace,
        project_dir=project_dir,
        kv_config=stores.kv_config,
        objects_config=stores.objects_config,
    )


def run_params(
    config: ProjectConfig, overrides: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model parameters (with ``overrides``) and, apart, their ``pipeline`` options."""
    params = {**config.model.parameters.as_dict(), **(overrides or {})}
    pipeline = params.pop("pipeline", {}) or {}
    return params, dict(pipeline)


def runtime_extras(config: ProjectConfig) -> list[str]:
    """The mlops extras a project's run needs inside its environment."""
    extras = set()
    if config.reproducibility.experiment_tracking.backend == "mlflow":
        extras.add("mlflow")
    extra_of = {"redis": "redis", "gcp": "gcp", "gcs": "gcp"}
    for store, aliases in (
        (config.storage.kv, KV_ALIASES),
        (config.storage.objects, OBJECT_ALIASES),
    ):
        name = str(getattr(store, "backend", "") or "").strip().lower()
        extra = extra_of.get(aliases.get(name, ""))
        if extra:
            extras.add(extra)
    return sorted(extras)


def project_objects(config: dict[str, Any] | None, project_id: str) -> dict[str, Any]:
    """Object-store options scoped to the project: its own folder or key prefix."""
    options = dict(config or {"backend": "local"})
    backend = OBJECT_ALIASES.get(str(options.get("backend", "local")).strip().lower(), "local")
    if backend == "local":
        options.setdefault("root", f"objects/{project_id}")
    elif backend == "gcs":
        prefix = str(options.get("prefix", "")).strip("/")
        options["prefix"] = f"{prefix}/{project_id}" if prefix else project_id
    return options


def process_config(pipeline: Mapping[str, Any], graph: PipelineGraph) -> dict[str, dict[str, Any]]:
    """``pipeline.processes``: per-process options and params, checked against the graph."""
    processes = pipeline.get("processes") or {}
    key = "model.parameters.pipeline.processes"
    if not isinstance(processes, Mapping):
        raise ConfigError(f"{key}: expected a mapping of process name -> options")
    for name, options in processes.items():
        if name not in graph:
            raise ConfigError(
                f"{key}.{name}: no such process in the pipeline",
                hint=f"processes: {', '.join(graph.order)}",
            )
        if not isinstance(options, Mapping):
            raise ConfigError(f"{key}.{name}: expected a mapping of options")
        params = options.get("params")
        if params is not None and not isinstance(params, Mapping):
            raise ConfigError(f"{key}.{name}.params: expected a mapping")
    return {str(k): dict(v) for k, v in processes.items()}


def spill_threshold(pipeline: Mapping[str, Any]) -> int:
    value = pipeline.get("spill_threshold_bytes", DEFAULT_SPILL_THRESHOLD)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"model.parameters.pipeline.spill_threshold_bytes: expected a size in bytes, "
            f"found {value!r}"
        )
    return value


def store_handle(
    engine: Executor, stores: ProjectStores, state_dir: Path, project_id: str
) -> StoreHandle:
    if engine.in_process:
        return LiveStores(stores.kv, stores.objects)
    for name, config, aliases in (
        ("storage.kv", stores.kv_config, KV_ALIASES),
        ("storage.objects", stores.objects_config, OBJECT_ALIASES),
    ):
        backend = aliases.get(str((config or {}).get("backend", "")).strip().lower())
        if backend == "memory":
            raise ConfigError(
                f"{name}: the memory backend cannot be shared with the {engine.name} "
                "executor's worker processes",
                hint="use the default stores (sqlite, local), or the sequential/threads executor",
            )
    return StoreSettings(stores.kv_config, stores.objects_config, str(state_dir), project_id)


def open_tracker(
    config: ProjectConfig, stores: ProjectStores, state_dir: Path
) -> ExperimentTracker:
    tracking = config.reproducibility.experiment_tracking
    return create_tracker(
        tracking.backend,
        tracking.parameters,
        kv=stores.kv,
        objects=stores.objects,
        state_dir=state_dir,
    )


__all__ = [
    "ProjectStores",
    "execution_context",
    "failed_run_id",
    "open_tracker",
    "process_config",
    "project_objects",
    "run_params",
    "runtime_extras",
    "spill_threshold",
    "store_handle",
]
