"""mlops: project-based ML experiment runner.

Projects declare a DAG of Python processes; mlops runs them in an environment
it builds for the project, caches results by code and inputs, and tracks what
happened.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``mlops.load_result`` imports the platform when first used, not with ``import mlops``
    # (every module imports this package; the facade on top must not pull the layers in).
    if name == "load_result":
        return importlib.import_module("mlops.results").load_result
    raise AttributeError(f"module 'mlops' has no attribute {name!r}")


__all__ = ["__version__", "load_result"]
