"""Modules that moved, importable by the paths they had.

The package is laid out as the architecture (``engine/``, ``cache/``,
``tracking/``, ``config/``, ``session/``, ``cli/``); user code, batch scripts
and older docs import some modules by their earlier paths
(``mlops.core.step_system``, ``mlops.platform``). A finder at the front of
``sys.meta_path`` answers exactly those names with the module at its new path:
the same module object, so its classes and functions are the very ones the new
path gives (``isinstance`` and pickles agree), with a ``DeprecationWarning``
that names the new path. It answers no other name, so it costs one dict lookup
per import. New code imports from :mod:`mlops` or the new paths.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

#: Earlier module path -> where it is now.
MOVED: dict[str, str] = {
    "mlops.core.step_system": "mlops.engine.step_system",
    "mlops.core.dask_networkx_executor": "mlops.engine.scheduler",
    "mlops.core.executor_worker": "mlops.engine.worker",
    "mlops.core.attempts": "mlops.engine.attempts",
    "mlops.core.executors": "mlops.engine.executors",
    "mlops.core.run_plan": "mlops.engine.plan",
    "mlops.core.code_loading": "mlops.engine.code_loading",
    "mlops.core.code_versions": "mlops.engine.code_versions",
    "mlops.core.store_transport": "mlops.engine.store_transport",
    "mlops.core.seeding": "mlops.engine.seeding",
    "mlops.core.process_hashing": "mlops.cache.process_hashing",
    "mlops.core.param_usage": "mlops.engine.param_usage",
    "mlops.core.step_state_manager": "mlops.cache.step_state_manager",
    "mlops.core.payload_spill": "mlops.cache.payload_spill",
    "mlops.core.plain_pickle": "mlops.cache.plain_pickle",
    "mlops.core.experiment_tracker": "mlops.tracking.experiment_tracker",
    "mlops.core.mlflow_tracker": "mlops.tracking.mlflow_tracker",
    "mlops.core.trackers": "mlops.tracking.trackers",
    "mlops.core.mid_run_tracking": "mlops.tracking.mid_run_tracking",
    "mlops.core.run_records": "mlops.tracking.run_records",
    "mlops.core.run_history": "mlops.tracking.run_history",
    "mlops.core.artifacts": "mlops.tracking.artifacts",
    "mlops.core.run_owner": "mlops.tracking.run_owner",
    "mlops.core.networkx_parser": "mlops.config.adjacency",
    "mlops.core.process_options": "mlops.config.process",
    "mlops.core.pipeline_utils": "mlops.environment.prefixes",
    "mlops.core.workspace": "mlops.runtime.workspace",
    "mlops.adapters.config_schema": "mlops.config.schema",
    "mlops.adapters.pipeline_schema": "mlops.config.pipeline",
    "mlops.adapters.config_yaml": "mlops.config.yaml_files",
    "mlops.runtime.config_errors": "mlops.config.errors",
    "mlops.runtime.cluster_options": "mlops.config.cluster",
    "mlops.storage.options": "mlops.config.storage",
    "mlops.storage.adapters": "mlops.storage.backends",
    "mlops.storage.adapters.gcp_kv": "mlops.storage.backends.gcp_kv",
    "mlops.storage.adapters.gcs_objects": "mlops.storage.backends.gcs_objects",
    "mlops.storage.adapters.local_objects": "mlops.storage.backends.local_objects",
    "mlops.storage.adapters.memory": "mlops.storage.backends.memory",
    "mlops.storage.adapters.redis_kv": "mlops.storage.backends.redis_kv",
    "mlops.storage.adapters.sqlite_kv": "mlops.storage.backends.sqlite_kv",
    "mlops.platform": "mlops.session.platform",
    "mlops.run_settings": "mlops.session.settings",
    "mlops.run_report": "mlops.session.report",
    "mlops.batch_job": "mlops.session.batch_job",
    "mlops.results": "mlops.session.results",
    "mlops.runner": "mlops.cli.running",
    "mlops.cli_runs": "mlops.cli.runs",
    "mlops.cli_state": "mlops.cli.state",
    "mlops.cli_output": "mlops.cli.output",
    "mlops.progress": "mlops.cli.progress",
}
#: Earlier modules whose names now live in several modules: each is a module of
#: its own, holding the public names of those it lists.
SPLIT: dict[str, tuple[str, ...]] = {
    "mlops.core.graph_types": ("mlops.config.graph", "mlops.tracking.status"),
}
#: Earlier packages that hold nothing now but the moved modules.
PACKAGES = frozenset({"mlops.core"})


class _MovedFinder:
    """Finds an earlier module path, and loads it as the module where it lives now.

    A meta path finder and loader by protocol (``find_spec``, ``create_module``,
    ``exec_module``): the ``importlib.abc`` base classes would import
    ``importlib.resources`` with every ``import mlops``.
    """

    def __init__(self) -> None:
        # The import system gives the module it loads the spec it found, even a module
        # that exists already: the real one is put back once the import is done.
        self._real_specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in MOVED or fullname in SPLIT or fullname in PACKAGES:
            return importlib.machinery.ModuleSpec(
                fullname,
                cast("Loader", self),
                is_package=fullname in PACKAGES or fullname in _MOVED_PACKAGES,
            )
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        name = spec.name
        if name in PACKAGES:
            package = types.ModuleType(name, f"Earlier home of modules that moved; see {__name__}.")
            package.__path__ = []  # its modules are found by this finder alone
            return package
        if name in SPLIT:
            now = SPLIT[name]
            _warn(name, " and ".join(now))
            merged = types.ModuleType(name)
            for target in now:
                module = importlib.import_module(target)
                for attribute in getattr(module, "__all__", ()):
                    setattr(merged, attribute, getattr(module, attribute))
            return merged
        _warn(name, MOVED[name])
        module = importlib.import_module(MOVED[name])
        self._real_specs[name] = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the module was run where it lives now."""
        spec = module.__spec__
        if spec is not None and spec.name in self._real_specs:
            module.__spec__ = self._real_specs.pop(spec.name)


_MOVED_PACKAGES = frozenset(
    old for old, new in MOVED.items() if any(other.startswith(f"{old}.") for other in MOVED)
)


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"{old} moved to {new}; import it from there (or from mlops)",
        DeprecationWarning,
        stacklevel=3,
    )


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once): a moved package's own path must
    not find its modules a second time under the old names."""
    if not any(isinstance(finder, _MovedFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())


__all__ = ["MOVED", "PACKAGES", "SPLIT", "install"]
