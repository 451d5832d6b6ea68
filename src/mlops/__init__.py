"""mlops: project-based ML experiment runner.

Projects declare a DAG of Python processes; mlops runs them in an environment
it builds for the project, caches results by code and inputs, and tracks what
happened.

What a project's code and a user's script write comes from here::

    from mlops import process, load_result, StepContext

The names are imported when first used, not with ``import mlops``: every
module of the package imports this one, and a project's process module must
not pull the engine, pydantic or Dask in before it needs them. The modules
behind the names may move; these names stay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mlops import _moved

__version__ = "0.1.0"

_moved.install()

#: Public name -> the module that defines it.
_PUBLIC: dict[str, str] = {
    # A project's code.
    "process": "mlops.engine.step_system",
    "step": "mlops.engine.step_system",
    "StepContext": "mlops.engine.step_system",
    "chart": "mlops.reporting.registry",
    "ChartContext": "mlops.reporting.context",
    # Results and runs from Python.
    "load_result": "mlops.session.results",
    "MLPlatform": "mlops.session.platform",
    "RunRequest": "mlops.runtime.request",
    # Stores.
    "create_kv_store": "mlops.storage.factory",
    "create_object_store": "mlops.storage.factory",
    # Errors.
    "MlopsError": "mlops.errors",
    "ConfigError": "mlops.errors",
    "ProjectError": "mlops.errors",
    "GraphError": "mlops.errors",
    "EnvSetupError": "mlops.errors",
    "StorageError": "mlops.errors",
    "ExecutionError": "mlops.errors",
    "ClusterError": "mlops.errors",
}

if TYPE_CHECKING:
    from mlops.engine.step_system import StepContext, process, step
    from mlops.errors import (
        ClusterError,
        ConfigError,
        EnvSetupError,
        ExecutionError,
        GraphError,
        MlopsError,
        ProjectError,
        StorageError,
    )
    from mlops.reporting.context import ChartContext
    from mlops.reporting.registry import chart
    from mlops.runtime.request import RunRequest
    from mlops.session.platform import MLPlatform
    from mlops.session.results import load_result
    from mlops.storage.factory import create_kv_store, create_object_store


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mlops' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found once; later reads do not come here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


# The same names as _PUBLIC (a test holds them equal), written out for readers and linters.
__all__ = [
    "ChartContext",
    "ClusterError",
    "ConfigError",
    "EnvSetupError",
    "ExecutionError",
    "GraphError",
    "MLPlatform",
    "MlopsError",
    "ProjectError",
    "RunRequest",
    "StepContext",
    "StorageError",
    "__version__",
    "chart",
    "create_kv_store",
    "create_object_store",
    "load_result",
    "process",
    "step",
]
