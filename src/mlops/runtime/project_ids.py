"""Project ids: what a project may be called (checked before anything touches the disk)."""

from __future__ import annotations

import re

from mlops.errors import ProjectError
from mlops.runtime.workspace import STATE_DIR_NAME

PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Names that would collide with mlops' own folders or with devices on Windows.
RESERVED_IDS = frozenset(
    {"projects", "templates", "mlops", STATE_DIR_NAME.lstrip("."), "con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


def check_project_id(project_id: object) -> str:
    """A project id: 1-64 of letters, digits, '.', '_', '-', starting with a letter or digit."""
    if not isinstance(project_id, str) or not project_id.strip():
        raise ProjectError("project id is empty", hint="name it like 'churn-model' or 'exp_01'")
    if not PROJECT_ID.match(project_id) or ".." in project_id:
        raise ProjectError(
            f"invalid project id {project_id!r}",
            hint="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    if project_id.lower() in RESERVED_IDS:
        raise ProjectError(f"project id {project_id!r} is reserved", hint="choose another name")
    return project_id


__all__ = ["PROJECT_ID", "RESERVED_IDS", "check_project_id"]
