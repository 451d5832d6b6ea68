"""The running interpreter as the environment (``environment.system``).

Nothing is built. ``ensure()`` checks that every requirement is installed at
a matching version and names the ones that are not; it installs them only
when ``allow_install: true``.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from mlops.environment.base import Environment, EnvironmentManager
from mlops.environment.prefixes import PrefixKind, bin_paths
from mlops.errors import ConfigError, EnvSetupError


class SystemManager(EnvironmentManager):
    name = "system"

    @property
    def python_path(self) -> Path:
        return Path(sys.executable)

    @property
    def bin_paths(self) -> list[Path]:
        return bin_paths(Path(sys.prefix), PrefixKind.VENV)

    def missing(self) -> list[str]:
        """Requirements not satisfied by this interpreter, as ``name (why)``."""
        # packaging costs 13 ms to import: paid only where requirements are checked.
        from packaging.requirements import InvalidRequirement, Requirement

        out = []
        for line in self.spec.requirements.lines:
            if line.startswith("-"):
                continue  # installer options (-e, --index-url) say nothing checkable
            try:
                requirement = Requirement(line)
            except InvalidRequirement as exc:
                if "/" in line or line.endswith(".whl"):
                    continue  # a local path or URL: installable, not checkable by name
                raise ConfigError(
                    f"environment.system.requirements: {line!r} is not a valid requirement: {exc}"
                ) from exc
            if requirement.marker is not None and not requirement.marker.evaluate():
                continue
            try:
                version = metadata.version(requirement.name)
            except metadata.PackageNotFoundError:
                out.append(f"{line} (not installed)")
                continue
            if requirement.specifier and not requirement.specifier.contains(
                version, prereleases=True
            ):
                out.append(f"{line} (found {version})")
        return out

    def exists(self) -> bool:
        return not self.missing()

    def ensure(self) -> Environment:
        missing = self.missing()
        created = False
        if missing:
            if not self.spec.settings.get("allow_install"):
                raise EnvSetupError(
                    f"environment.system: requirements missing from {sys.executable}: "
                    f"{'; '.join(missing)}",
                    hint="install them, or set environment.system.allow_install: true",
                )
            self.install_packages(
                self.python_path, self.install_tool(), self.spec.requirements.lines
            )
            created = True
        return Environment(
            manager=self.name,
            spec_hash=self.spec_hash,
            python_path=self.python_path,
            bin_paths=tuple(self.bin_paths),
            prefix=None,
            kind=self.kind,
            tool="system",
            created=created,
        )

    def remove(self) -> bool:
        return False  # never ours to remove


__all__ = ["SystemManager"]
