"""Virtual environments: uv when it is on PATH, else the standard library's ``venv`` + pip.

The interpreter a venv is built on is the running one unless the spec names
a version; then it is looked up on PATH (pyenv shims skipped) and among
pyenv installs, never downloaded (``UV_PYTHON_DOWNLOADS=never``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mlops.environment.base import PrefixEnvironmentManager, current_python_version
from mlops.environment.interpreters import find_python
from mlops.errors import EnvSetupError

BACKENDS = ("uv", "venv")


class VenvManager(PrefixEnvironmentManager):
    name = "venv"

    def backend(self) -> str:
        """The first backend of the chain (``settings.backend``, default ``uv|venv``) available."""
        chain = str(self.spec.settings.get("backend", "uv|venv")).split("|")
        for name in chain:
            if name == "venv" or self.runner.which(name, self.environ):
                return name
        raise EnvSetupError(
            f"environment.{self.name}.backend: none of {'|'.join(chain)} is available",
            hint="install uv (pip install uv) or add venv to the chain: backend: uv|venv",
        )

    def base_interpreter(self) -> Path:
        """The interpreter the environment is built on."""
        version = self.spec.python
        if not version or _matches(version, current_python_version(), sys.version):
            return Path(sys.executable)
        root = self.environ.get("PYENV_ROOT")
        lookup = find_python(version, self.environ, root=Path(root) if root else _pyenv_home())
        if lookup.interpreter is None:
            raise EnvSetupError(
                f"environment.{self.name}.python: {lookup.describe_miss()}",
                hint="or use the pyenv manager, which can install it",
            )
        return lookup.interpreter

    def build(self) -> str:
        base = self.base_interpreter()
        env = {**self.environ, "UV_PYTHON_DOWNLOADS": "never"}
        if self.backend() == "uv":
            self.runner.run(
                ["uv", "venv", "--quiet", "--python", str(base), str(self.path)], env=env
            )
            tool = "uv"
        else:
            self.runner.run([str(base), "-m", "venv", str(self.path)], env=env)
            tool = "pip"
        self.install_with_runtime(self.python_path, tool, self.spec.requirements.lines)
        return tool


def _matches(requested: str, minor: str, full_version: str) -> bool:
    """Whether ``requested`` (``3.11`` or ``3.11.7``) names the running interpreter."""
    patch = full_version.split(maxsplit=1)[0]
    return requested in (minor, patch)


def _pyenv_home() -> Path | None:
    home = Path.home() / ".pyenv"
    return home if home.is_dir() else None


__all__ = ["BACKENDS", "VenvManager"]
