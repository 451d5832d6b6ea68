"""Find Python interpreters for the test matrix, including pyenv installs that are not active.

nox looks for ``python3.12`` on ``PATH``. With pyenv, ``PATH`` holds shims that
exist for every installed version but refuse to run any version that is not
activated, so nox reports 3.12 "not found" although it is installed. We look
on ``PATH`` with the shims left out, then in ``$(pyenv root)/versions``, and
hand nox the absolute path we found. Every lookup records where it looked so
a miss can say so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_RELEASE = re.compile(r"^(?P<minor>\d+\.\d+)\.(?P<patch>\d+)$")

Which = Callable[[str, str | None], str | None]


def _which(name: str, path: str | None) -> str | None:
    return shutil.which(name, path=path)


@dataclass(frozen=True)
class Lookup:
    """The outcome of looking for one Python version."""

    version: str
    interpreter: Path | None
    looked_in: tuple[str, ...] = field(default=())

    @property
    def found(self) -> bool:
        return self.interpreter is not None

    def describe_miss(self) -> str:
        places = "; ".join(self.looked_in) or "nowhere (no PATH and no pyenv)"
        return (
            f"Python {self.version} not found. Looked in: {places}. "
            f"Install it (for example `pyenv install {self.version}`) or put "
            f"python{self.version} on PATH."
        )


def pyenv_root(environ: Mapping[str, str], which: Which = _which) -> Path | None:
    """The pyenv root: ``$PYENV_ROOT``, else ``pyenv root``, else None when pyenv is absent."""
    explicit = environ.get("PYENV_ROOT", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    executable = which("pyenv", environ.get("PATH"))
    if executable is None:
        return None
    completed = subprocess.run(
        [executable, "root"], capture_output=True, text=True, check=False, env=dict(environ)
    )
    root = completed.stdout.strip()
    return Path(root) if completed.returncode == 0 and root else None


def path_without_shims(path_value: str, shims_dirs: Iterable[Path]) -> str:
    """``PATH`` with pyenv's shim folders removed (they only run the active version)."""
    shims = {os.path.normpath(str(d)) for d in shims_dirs}
    kept = [
        entry
        for entry in path_value.split(os.pathsep)
        if entry and os.path.normpath(entry) not in shims
    ]
    return os.pathsep.join(kept)


def newest_pyenv_install(versions_dir: Path, version: str) -> Path | None:
    """The install folder of the newest final release ``version.N`` under ``versions_dir``.

    Pre-releases, free-threaded and ``-dev`` builds are left out: the matrix
    tests released CPython.
    """
    if not versions_dir.is_dir():
        return None
    best: tuple[int, Path] | None = None
    for entry in versions_dir.iterdir():
        match = _RELEASE.match(entry.name)
        if not match or match["minor"] != version:
            continue
        patch = int(match["patch"])
        if best is None or patch > best[0]:
            best = (patch, entry)
    return None if best is None else best[1]


def find_python(
    version: str,
    environ: Mapping[str, str],
    *,
    root: Path | None,
    which: Which = _which,
) -> Lookup:
    """Find ``python<version>``: on PATH without pyenv shims, then among pyenv installs."""
    looked: list[str] = []
    name = f"python{version}"
    shims = [root / "shims"] if root is not None else []
    search_path = path_without_shims(environ.get("PATH", ""), shims)
    if search_path:
        looked.append(f"{name} on PATH (pyenv shims skipped)")
        hit = which(name, search_path)
        if hit is not None:
            return Lookup(version, Path(hit), tuple(looked))
    if root is not None:
        versions_dir = root / "versions"
        looked.append(f"{versions_dir / (version + '.*')}")
        install = newest_pyenv_install(versions_dir, version)
        if install is not None:
            candidate = install / "bin" / name
            if candidate.exists():
                return Lookup(version, candidate, tuple(looked))
    return Lookup(version, None, tuple(looked))


def pyenv_selected_python(
    environ: Mapping[str, str], cwd: Path, which: Which = _which
) -> tuple[Path | None, str]:
    """The interpreter pyenv selects here (``PYENV_VERSION``, ``.python-version``, global).

    Returns the interpreter (or None) and a sentence saying what was found or
    what is missing.
    """
    executable = which("pyenv", environ.get("PATH"))
    if executable is None:
        return None, "pyenv is not on PATH; install pyenv and a Python >= 3.11 to run this session"
    completed = subprocess.run(
        [executable, "which", "python"],
        capture_output=True,
        text=True,
        check=False,
        env=dict(environ),
        cwd=cwd,
    )
    chosen = completed.stdout.strip()
    if completed.returncode != 0 or not chosen:
        reason = (completed.stderr.strip() or "no interpreter selected").splitlines()[0]
        return None, f"pyenv selects no usable python here: {reason}"
    return Path(chosen), f"pyenv selects {chosen}"


def allows_missing(version: str, allowed: str) -> bool:
    """Whether ``MLOPS_ALLOW_MISSING_PYTHONS`` covers ``version``.

    The value is a list (``"3.14"``, ``"3.13,3.14"``, ``"3.13 3.14"``) or ``"all"``.
    """
    names = {part.strip() for part in allowed.replace(" ", ",").split(",") if part.strip()}
    return "all" in names or version in names
