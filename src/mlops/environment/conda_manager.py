"""Conda environments (``environment.conda``) with micromamba, mamba or conda.

The first frontend of ``frontends`` (default ``micromamba|mamba|conda``)
found on PATH or through ``$MAMBA_EXE``/``$CONDA_EXE`` builds the prefix from,
in order of precedence: a conda-lock ``lockfile``, an ``environment_file``, or
``channels`` + ``dependencies`` (+ ``python``). pip ``requirements`` and the
mlops runtime are installed into it afterwards. The frontends' ``--json``
output is parsed: a failure is reported with conda's own message.
"""

from __future__ import annotations

import json
from typing import Any

from mlops.core.pipeline_utils import PrefixKind
from mlops.environment import conda_commands
from mlops.environment.base import PrefixEnvironmentManager
from mlops.environment.utils import CommandFailed
from mlops.errors import EnvSetupError


class CondaManager(PrefixEnvironmentManager):
    name = "conda"
    kind = PrefixKind.CONDA

    def frontend(self) -> conda_commands.Frontend:
        order = conda_commands.parse_order(
            str(self.spec.settings.get("frontends") or "micromamba|mamba|conda")
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
        for key, kind in (
            ("lockfile", conda_commands.SpecKind.LOCK),
            ("environment_file", conda_commands.SpecKind.ENVIRONMENT),
        ):
            if options.get(key):
                spec = conda_commands.EnvSpec(kind, self.spec.project_dir / str(options[key]))
                argv = conda_commands.create_argv(frontend, spec, self.path)
                return argv if argv[0] == "conda-lock" else [*argv, "--json"]
        packages = [_package(dep) for dep in options.get("dependencies", [])]
        if self.spec.python and not any(_named(p, "python") for p in packages):
            packages.insert(0, f"python={self.spec.python}")
        if self.spec.requirements and not any(_named(p, "pip") for p in packages):
            packages.append("pip")
        return conda_commands.packages_argv(
            frontend, self.path, packages, list(options.get("channels", []))
        )

    def build(self) -> str:
        frontend = self.frontend()
        argv = self.create_argv(frontend)
        try:
            result = self.runner.run(argv, env=self.environ)
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
        self.install_packages(self.python_path, tool, self.spec.requirements.lines)
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
