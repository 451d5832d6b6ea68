"""Seeding Python's, NumPy's and PyTorch's global generators without importing them.

Importing NumPy costs about 0.1 s and PyTorch several seconds; a run whose
processes use neither (or a fully cached run, which runs nothing) must not pay
for them only to seed them. So a library that is already imported is seeded at
once, and one that is not is seeded the moment it is imported: a finder at the
front of ``sys.meta_path`` wraps that library's loader, and once the module has
executed, seeds it with the seed current at that moment. Each import therefore
sees the same state it would have seen had it been imported and seeded eagerly.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import random
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


def _seed_numpy(module: ModuleType, seed: int) -> None:
    module.random.seed(seed % 2**32)


def _seed_torch(module: ModuleType, seed: int) -> None:
    module.manual_seed(seed)


#: The libraries with global generators seeded besides ``random``, and how.
SEEDERS: dict[str, Callable[[ModuleType, int], None]] = {
    "numpy": _seed_numpy,
    "torch": _seed_torch,
}


class _Current:
    """The seed the next import of a seeded library receives (None: not seeding)."""

    lock = threading.Lock()
    seed: int | None = None


class _SeedingLoader(importlib.abc.Loader):
    """Runs the real loader, then seeds the module; everything else is the real loader's."""

    def __init__(self, loader: importlib.abc.Loader, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            self._loader.exec_module(module)
        finally:
            # The module keeps the loader it would have had (resources, reloads).
            if module.__spec__ is not None:
                module.__spec__.loader = self._loader
            module.__loader__ = self._loader
        seed = _Current.seed
        if seed is not None:
            SEEDERS[self._name](module, seed)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._loader, attribute)


class _SeedOnImport(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in SEEDERS or _Current.seed is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _SeedingLoader(spec.loader, fullname)
                return spec
        return None


_finder = _SeedOnImport()


def seed_generators(seed: int) -> None:
    """Seed ``random`` now, NumPy and PyTorch now if imported, else when they are."""
    with _Current.lock:
        _Current.seed = seed
        random.seed(seed)
        for name, seeder in SEEDERS.items():
            module = sys.modules.get(name)
            if module is not None:
                seeder(module, seed)
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)


def installed_generators() -> tuple[str, ...]:
    """``random`` and each seeded library that is installed (imported or not)."""
    found = [name for name in SEEDERS if name in sys.modules or importlib.util.find_spec(name)]
    return ("random", *found)


__all__ = ["SEEDERS", "installed_generators", "seed_generators"]
