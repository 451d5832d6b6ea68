"""What a run derives from a project's config, apart from running it.

The stores (scoped to the project), the per-process options, the spill
threshold, how workers reach the stores, the tracker, the execution context
and the mlops extras an environment needs: small functions of the config,
kept out of :mod:`mlops.session.platform` so it reads as the sequence of a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlops.config.schema import ProjectConfig
from mlops.engine.executors import Executor
from mlops.engine.store_transport import LiveStores, StoreHandle
from mlops.errors import ConfigError
from mlops.managers.loaded_project import LoadedProject
from mlops.runtime.context import RuntimeContext
from mlops.storage.factory import create_kv_store, create_object_store
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.storage.settings import StoreSettings
from mlops.tracking.experiment_tracker import ExperimentTracker
from mlops.tracking.status import RunStatus
from mlops.tracking.trackers import create_tracker


@dataclass(frozen=True)
class ProjectStores:
    """A project's KV store (namespaced by its id), object store, and their settings."""

    kv: KVStore
    objects: ObjectStore
    kv_config: dict[str, Any] | None
    objects_config: dict[str, Any] | None

    def close(self) -> None:
        self.objects.close()
        self.kv.close()


def open_stores(project: LoadedProject, state_dir: Path) -> ProjectStores:
    """The project's stores, from its validated settings (``state_dir``: the workspace's)."""
    kv_config, objects_config = project.kv_settings, project.object_settings
    kv = create_kv_store(kv_config, state_dir=state_dir, namespace=project.id)
    objects = create_object_store(objects_config, state_dir=state_dir)
    return ProjectStores(kv, objects, kv_config, objects_config)


def failed_run_id(previous: Mapping[str, Any] | None) -> str | None:
    """The id of the previous run when it failed or was interrupted (this run resumes it)."""
    if previous and previous.get("status") in (RunStatus.FAILED, RunStatus.INTERRUPTED):
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


def store_handle(
    engine: Executor, stores: ProjectStores, state_dir: Path, project_id: str
) -> StoreHandle:
    if engine.in_process:
        return LiveStores(stores.kv, stores.objects)
    # The settings come from a validated config: backend names are canonical.
    for name, config in (
        ("storage.kv", stores.kv_config),
        ("storage.objects", stores.objects_config),
    ):
        if (config or {}).get("backend") == "memory":
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
    "open_stores",
    "open_tracker",
    "store_handle",
]
