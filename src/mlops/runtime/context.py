"""The runtime context: which project a piece of code runs for, where, and on what.

The driver (``mlops run``) activates a :class:`RuntimeContext` around a run;
a worker in another process or on another host has no such object, so it
rebuilds one from the variables the run exported (:mod:`mlops.runtime.env_export`).
:func:`current` gives whichever applies, so process code and charts can ask
"which project, which workspace, local or cluster?" the same way everywhere.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.runtime import env_export

EXECUTION_PATHS = ("local", "cluster")


@dataclass(frozen=True)
class RuntimeContext:
    """Where a run runs. ``execution`` is ``local`` or ``cluster``."""

    project_id: str | None = None
    workspace: Path | None = None
    project_dir: Path | None = None
    execution: str = "local"
    provider: str | None = None
    scheduler: str | None = None
    kv_config: dict[str, Any] | None = None
    objects_config: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.execution not in EXECUTION_PATHS:
            raise ValueError(f"execution must be one of {EXECUTION_PATHS}, not {self.execution!r}")

    @property
    def on_cluster(self) -> bool:
        return self.execution == "cluster"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RuntimeContext:
        """The context a worker rebuilds from the variables its run exported."""
        env = os.environ if environ is None else environ

        def path(name: str) -> Path | None:
            value = env.get(name)
            return Path(value) if value else None

        execution = env.get(env_export.EXECUTION_VAR) or "local"
        return cls(
            project_id=env.get(env_export.PROJECT_ID_VAR) or None,
            workspace=path(env_export.WORKSPACE_VAR),
            project_dir=path(env_export.PROJECT_DIR_VAR),
            execution=execution if execution in EXECUTION_PATHS else "local",
            kv_config=env_export.config_from(env, env_export.KV_CONFIG_VAR),
            objects_config=env_export.config_from(env, env_export.OBJECTS_CONFIG_VAR),
        )

    def as_record(self) -> dict[str, Any]:
        """What a run record says about the path the run took."""
        return {
            "path": self.execution,
            "provider": self.provider,
            "scheduler": self.scheduler,
            **self.details,
        }


_current: ContextVar[RuntimeContext | None] = ContextVar("mlops_runtime_context", default=None)


def current(environ: Mapping[str, str] | None = None) -> RuntimeContext:
    """The active context, else the one the environment describes (on a worker)."""
    active = _current.get()
    return active if active is not None else RuntimeContext.from_environ(environ)


@contextlib.contextmanager
def activated(context: RuntimeContext) -> Iterator[RuntimeContext]:
    """Make ``context`` the current one inside the block (per thread and task)."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


__all__ = ["EXECUTION_PATHS", "RuntimeContext", "activated", "current"]
