"""What every adapter does: find a project's processes and say what it needs.

An adapter is chosen by ``model.framework``. It imports the project's
``src/`` modules and returns the ``@process`` functions it finds; the engine
does the rest. Importing is careful about names: two projects may both have
a ``pipeline.py``, so a module already imported from another folder is
replaced rather than reused.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from pathlib import Path
from typing import Any, ClassVar

from mlops.config.schema import AdapterConfig
from mlops.engine.code_loading import prefer_on_path
from mlops.engine.step_system import ProcessDefinition, process_options
from mlops.errors import MlopsError


class AdapterError(MlopsError):
    """A project's code cannot be loaded, or the adapter's requirements are missing."""


class ModelAdapter:
    """Base adapter: process discovery in ``<project>/src``."""

    framework: ClassVar[str] = "custom"

    def __init__(self, config: AdapterConfig, *, project_dir: Path) -> None:
        self.config = config
        self.project_dir = project_dir
        self._modules: list[Any] | None = None

    @property
    def source_root(self) -> Path:
        return self.project_dir / "src"

    def check_requirements(self) -> None:
        """Raise :class:`AdapterError` naming what is missing (nothing by default)."""

    def discover(self) -> dict[str, ProcessDefinition]:
        """Every ``@process`` function in the project's modules, by process name."""
        self.check_requirements()
        found: dict[str, ProcessDefinition] = {}
        where: dict[str, str] = {}
        for module in self.modules(reload=True):
            for attribute, value in sorted(vars(module).items()):
                options = process_options(value)
                if options is None or getattr(value, "__module__", None) != module.__name__:
                    continue  # not a process, or imported from elsewhere (found there)
                location = f"{module.__name__}.{attribute}"
                if options.name in found and found[options.name].function is value:
                    continue  # the same function under a second name (an alias)
                if options.name in found:
                    raise AdapterError(
                        f"process {options.name!r} is defined twice: {where[options.name]} "
                        f"and {location}",
                        hint="rename one, or pass name=... to @process",
                    )
                found[options.name] = ProcessDefinition(value, options)
                where[options.name] = location
        return found

    def modules(self, *, reload: bool = False) -> list[Any]:
        """The project's imported modules (imported once, or again with ``reload``)."""
        if self._modules is None or reload:
            self._modules = self._import_modules()
        return list(self._modules)

    def describe(self) -> dict[str, Any]:
        return {"framework": self.framework, "source_root": str(self.source_root)}

    # -------------------------------------------------------------- the project's modules

    def _module_names(self) -> list[str]:
        root = self.source_root
        if not root.is_dir():
            return []
        names: list[str] = []
        for info in pkgutil.iter_modules([str(root)]):
            names.append(info.name)
            if info.ispkg:
                package_path = [str(root / info.name)]
                names.extend(
                    m.name for m in pkgutil.walk_packages(package_path, prefix=f"{info.name}.")
                )
        return names

    def _import_modules(self) -> list[Any]:
        root = str(self.source_root.resolve())
        prefer_on_path(root)
        importlib.invalidate_caches()
        names = self._module_names()
        for name in names:
            _forget(name, Path(root))
        modules = []
        for name in names:
            try:
                modules.append(importlib.import_module(name))
            except (Exception, SystemExit) as exc:  # sys.exit() at import must not end mlops
                frame = traceback.extract_tb(exc.__traceback__)[-1:] or None
                where = f"{frame[0].filename}:{frame[0].lineno}" if frame else name
                if isinstance(exc, SyntaxError) and exc.filename:
                    where = f"{exc.filename}:{exc.lineno}"
                raise AdapterError(
                    f"{where}: cannot import project module {name!r}: {type(exc).__name__}: {exc}",
                    hint="fix the module; `mlops --debug run` shows the traceback",
                ) from exc
        return modules


def _forget(name: str, root: Path) -> None:
    """Drop ``name``'s package from ``sys.modules`` so the import reads today's files.

    Another project's module of the same name is dropped too: the import must
    find this project's file, not a namesake loaded earlier in this process.
    """
    top = name.split(".", 1)[0]
    if top in sys.stdlib_module_names:
        raise AdapterError(
            f"{root / top}: the project module {top!r} has the name of a standard-library module",
            hint="rename it; it would hide the standard module from every library",
        )
    for key in [k for k in sys.modules if k == top or k.startswith(f"{top}.")]:
        sys.modules.pop(key, None)


__all__ = ["AdapterError", "ModelAdapter"]
