"""The tracker a config names (``reproducibility.experiment_tracking.backend``), by registry.

MLflow's tracker is imported only when it is asked for (the ``mlflow`` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import ConfigError
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.tracking.experiment_tracker import (
    ExperimentTracker,
    LocalExperimentTracker,
    NoOpExperimentTracker,
)


@dataclass(frozen=True)
class TrackerSetup:
    """What a backend may build its tracker from."""

    parameters: Mapping[str, Any]
    kv: KVStore
    objects: ObjectStore
    #: The workspace's ``.mlops/`` folder, home of local tracking files.
    state_dir: Path


def _mlflow(setup: TrackerSetup) -> ExperimentTracker:
    from mlops.tracking.mlflow_tracker import create_mlflow_tracker

    return create_mlflow_tracker(setup.parameters, setup.state_dir)


TrackerFactory = Callable[[TrackerSetup], ExperimentTracker]
TRACKERS: dict[str, TrackerFactory] = {
    "noop": lambda setup: NoOpExperimentTracker(),
    "local": lambda setup: LocalExperimentTracker(setup.kv, setup.objects),
    "mlflow": _mlflow,
}


def create_tracker(
    backend: str,
    parameters: Mapping[str, Any] | None,
    *,
    kv: KVStore,
    objects: ObjectStore,
    state_dir: Path,
) -> ExperimentTracker:
    """The tracker named by ``reproducibility.experiment_tracking.backend``."""
    factory = TRACKERS.get(backend.strip().lower())
    if factory is None:
        raise ConfigError(
            f"reproducibility.experiment_tracking.backend: unknown tracker {backend!r}",
            hint=f"choose one of: {', '.join(sorted(TRACKERS))}",
        )
    return factory(TrackerSetup(parameters or {}, kv, objects, state_dir))


__all__ = ["TRACKERS", "TrackerFactory", "TrackerSetup", "create_tracker"]
