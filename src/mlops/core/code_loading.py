"""Importing a process function on a worker, and importing it again when its code changed.

Long-lived workers serve many runs of many projects. A :class:`FunctionRef`
names a function by module and qualified name, with the folder it is imported
from and its code hash: a worker that imported an older version of the
project (or a namesake module from another project) drops the project's
modules and imports them again. A worker on another host has the project at
another path (a copy the cluster uploaded); :func:`map_project_path` says
where.

The bookkeeping is process-wide on purpose: ``sys.modules`` is.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import ExecutionError


def prefer_on_path(folder: str) -> None:
    """Put ``folder`` first on ``sys.path``: its modules win over namesakes elsewhere."""
    if sys.path[:1] != [folder]:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
        sys.path.insert(0, folder)


# A worker on another host has the project at another path (a copy the cluster
# uploaded); the driver's paths are translated through these prefixes.
_path_map: dict[str, str] = {}
# Long-lived workers serve many runs: which code each process function was
# imported with, and from which folders project modules were imported.
_imported_code: dict[tuple[str, str], str | None] = {}
_project_roots: set[str] = set()
_import_lock = threading.RLock()


def map_project_path(driver_path: str, local_path: str) -> None:
    """On this worker, read ``driver_path`` (and what is under it) at ``local_path``."""
    with _import_lock:
        _path_map[os.path.normpath(driver_path)] = os.path.normpath(local_path)


def unmap_project_path(driver_path: str) -> None:
    with _import_lock:
        _path_map.pop(os.path.normpath(driver_path), None)


def local_path(path: str) -> str:
    """``path`` as this worker sees it (translated when a copy of its folder is mapped)."""
    normal = os.path.normpath(path)
    with _import_lock:
        for prefix, target in sorted(_path_map.items(), key=lambda item: -len(item[0])):
            if normal == prefix or normal.startswith(prefix + os.sep):
                return target + normal[len(prefix) :]
    return path


def _under(path: str | None, root: str) -> bool:
    return bool(path) and os.path.normpath(str(path)).startswith(root + os.sep)


def _forget_project_modules() -> None:
    """Drop modules imported from any project folder, so the next import reads the new code.

    Their cached bytecode goes too: a ``.pyc`` is trusted while the source's
    size and mtime (in whole seconds) match, so an edit that keeps the size
    within the second the module was imported would run the old code under the
    new code's hash.
    """
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if any(_under(origin, root) for root in _project_roots):
            sys.modules.pop(name, None)  # an import failing elsewhere may have dropped it
            cached = getattr(module, "__cached__", None)
            if cached:
                with contextlib.suppress(OSError):  # not written, or already removed
                    Path(cached).unlink()
    importlib.invalidate_caches()


@dataclass(frozen=True)
class FunctionRef:
    """Where a process function is imported from, so any worker can load it.

    ``code`` is the function's code hash: a worker that imported an older
    version of the project (it serves many runs) imports it again.
    """

    module: str
    qualname: str
    source_root: str | None = None
    code: str | None = None

    @classmethod
    def of(
        cls, function: Callable[..., Any], source_root: Path | None, code: str | None = None
    ) -> FunctionRef:
        return cls(function.__module__, function.__qualname__, str(source_root or "") or None, code)

    def load(self) -> Callable[..., Any]:
        with _import_lock:
            self._refresh()
            try:
                target: Any = importlib.import_module(self.module)
                for part in self.qualname.split("."):
                    target = getattr(target, part)
            except (ImportError, AttributeError) as exc:
                raise ExecutionError(
                    f"cannot import {self.module}.{self.qualname} on this worker: {exc}",
                    hint="the project's src/ folder must be reachable from the workers",
                ) from exc
            self._imported()
        if not callable(target):
            raise ExecutionError(f"{self.module}.{self.qualname} is not callable")
        return target  # type: ignore[no-any-return]

    def _root(self) -> str | None:
        return os.path.normpath(local_path(self.source_root)) if self.source_root else None

    def _refresh(self) -> None:
        root = self._root()
        if root is None:
            return
        prefer_on_path(root)
        module = sys.modules.get(self.module)
        origin = getattr(module, "__file__", None) if module is not None else None
        key = (self.module, self.qualname)
        moved = module is not None and origin is not None and not _under(origin, root)
        changed = key in _imported_code and _imported_code[key] != self.code
        if moved or changed:
            _project_roots.add(root)
            _forget_project_modules()
            _imported_code.clear()

    def _imported(self) -> None:
        root = self._root()
        if root is not None:
            _project_roots.add(root)
        _imported_code[(self.module, self.qualname)] = self.code


__all__ = ["FunctionRef", "local_path", "map_project_path", "prefer_on_path", "unmap_project_path"]
