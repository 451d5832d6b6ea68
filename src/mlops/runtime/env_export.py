"""The environment a run exports to its workers.

A worker started by a cluster (a SLURM job, a ``dask worker`` on another
host) does not inherit the environment of the ``mlops run`` that uses it. The
controller therefore builds the variables the workers need as plain data:

- ``MLOPS_WORKSPACE_DIR``, ``MLOPS_PROJECT_ID`` and ``MLOPS_PROJECT_DIR``, so
  code on a worker finds its project and workspace like the driver does;
- ``MLOPS_KV_CONFIG`` / ``MLOPS_OBJECTS_CONFIG`` (JSON), the project's store
  settings, and the store endpoints and credentials the run itself uses
  (``REDIS_URL``, ``GOOGLE_CLOUD_PROJECT``, ...);
- the names listed in the cluster config's ``passthrough`` (copied when set)
  and its ``env`` mapping, which wins over everything else.

The same mapping is applied by a worker plugin and, for batch systems, written
into the job script as ``export`` lines (:func:`to_shell`). This module is pure:
it neither reads nor changes ``os.environ`` unless handed it.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import ConfigError

WORKSPACE_VAR = "MLOPS_WORKSPACE_DIR"
PROJECT_ID_VAR = "MLOPS_PROJECT_ID"
PROJECT_DIR_VAR = "MLOPS_PROJECT_DIR"
KV_CONFIG_VAR = "MLOPS_KV_CONFIG"
OBJECTS_CONFIG_VAR = "MLOPS_OBJECTS_CONFIG"
EXECUTION_VAR = "MLOPS_EXECUTION"

#: Endpoints and credentials the store backends read from the environment.
STORE_VARIABLES = (
    "REDIS_URL",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "STORAGE_EMULATOR_HOST",
    "FIRESTORE_EMULATOR_HOST",
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_name(name: str, where: str) -> str:
    """``name`` when it is a valid environment variable name, else a ConfigError at ``where``."""
    if not _NAME.match(str(name)):
        raise ConfigError(
            f"{where}: {name!r} is not an environment variable name",
            hint="use letters, digits and underscores, not starting with a digit",
        )
    return name


@dataclass(frozen=True)
class WorkerProject:
    """What a run's workers must know of its project: where it is, and its stores."""

    workspace: Path
    project_id: str
    project_dir: Path
    kv: Mapping[str, Any] | None = None
    objects: Mapping[str, Any] | None = None


def worker_environment(
    project: WorkerProject,
    *,
    environ: Mapping[str, str],
    passthrough: Iterable[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The variables a run's workers need; see the module docstring for the order."""
    workspace, project_id, project_dir = project.workspace, project.project_id, project.project_dir
    kv, objects = project.kv, project.objects
    execution = where = "cluster"
    exported: dict[str, str] = {
        WORKSPACE_VAR: str(workspace),
        PROJECT_ID_VAR: project_id,
        PROJECT_DIR_VAR: str(project_dir),
        EXECUTION_VAR: execution,
    }
    if kv is not None:
        exported[KV_CONFIG_VAR] = json.dumps(dict(kv), sort_keys=True, default=str)
    if objects is not None:
        exported[OBJECTS_CONFIG_VAR] = json.dumps(dict(objects), sort_keys=True, default=str)
    for name in (*STORE_VARIABLES, *passthrough):
        check_name(name, f"{where}.passthrough")
        if name in environ:
            exported[name] = environ[name]
    for name, value in (extra or {}).items():
        check_name(name, f"{where}.env")
        if value is None or isinstance(value, Mapping | list):
            raise ConfigError(
                f"{where}.env.{name}: expected a string, number or boolean, found {value!r}"
            )
        exported[name] = _text(value)
    return exported


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def to_shell(variables: Mapping[str, str]) -> list[str]:
    """``export NAME=value`` lines, quoted for a POSIX shell, in name order."""
    return [f"export {name}={shlex.quote(value)}" for name, value in sorted(variables.items())]


def from_shell(lines: Iterable[str]) -> dict[str, str]:
    """The variables of ``export NAME=value`` lines (the inverse of :func:`to_shell`)."""
    variables: dict[str, str] = {}
    for line in lines:
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            variables[name] = value
    return variables


def apply(variables: Mapping[str, str], environ: MutableMapping[str, str]) -> Callable[[], None]:
    """Set ``variables`` in ``environ``; returns the function that puts it back as it was."""
    before = {name: environ.get(name) for name in variables}
    environ.update(variables)

    def restore() -> None:
        for name, value in before.items():
            if value is None:
                environ.pop(name, None)
            else:
                environ[name] = value

    return restore


def config_from(environ: Mapping[str, str], name: str) -> dict[str, Any] | None:
    """A JSON store config exported as ``name``; None when absent."""
    text = environ.get(name)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"${name}: not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"${name}: expected a JSON object, found {type(value).__name__}")
    return value


__all__ = [
    "EXECUTION_VAR",
    "KV_CONFIG_VAR",
    "OBJECTS_CONFIG_VAR",
    "PROJECT_DIR_VAR",
    "PROJECT_ID_VAR",
    "STORE_VARIABLES",
    "WORKSPACE_VAR",
    "WorkerProject",
    "apply",
    "check_name",
    "config_from",
    "from_shell",
    "to_shell",
    "worker_environment",
]
