"""A virtual environment on an interpreter pyenv installed (``environment.pyenv``).

The version comes from ``pyenv versions --bare`` (the newest final patch of
``3.12``, or exactly ``3.12.1``) under ``pyenv root``; it need not be the
activated one. A missing version is installed with ``pyenv install`` only
when ``install: true``; otherwise the error says how to install it.
"""

from __future__ import annotations

from pathlib import Path

from mlops.environment.interpreters import newest_release
from mlops.environment.venv_manager import VenvManager
from mlops.errors import ConfigError, EnvSetupError

INSTALL_PYENV_HINT = (
    "install pyenv (https://github.com/pyenv/pyenv#installation) and put it on PATH, "
    "or use environment.venv"
)


class PyenvManager(VenvManager):
    name = "pyenv"

    def base_interpreter(self) -> Path:
        version = self.spec.python
        if not version:
            raise ConfigError(
                "environment.pyenv.python: the pyenv manager needs a Python version",
                hint="for example python: '3.12'",
            )
        pyenv = self.runner.which("pyenv", self.environ)
        if pyenv is None:
            raise EnvSetupError(
                "environment.pyenv: pyenv is not installed", hint=INSTALL_PYENV_HINT
            )
        root = Path(self.runner.run([pyenv, "root"], env=self.environ).stdout.strip())
        installed = self._installed(pyenv)
        chosen = newest_release(version, installed)
        if chosen is None and self.spec.settings.get("install"):
            self.runner.run([pyenv, "install", "--skip-existing", version], env=self.environ)
            installed = self._installed(pyenv)
            chosen = newest_release(version, installed)
        if chosen is None:
            listed = ", ".join(v for v in installed if newest_release(v, [v])) or "none"
            raise EnvSetupError(
                f"environment.pyenv.python: Python {version} is not installed in pyenv "
                f"(installed: {listed})",
                hint=f"run `pyenv install {version}` or set environment.pyenv.install: true",
            )
        interpreter = root / "versions" / chosen / "bin" / "python"
        if not interpreter.exists():
            raise EnvSetupError(
                f"environment.pyenv.python: pyenv lists {chosen} but {interpreter} is missing",
                hint=f"reinstall it: pyenv install --force {chosen}",
            )
        return interpreter

    def _installed(self, pyenv: str) -> list[str]:
        listing = self.runner.run([pyenv, "versions", "--bare"], env=self.environ).stdout
        return [line.strip() for line in listing.splitlines() if line.strip()]


__all__ = ["PyenvManager"]
