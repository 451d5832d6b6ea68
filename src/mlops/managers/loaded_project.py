"""``LoadedProject``: a project's folder and its config, read and validated once per command.

Everything a run derives from the config without running anything is a
property here: the pipeline graph, the environment spec and its hash, the
parameters, the per-process options, the store settings scoped to the
project, and the mlops extras its environment needs. The platform, the
runner and the cluster controller take the loaded project as it is and never
read the config file again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from mlops.config.adjacency import ADJLIST_KEY, parse_process_adjlist
from mlops.config.graph import PipelineGraph
from mlops.config.pipeline import DEFAULT_SPILL_THRESHOLD, ProcessConfig
from mlops.config.schema import ProjectConfig
from mlops.environment.base import EnvironmentSpec
from mlops.environment.factory import spec_from_config

# Which mlops extra a store backend (its canonical name) needs inside the project's environment.
_STORE_EXTRAS = {"redis": "redis", "gcp": "gcp", "gcs": "gcp"}


@dataclass(frozen=True, eq=False)
class LoadedProject:
    """One project as this command read it: see the module docstring."""

    id: str
    path: Path
    config: ProjectConfig
    display_path: str  # the config file as messages name it (relative to the workspace)
    #: Config values replaced for this command only (``mlops run --set``), by dotted key.
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def graph(self) -> PipelineGraph:
        """The pipeline graph (cycles refused; an empty pipeline is a GraphError)."""
        pipeline = self.config.model.parameters.pipeline
        source = f"{self.display_path}: {ADJLIST_KEY}"
        if pipeline is None:
            return parse_process_adjlist(None, source=source)
        return pipeline.graph(source=source)

    # -------------------------------------------------------------- environment

    @property
    def environment_manager(self) -> str:
        return self.config.environment.manager

    @cached_property
    def environment_spec(self) -> EnvironmentSpec:
        environment = self.config.environment
        return spec_from_config(environment.manager, environment.spec.model_dump(), self.path)

    @cached_property
    def env_hash(self) -> str:
        """The environment spec's hash: which environment the project runs in."""
        return self.environment_spec.hash_for(self.environment_manager)

    @cached_property
    def env_key(self) -> str:
        """What of the environment is part of every cache key: the spec less the
        tracking clients (:meth:`EnvironmentSpec.key_hash`)."""
        return self.environment_spec.key_hash(self.environment_manager)

    @property
    def runtime_extras(self) -> list[str]:
        """The mlops extras a run of this project needs inside its environment."""
        extras = set()
        if self.config.reproducibility.experiment_tracking.backend == "mlflow":
            extras.add("mlflow")
        for store in (self.config.storage.kv, self.config.storage.objects):
            extra = _STORE_EXTRAS.get(store.backend) if store is not None else None
            if extra:
                extras.add(extra)
        return sorted(extras)

    # -------------------------------------------------------------- parameters and options

    def params(self) -> dict[str, Any]:
        """The model parameters every process can take by name (``--set`` values included)."""
        params = self.config.model.parameters.as_dict()
        params.pop("pipeline", None)
        return params

    @property
    def process_config(self) -> dict[str, ProcessConfig]:
        """``pipeline.processes``: each process's run options, ``params``, ``inputs`` and
        ``outputs``, as validated (a process not listed has the defaults)."""
        pipeline = self.config.model.parameters.pipeline
        return dict(pipeline.processes) if pipeline is not None else {}

    @property
    def spill_threshold(self) -> int:
        pipeline = self.config.model.parameters.pipeline
        return pipeline.spill_threshold_bytes if pipeline is not None else DEFAULT_SPILL_THRESHOLD

    # -------------------------------------------------------------- stores

    @property
    def kv_settings(self) -> dict[str, Any] | None:
        kv = self.config.storage.kv
        return kv.settings() if kv else None

    @property
    def object_settings(self) -> dict[str, Any]:
        """Object-store options scoped to the project: its own folder or key prefix."""
        objects = self.config.storage.objects
        options = objects.settings() if objects else {"backend": "local"}
        backend = options.get("backend", "local")  # canonical: the schema folds aliases
        if backend == "local":
            options.setdefault("root", f"objects/{self.id}")
        elif backend == "gcs":
            prefix = str(options.get("prefix", "")).strip("/")
            options["prefix"] = f"{prefix}/{self.id}" if prefix else self.id
        return options


__all__ = ["LoadedProject"]
