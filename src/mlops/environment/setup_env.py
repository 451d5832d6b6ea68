"""A project's environment for ``mlops run``, and the re-execution inside it.

``mlops run`` ensures the project's environment, then runs itself again with
that environment's interpreter (same arguments) unless it already is that
interpreter or ``--local`` asks for the current one. The child gets
``MLOPS_PROJECT_ENV=<spec hash>``, which stops it from re-executing again when
its config gives that spec (see :mod:`mlops.environment.launch`).

The environment gets mlops installed the way the running mlops is installed
(editable source, a local wheel, or the released version), with the extras the
project's config needs, so the child runs the same code.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from mlops.environment.base import Environment, EnvironmentManager
from mlops.environment.factory import create_manager
from mlops.environment.launch import REEXEC_VARIABLE, Launch
from mlops.environment.utils import CommandRunner
from mlops.errors import EnvSetupError


def runtime_requirements(
    extras: Iterable[str] = (), dist: metadata.Distribution | None = None
) -> tuple[str, ...]:
    """How to install the running mlops (or ``dist``) into another environment."""
    suffix = f"[{','.join(sorted(set(extras)))}]" if extras else ""
    if dist is None:
        try:
            dist = metadata.distribution("mlops")
        except metadata.PackageNotFoundError as exc:
            raise EnvSetupError(
                "mlops is not installed as a package, so it cannot be installed into the "
                "project's environment",
                hint="pip install mlops (or pip install -e . from a checkout), or run with --local",
            ) from exc
    direct = dist.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        url = str(info.get("url", ""))
        if url.startswith("file://"):
            path = unquote(urlparse(url).path)
            if info.get("dir_info", {}).get("editable"):
                return (f"-e {shlex.quote(path + suffix)}",)
            return (shlex.quote(f"mlops{suffix} @ {url}"),)
    return (f"mlops{suffix}=={dist.version}",)


def environment_manager(
    name: str,
    spec: Mapping[str, object],
    *,
    project_dir: Path,
    envs_dir: Path,
    extras: Iterable[str] = (),
    runner: CommandRunner | None = None,
) -> EnvironmentManager:
    """The manager of a project's environment, with the mlops runtime added."""
    runtime = () if name == "system" else runtime_requirements(extras)
    return create_manager(
        name, spec, project_dir=project_dir, envs_dir=envs_dir, runner=runner, runtime=runtime
    )


#: The earlier name of :func:`environment_manager` (the platform's spec uses it).
project_manager = environment_manager


def inside(environment: Environment, environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process already runs in ``environment`` (or was started for it)."""
    env = os.environ if environ is None else environ
    if environment.prefix is None or env.get(REEXEC_VARIABLE) == environment.spec_hash:
        return True
    return Path(sys.prefix).resolve() == environment.prefix.resolve()


def launch_of(environment: Environment) -> Launch | None:
    """How ``environment`` is started again (None when it has no folder of its own)."""
    if environment.prefix is None:
        return None
    return Launch(
        environment.spec_hash,
        environment.python_path,
        environment.prefix,
        environment.kind,
        environment.bin_paths,
    )


__all__ = [
    "REEXEC_VARIABLE",
    "environment_manager",
    "inside",
    "launch_of",
    "project_manager",
    "runtime_requirements",
]
