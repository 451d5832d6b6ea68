"""Importing a process function, in the driver's process or on a worker.

A :class:`FunctionRef` names a function by module and qualified name, with
the folder its project's modules are imported from and the version of that
code. Where the run's own process runs the task (the sequential and threads
executors), the driver imported the project and the function is imported by
its plain name. A worker in another process imports that version of the
project's code under a name of its own (:mod:`mlops.engine.code_versions`):
long-lived workers serve many runs of changed code, and a version's modules
stay while a task of that version can run. A worker on another host has the
project at another path (a copy the cluster uploaded); :func:`map_project_path`
says where.

The path map is process-wide on purpose: a worker's tasks share it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.engine.code_versions import CodeVersion, hold
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
_path_lock = threading.Lock()


def map_project_path(driver_path: str, local_path: str) -> None:
    """On this worker, read ``driver_path`` (and what is under it) at ``local_path``."""
    with _path_lock:
        _path_map[os.path.normpath(driver_path)] = os.path.normpath(local_path)


def unmap_project_path(driver_path: str) -> None:
    with _path_lock:
        _path_map.pop(os.path.normpath(driver_path), None)


def local_path(path: str) -> str:
    """``path`` as this worker sees it (translated when a copy of its folder is mapped)."""
    normal = os.path.normpath(path)
    with _path_lock:
        for prefix, target in sorted(_path_map.items(), key=lambda item: -len(item[0])):
            if normal == prefix or normal.startswith(prefix + os.sep):
                return target + normal[len(prefix) :]
    return path


@dataclass(frozen=True)
class LoadedFunction:
    """A process function, and the version of the project's code it comes from.

    ``version`` is None where the function was imported by its plain name:
    results then unpickle as this process imports the project.
    """

    function: Callable[..., Any]
    version: CodeVersion | None = None

    def loads(self, data: bytes) -> Any:
        """Unpickle a result for this function: the project's classes from its version."""
        if self.version is None:
            return pickle.loads(data)  # noqa: S301 - results the engine pickled
        return self.version.loads(data)


@dataclass(frozen=True)
class FunctionRef:
    """Where a process function is imported from, so any worker can load it.

    ``code`` is the version of the project's code: a digest of the source
    files under ``source_root`` (:func:`~mlops.engine.code_versions.source_digest`).
    With it, the function is imported from that version, under a name of its
    own; without it, by its plain name, as the process that runs it already has.
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

    @contextlib.contextmanager
    def held(self) -> Iterator[LoadedFunction]:
        """The function, with its version of the project's code held while inside."""
        if self.source_root is None or self.code is None:
            if self.source_root is not None:
                prefer_on_path(os.path.normpath(local_path(self.source_root)))
            yield LoadedFunction(self._find(importlib.import_module))
            return
        root = local_path(self.source_root)
        with hold(root, self.code, project=self.source_root) as version:
            yield LoadedFunction(self._find(version.import_module), version)

    def load(self) -> Callable[..., Any]:
        with self.held() as loaded:
            return loaded.function

    def _find(self, import_module: Callable[[str], Any]) -> Callable[..., Any]:
        try:
            target: Any = import_module(self.module)
            for part in self.qualname.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as exc:
            raise ExecutionError(
                f"cannot import {self.module}.{self.qualname} on this worker: {exc}",
                hint="the project's src/ folder must be reachable from the workers",
            ) from exc
        if not callable(target):
            raise ExecutionError(f"{self.module}.{self.qualname} is not callable")
        return target  # type: ignore[no-any-return]


__all__ = [
    "FunctionRef",
    "LoadedFunction",
    "local_path",
    "map_project_path",
    "prefer_on_path",
    "unmap_project_path",
]
