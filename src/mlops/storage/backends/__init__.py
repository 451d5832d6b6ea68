"""Storage backends. Optional ones import their client library lazily (:func:`client_module`)."""

from __future__ import annotations

import importlib
from types import ModuleType

from mlops.errors import StorageError


def client_module(module: str, *, backend: str, distribution: str, extra: str) -> ModuleType:
    """Import an optional client library, or say which mlops extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise StorageError(
            f"{backend}: {distribution} is not installed; pip install 'mlops[{extra}]'"
        ) from exc
