"""Conda environments (``environment.conda``) with micromamba, mamba, conda or py-rattler.

The first frontend of ``frontends`` (default ``micromamba|mamba|conda|rattler``)
found on PATH, through ``$MAMBA_EXE``/``$CONDA_EXE``, or (``rattler``) as
py-rattler in this interpreter builds the prefix from, in order of
precedence: a conda-lock ``lockfile``, an ``environment_file``, or
``channels`` + ``dependencies`` (+ ``python``). pip ``requirements`` and the
mlops runtime are installed into it afterwards. The frontends' ``--json``
output is parsed: a failure is reported with conda's own message.

The ``rattler`` frontend (:mod:`mlops.environment.rattler_env`) needs no
conda binary and reads local channels offline; it builds from
``channels`` + ``dependencies``, from an ``environment_file`` (its
``channels:`` and ``dependencies:``; a ``pip:`` list joins the pip
requirements), or from a conda-lock ``lockfile``: this platform's locked
versions, pinned exactly and solved on ``channels`` (the lock's URLs are not
fetched, so a local channel serves it offline; its pip packages are pinned
pip requirements).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops.environment import conda_commands, rattler_env
from mlops.environment.base import PrefixEnvironmentManager
from mlops.environment.conda_channels import read_conda_document
from mlops.environment.prefixes import PrefixKind
from mlops.environment.utils import CommandFailed
from mlops.errors import EnvSetupError


class CondaManager(PrefixEnvironmentManager):
    name = "conda"
    kind = PrefixKind.CONDA
    #: pip requirements an environment_file lists under ``pip:`` (read by the rattler frontend).
    _extra_pip: list[str] = []  # noqa: RUF012 - replaced per instance, never mutated

    def frontend(self) -> conda_commands.Frontend:
        order = conda_commands.parse_order(
            str(self.spec.settings.get("frontends") or "|".join(conda_commands.FRONTENDS))
        )
        found = conda_commands.find_frontend(
            order, self.environ, lambda name: self.runner.which(name, self.environ)
        )
        if found is None:
            raise EnvSetupError(
                "environment.conda: " + conda_commands.INSTALL_HINT,
                hint="or use environment.venv",
            )
        return found

    def create_argv(self, frontend: conda_commands.Frontend) -> list[str]:
        options = self.spec.options
        if frontend.name == rattler_env.NAME:
            return self._rattler_argv()
        for key, kind in (
            ("lockfile", conda_commands.SpecKind.LOCK),
            ("environment_file", conda_commands.SpecKind.ENVIRONMENT),
        ):
            if options.get(key):
                spec = conda_commands.EnvSpec(kind, self.spec.project_dir / str(options[key]))
                argv = conda_commands.create_argv(frontend, spec, self.path)
                return argv if argv[0] == "conda-lock" else [*argv, "--json"]
        packages = self._packages(options.get("dependencies", []))
        return conda_commands.packages_argv(
            frontend, self.path, packages, list(options.get("channels", []))
        )

    def _packages(self, dependencies: Any) -> list[str]:
        packages = [_package(dep) for dep in dependencies or []]
        if self.spec.python and not any(_named(p, "python") for p in packages):
            packages.insert(0, f"python={self.spec.python}")
        if self.spec.requirements and not any(_named(p, "pip") for p in packages):
            packages.append("pip")
        return packages

    def _rattler_argv(self) -> list[str]:
        options = self.spec.options
        channels = list(options.get("channels", []))
        dependencies = options.get("dependencies", [])
        if options.get("lockfile"):
            # The lock's exact versions for this platform, solved again on the given
            # channels: its URLs need not be reachable (a local channel serves offline).
            path = self.spec.project_dir / str(options["lockfile"])
            dependencies, self._extra_pip = _locked_pins(path, rattler_env.current_subdir())
        elif options.get("environment_file"):
            document = read_conda_document(
                self.spec.project_dir / str(options["environment_file"]),
                "environment.conda.environment_file",
            )
            channels = channels or [str(c) for c in document.get("channels") or []]
            dependencies = document.get("dependencies") or []
            self._extra_pip = [
                str(r) for d in dependencies if isinstance(d, dict) for r in d.get("pip", [])
            ]
            dependencies = [d for d in dependencies if not isinstance(d, dict)]
        channels = [c for c in channels if c != "nodefaults"]
        if not channels:
            raise EnvSetupError(
                "environment.conda.channels: the rattler frontend needs at least one channel",
                hint="for example channels: [conda-forge], or a local channel's folder",
            )
        packages = self._packages(dependencies)
        return rattler_env.create_argv(self.path, packages, channels)

    def build(self) -> str:
        frontend = self.frontend()
        argv = self.create_argv(frontend)
        try:
            result = self.runner.run(argv, env=self.environ, on_line=self.on_output)
        except CommandFailed as exc:
            reply = _json_reply(exc.stdout)
            message = reply.get("message") or reply.get("error") if reply else None
            if message:
                raise EnvSetupError(
                    f"environment.conda: {frontend.name} could not create the environment: "
                    f"{' '.join(str(message).split())}",
                    hint="check the channels and package names",
                ) from exc
            raise
        reply = _json_reply(result.stdout)
        if reply is not None and reply.get("success") is False:
            raise EnvSetupError(f"environment.conda: {frontend.name} reported failure: {reply}")
        if not self.python_path.exists():
            raise EnvSetupError(
                f"environment.conda: the environment has no Python at {self.python_path}",
                hint="add python to dependencies or set environment.conda.python",
            )
        tool = self.install_tool()
        pip_lines = [*self.spec.requirements.lines, *self._extra_pip]
        self.install_with_runtime(self.python_path, tool, pip_lines)
        return tool


def _package(dependency: Any) -> str:
    if isinstance(dependency, str):
        return dependency
    raise EnvSetupError(
        f"environment.conda.dependencies: {dependency!r} is not a package spec",
        hint="list pip packages under environment.conda.requirements",
    )


def _named(package: str, name: str) -> bool:
    head = package.rsplit("::", maxsplit=1)[-1]
    for separator in ("=", "<", ">", "!", " ", "["):
        head = head.split(separator, 1)[0]
    return head.strip().lower() == name


def _locked_pins(path: Path, subdir: str) -> tuple[list[str], list[str]]:
    """A conda-lock file's packages for ``subdir`` as exact pins: (conda specs, pip lines)."""
    document = read_conda_document(path, "environment.conda.lockfile")
    conda: list[str] = []
    pip: list[str] = []
    for package in document.get("package") or []:
        if not isinstance(package, dict) or package.get("platform") != subdir:
            continue
        pin = f"{package.get('name')}=={package.get('version')}"
        (pip if package.get("manager") == "pip" else conda).append(pin)
    if not conda:
        raise EnvSetupError(
            f"environment.conda.lockfile: {path} locks no conda package for {subdir}",
            hint=f"lock this platform too: conda-lock --platform {subdir}",
        )
    return conda, pip


def _json_reply(stdout: str) -> dict[str, Any] | None:
    """The frontend's ``--json`` document (the last one when it printed several)."""
    text = stdout.strip()
    if not text:
        return None
    start = text.rfind("\n{")
    for candidate in (text, text[start + 1 :] if start >= 0 else ""):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        return data if isinstance(data, dict) else None
    return None


__all__ = ["CondaManager"]
