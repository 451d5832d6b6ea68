"""Where a workspace lives: :mod:`mlops.runtime.workspace`, importable here by its older name."""

from __future__ import annotations

from mlops.runtime import workspace as _moved
from mlops.runtime.workspace import *  # noqa: F403 - the same names, nothing of its own

__all__ = list(_moved.__all__)
