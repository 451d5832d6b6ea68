"""Seeds and the record of where a run ran.

``apply_seed`` seeds Python's ``random``, NumPy and PyTorch (each when
importable) in this process; ``child_environment`` gives ``PYTHONHASHSEED``
for processes started from here (it must be set before an interpreter starts,
so it cannot be changed in-process). ``environment_record`` is what goes into
a run record: interpreter, platform and installed packages, so a result can be
traced to the environment that produced it.
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
import random
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from mlops.adapters.config_schema import ReproducibilityConfig
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
        """Seed every generator that is importable here; None leaves them unseeded."""
        if self.seed is None:
            return SeedReport(None)
        seeded = ["random"]
        random.seed(self.seed)
        if importlib.util.find_spec("numpy") is not None:
            numpy = importlib.import_module("numpy")
            numpy.random.seed(self.seed % 2**32)
            seeded.append("numpy")
        if importlib.util.find_spec("torch") is not None:
            torch = importlib.import_module("torch")
            torch.manual_seed(self.seed)
            seeded.append("torch")
        return SeedReport(self.seed, tuple(seeded))

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
        packages = {
            dist.metadata["Name"]: dist.version
            for dist in metadata.distributions()
            if dist.metadata["Name"]
        }
        return {
            "seed": self.seed,
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "platform": platform.platform(),
            "machine": platform.machine(),
            "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
        }
