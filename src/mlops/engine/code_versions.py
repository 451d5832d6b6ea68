"""Each version of a project's code, imported in a worker under a name of its own.

A worker serves many runs, and runs of changed code overlap on it: the last
processes of one run and the first of the next, two projects that both have a
``pipeline.py``. Imported under their plain names, all of them would share one
``sys.modules["pipeline"]``: a new version would have to remove the old one's
modules, and a module removed while another thread imports it fails that
import (the worker's communication thread unpickling a task's arguments, a
process importing a sibling module when it runs).

So a worker never imports a project's modules by their plain names. A version
is the folder its modules are imported from and a digest of its source files
(:func:`source_digest`, which the driver computes once per run); its modules
are submodules of a package of its own, ``_mlops_code_<folder>_<digest>``:

- the project's absolute imports of its own modules (``import helpers``,
  ``from pkg.sub import f``), at module level or when a function runs, resolve
  to the same version's modules: each of its modules gets ``__builtins__``
  whose ``__import__`` puts the version's package in front of the project's
  names (``importlib.import_module("helpers")`` is not bound, and imports by
  the plain name);
- a module is compiled from its file when its version first imports it, never
  read from cached bytecode: a ``.pyc`` is trusted while the source's size and
  mtime (in seconds) match, so an edit that keeps both would run old code
  under the new digest;
- a version is held by the tasks running it (:func:`hold`). It leaves
  ``sys.modules`` only once no task holds it and a newer version of the same
  project was asked for: no module is removed while a task of its version can
  import it, and the newest version stays for the project's next run;
- :meth:`CodeVersion.loads` unpickles upstream results with the project's
  plain names bound to the version (:mod:`mlops.cache.plain_pickle` writes
  them plain), so a task sees its own version's classes.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import pickle
import sys
import threading
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops.cache.plain_pickle import VERSION_PREFIX

_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})
_original_import = builtins.__import__


def source_digest(root: Path) -> str:
    """A digest of the ``.py`` files under ``root``: their paths and contents."""
    digest = hashlib.sha256()
    for path in sorted(_sources(root)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _sources(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith(".")]
        yield from (Path(folder) / name for name in files if name.endswith(".py"))


def package_name(root: str, digest: str) -> str:
    """The package a version's modules are imported under: named from its folder and digest."""
    where = hashlib.sha256(root.encode()).hexdigest()[:10]
    what = hashlib.sha256(digest.encode()).hexdigest()[:16]
    return f"{VERSION_PREFIX}{where}_{what}"


def _project_names(root: str) -> frozenset[str]:
    """The project's top-level modules and packages: what its absolute imports are bound to."""
    names: set[str] = set()
    with contextlib.suppress(OSError):
        for entry in Path(root).iterdir():
            if entry.suffix == ".py" and entry.stem.isidentifier() and entry.is_file():
                names.add(entry.stem)
            elif entry.name.isidentifier() and (entry / "__init__.py").is_file():
                names.add(entry.name)
    return frozenset(names)


class CodeVersion:
    """One version of a project's code in this process; see the module docstring."""

    def __init__(self, package: str, root: str, project: str) -> None:
        self.package = package
        self.root = root
        self.project = project
        self.names = _project_names(root)
        self.holders = 0
        #: What the version's modules see as builtins: the usual ones, and an
        #: ``__import__`` that binds the project's own names to this version.
        self.builtins: dict[str, Any] = {**vars(builtins), "__import__": self._import}

    def module_name(self, name: str) -> str:
        """Where the project's module ``name`` lives in this version (other names: as given)."""
        top = name.partition(".")[0]
        return f"{self.package}.{name}" if top in self.names else name

    def import_module(self, name: str) -> types.ModuleType:
        return importlib.import_module(self.module_name(name))

    def loads(self, data: bytes) -> Any:
        """Unpickle ``data`` with the project's classes taken from this version."""
        return _VersionUnpickler(io.BytesIO(data), self).load()

    def _import(
        self,
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> types.ModuleType:
        top = name.partition(".")[0]
        if level != 0 or top not in self.names:
            return _original_import(name, globals, locals, fromlist or (), level)
        module = _original_import(f"{self.package}.{name}", globals, locals, fromlist or (), 0)
        # ``import a.b`` binds ``a``: __import__ returned the version's package.
        return module if fromlist else getattr(module, top)

    def __repr__(self) -> str:
        return f"<code version {self.package} of {self.root}>"


class _VersionUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, version: CodeVersion) -> None:
        super().__init__(file)
        self._version = version

    def find_class(self, module_name: str, global_name: str, /) -> Any:
        return super().find_class(self._version.module_name(module_name), global_name)


class _VersionLoader(importlib.machinery.SourceFileLoader):
    """A version's module: compiled from its source, run with the version's builtins."""

    def __init__(self, fullname: str, path: str, version: CodeVersion) -> None:
        super().__init__(fullname, path)
        self._builtins = version.builtins

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        return compile(self.get_data(path), path, "exec", dont_inherit=True)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__["__builtins__"] = self._builtins
        super().exec_module(module)


class _VersionFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of live versions' packages, ahead of the path finder."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        package, dot, _ = fullname.partition(".")
        version = _live.get(package)
        if not dot or version is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec  # a namespace package, or not Python source: as the path finder has it
        origin = str(spec.origin)
        return importlib.util.spec_from_file_location(
            fullname,
            origin,
            loader=_VersionLoader(fullname, origin, version),
            submodule_search_locations=spec.submodule_search_locations,
        )


_FINDER = _VersionFinder()
# Every version alive in this process, by package; and per project, its newest one.
_live: dict[str, CodeVersion] = {}
_newest: dict[str, str] = {}
_lock = threading.Lock()


@contextlib.contextmanager
def hold(root: str, digest: str, *, project: str | None = None) -> Iterator[CodeVersion]:
    """The version ``digest`` of the code in ``root``, imported if new, held while inside.

    ``project`` says which project's code it is a version of (default:
    ``root``; an uploaded copy has a folder per version): a version no task
    holds leaves once a newer one of its project was asked for.
    """
    root = os.path.normpath(root)
    version = _acquire(root, digest, project or root)
    try:
        yield version
    finally:
        with _lock:
            version.holders -= 1
            _retire_if_idle(version.package)


def _acquire(root: str, digest: str, project: str) -> CodeVersion:
    package = package_name(root, digest)
    with _lock:
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)
        version = _live.get(package)
        if version is None:
            version = _live[package] = CodeVersion(package, root, project)
            sys.modules[package] = _package_module(version, digest)
            importlib.invalidate_caches()  # the folder's listing may be older than its files
        version.holders += 1
        previous = _newest.get(project)
        _newest[project] = package
        if previous is not None and previous != package:
            _retire_if_idle(previous)
    return version


def _package_module(version: CodeVersion, digest: str) -> types.ModuleType:
    spec = importlib.machinery.ModuleSpec(version.package, None, is_package=True)
    spec.submodule_search_locations = [version.root]
    module = importlib.util.module_from_spec(spec)
    module.__doc__ = f"Version {digest} of the project code in {version.root}."
    return module


def _retire_if_idle(package: str) -> None:
    """Under the lock: drop ``package`` once nothing holds it and it is not its project's newest."""
    version = _live.get(package)
    if version is None or version.holders > 0 or _newest.get(version.project) == package:
        return
    del _live[package]
    prefix = package + "."
    for name in list(sys.modules):  # a copy: other threads import meanwhile
        if name == package or name.startswith(prefix):
            sys.modules.pop(name, None)


def live_versions() -> list[CodeVersion]:
    """The versions imported in this process and not yet retired."""
    with _lock:
        return list(_live.values())


__all__ = ["CodeVersion", "hold", "live_versions", "package_name", "source_digest"]
