"""From ``environment:`` in a project config to its manager.

The key (``venv``, ``conda``, ``pyenv``, ``system``) picks the manager; its
spec is resolved against the project folder (requirements files read, local
files digested) so the spec hash changes whenever what would be installed
changes.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops.environment.base import EnvironmentManager, EnvironmentSpec
from mlops.environment.conda_channels import resolve_channels
from mlops.environment.prefixes import read_requirements
from mlops.environment.utils import CommandRunner
from mlops.errors import ConfigError

#: Each manager by its config key, as ``module:class``: imported only when chosen,
#: so a run does not pay for the conda frontends (and asyncio) to use a venv.
MANAGERS: dict[str, str] = {
    "venv": "mlops.environment.venv_manager:VenvManager",
    "conda": "mlops.environment.conda_manager:CondaManager",
    "pyenv": "mlops.environment.pyenv_manager:PyenvManager",
    "system": "mlops.environment.system_manager:SystemManager",
}
# Spec fields that say how to build, not what: they do not change the spec hash.
_SETTINGS = ("backend", "install", "allow_install", "frontends")


def manager_class(name: str) -> type[EnvironmentManager]:
    try:
        where = MANAGERS[name.strip().lower()]
    except KeyError:
        raise ConfigError(
            f"environment: unknown manager {name!r}",
            hint=f"choose one of: {', '.join(MANAGERS)}",
        ) from None
    module, _, attribute = where.partition(":")
    found: type[EnvironmentManager] = getattr(importlib.import_module(module), attribute)
    return found


def spec_from_config(
    name: str,
    spec: Mapping[str, Any],
    project_dir: Path,
    *,
    runtime: tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
) -> EnvironmentSpec:
    """The resolved spec of manager ``name`` (``environment.<name>`` of a validated config).

    Files are read relative to ``project_dir``; ``environ`` (default: this process's)
    may name the conda channels (``$MLOPS_CONDA_CHANNEL``).
    """
    manager_class(name)
    key = f"environment.{name}"
    constraints = spec.get("constraints")
    requirements = read_requirements(spec.get("requirements"), constraints, project_dir, key=key)
    options: dict[str, Any] = {}
    if name == "conda":
        options = {"dependencies": list(spec.get("dependencies") or [])}
        for field in ("environment_file", "lockfile"):
            value = spec.get(field)
            if value:
                options[field] = value
                options[f"{field}_sha256"] = _digest(project_dir / value, f"{key}.{field}")
        # After the files are known to exist: a lock or environment file may name them.
        options["channels"] = resolve_channels(
            spec, project_dir, os.environ if environ is None else environ
        )
    return EnvironmentSpec(
        python=spec.get("python"),
        requirements=requirements,
        constraints_file=project_dir / constraints if constraints else None,
        options=options,
        settings={k: spec[k] for k in _SETTINGS if k in spec},
        runtime=() if name == "system" else runtime,
        project_dir=project_dir,
    )


def _digest(path: Path, key: str) -> str:
    if not path.is_file():
        raise ConfigError(f"{key}: no such file {path}", hint="check the path")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def create_manager(
    name: str,
    spec: Mapping[str, Any],
    *,
    project_dir: Path,
    envs_dir: Path,
    runner: CommandRunner | None = None,
    environ: Mapping[str, str] | None = None,
    runtime: tuple[str, ...] = (),
) -> EnvironmentManager:
    """Manager ``name`` for its resolved ``spec``."""
    resolved = spec_from_config(name, spec, project_dir, runtime=runtime, environ=environ)
    return manager_class(name)(resolved, envs_dir, runner=runner, environ=environ)


__all__ = ["MANAGERS", "create_manager", "manager_class", "spec_from_config"]
