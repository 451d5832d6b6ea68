"""Find Python interpreters, including pyenv installs that are not activated.

With pyenv, ``PATH`` holds shims that exist for every installed version but
refuse to run any version that is not activated, so ``python3.12`` on PATH is
not proof that 3.12 can run. We look on ``PATH`` with the shims left out, then
in ``$(pyenv root)/versions``, and return the absolute path found. Every
lookup records where it looked so a miss can say so.

Used by the environment managers; standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_RELEASE = re.compile(r"^(?P<minor>\d+\.\d+)\.(?P<patch>\d+)$")

Which = Callable[[str, str | None], str | None]


def which_on_path(name: str, path: str | None) -> str | None:
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


def newest_release(version: str, names: Iterable[str]) -> str | None:
    """The newest final release among ``names`` matching ``version`` (``3.12`` or ``3.12.1``).

    Pre-releases, free-threaded and ``-dev`` builds are left out: a spec names
    released CPython.
    """
    if _RELEASE.match(version):
        return version if version in set(names) else None
    best: tuple[int, str] | None = None
    for name in names:
        match = _RELEASE.match(name)
        if not match or match["minor"] != version:
            continue
        patch = int(match["patch"])
        if best is None or patch > best[0]:
            best = (patch, name)
    return None if best is None else best[1]


def installed_versions(versions_dir: Path) -> Sequence[str]:
    return sorted(p.name for p in versions_dir.iterdir()) if versions_dir.is_dir() else []


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
    """The install folder of the newest final release ``version.N`` under ``versions_dir``."""
    name = newest_release(version, installed_versions(versions_dir))
    return None if name is None else versions_dir / name


def find_python(
    version: str,
    environ: Mapping[str, str],
    *,
    root: Path | None,
    which: Which = which_on_path,
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


__all__ = [
    "Lookup",
    "find_python",
    "installed_versions",
    "newest_pyenv_install",
    "newest_release",
    "path_without_shims",
]
