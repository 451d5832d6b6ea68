"""Seeds and the record of where a run ran.

``apply_seed`` seeds Python's ``random``, NumPy and PyTorch (each when
importable) in this process; ``child_environment`` gives ``PYTHONHASHSEED``
for processes started from here (it must be set before an interpreter starts,
so it cannot be changed in-process). ``environment_record`` is what goes into
a run record: interpreter, platform and installed packages, so a result can be
traced to the environment that produced it.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from mlops.config.schema import ReproducibilityConfig
from mlops.engine.seeding import installed_generators, seed_generators
from mlops.environment.base import Environment, EnvironmentManager


@dataclass(frozen=True)
class SeedReport:
    seed: int | None
    seeded: tuple[str, ...] = field(default=())


class ReproducibilityManager:
    def __init__(self, config: ReproducibilityConfig | None = None) -> None:
        self.config = config or ReproducibilityConfig()

    @property
    def seed(self) -> int | None:
        return self.config.random_seed

    def apply_seed(self) -> SeedReport:
        """Seed ``random``, and NumPy and PyTorch when imported (now, or when they are).

        ``seeded`` names every generator that is seeded in this process: the
        libraries are installed here, and are seeded at their import if a
        process imports them (:mod:`mlops.engine.seeding`). None seeds nothing.
        """
        if self.seed is None:
            return SeedReport(None)
        seed_generators(self.seed)
        return SeedReport(self.seed, installed_generators())

    def setup_environment(self, manager: EnvironmentManager) -> Environment:
        """The environment a run reproduces in: ``manager``'s, built once per spec.

        Content-addressed: the same spec (requirements, their files, the
        interpreter) gives the same environment, reused; a new spec builds a
        new one beside it.
        """
        return manager.ensure()

    def child_environment(self) -> dict[str, str]:
        """Variables for child processes so hashing (set and dict order of str) repeats too."""
        return {} if self.seed is None else {"PYTHONHASHSEED": str(self.seed % 2**32)}

    def environment_record(self) -> dict[str, Any]:
        """Interpreter, platform and installed distributions, for the run record."""
        packages = dict(filter(None, map(_name_and_version, metadata.distributions())))
        return {
            "seed": self.seed,
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "platform": _platform_text(),
            "machine": platform.machine(),
            "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
        }


def _platform_text() -> str:
    """``platform.platform()``'s text without its ``uname -p`` subprocess (6 ms a run).

    The processor field it asks that subprocess for is the least informative
    part ("unknown" on most Linux systems); the machine names the architecture.
    """
    if not hasattr(os, "uname"):  # Windows: no uname, and no subprocess either
        return platform.platform()
    system, _, release, _, machine = os.uname()
    library, version = platform.libc_ver()
    text = f"{system}-{release}-{machine}"
    return f"{text}-with-{library}{version}" if library else text


def _name_and_version(dist: metadata.Distribution) -> tuple[str, str] | None:
    """A distribution's ``Name`` and ``Version`` from its metadata's headers alone.

    ``dist.metadata`` parses the whole file (descriptions can be long) with the
    e-mail parser: with hundreds of packages installed that is a quarter of a
    second per run. The two headers come first, so reading stops at the body.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            break  # the headers end at the first empty line
        key, _, value = line.partition(":")
        if key in ("Name", "Version") and key not in found:
            found[key] = value.strip()
            if len(found) == 2:
                return found["Name"], found["Version"]
    return None
