"""Where a workspace lives: :mod:`mlops.runtime.workspace`, importable here by its older name."""

from __future__ import annotations

from mlops.runtime.workspace import (
    PROJECTS_DIR_NAME,
    STATE_DIR_NAME,
    WORKSPACE_ENV_VAR,
    RootSource,
    Workspace,
    get_projects_root,
    get_workspace_root,
    infer_source_root,
)

__all__ = [
    "PROJECTS_DIR_NAME",
    "STATE_DIR_NAME",
    "WORKSPACE_ENV_VAR",
    "RootSource",
    "Workspace",
    "get_projects_root",
    "get_workspace_root",
    "infer_source_root",
]
