"""Content fingerprints that decide when an environment or a wheel can be reused.

A tests environment depends on its constraints file and on the dependency
tables of ``pyproject.toml``; nothing else. While those bytes are unchanged a
warm session installs only the freshly built wheel (``--no-deps``), which
keeps a re-run close to the cost of pytest itself.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

MARKER_NAME = ".mlops-deps.sha256"
WHEEL_MARKER_NAME = ".mlops-wheel"
LOCK_STAMP_PREFIX = "# pyproject dependencies sha256: "
_VERSION_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")


def load_pyproject(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def python_versions(pyproject: dict[str, Any]) -> list[str]:
    """The ``3.X`` versions the classifiers promise: the matrix has one session each."""
    found = [
        match[1]
        for classifier in pyproject.get("project", {}).get("classifiers", [])
        if (match := _VERSION_CLASSIFIER.match(classifier))
    ]
    return sorted(set(found), key=lambda v: tuple(int(p) for p in v.split(".")))


def dependency_fingerprint(
    pyproject: dict[str, Any], constraints: Path | None, extras: Sequence[str]
) -> str:
    """Hash of everything that decides which third-party packages a session installs."""
    project = pyproject.get("project", {})
    relevant = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "extras": sorted(extras),
        "constraints": (
            constraints.read_text(encoding="utf-8")
            if constraints and constraints.is_file()
            else None
        ),
    }
    blob = json.dumps(relevant, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def tree_fingerprint(root: Path, paths: Iterable[str]) -> str:
    """Hash of the names and bytes of every file under ``paths`` (files or folders).

    Caches and compiled files are skipped; they do not go into the wheel.
    """
    digest = hashlib.sha256()
    files: list[Path] = []
    for rel in paths:
        target = root / rel
        if target.is_file():
            files.append(target)
        elif target.is_dir():
            files.extend(
                p
                for p in target.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def pyproject_lock_inputs(pyproject: dict[str, Any]) -> str:
    """Hash of the pyproject tables a lock is computed from; stamped into each constraints file."""
    project = pyproject.get("project", {})
    relevant = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "dependency-groups": pyproject.get("dependency-groups", {}),
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def read_lock_stamp(constraints: Path) -> str | None:
    for line in constraints.read_text(encoding="utf-8").splitlines():
        if line.startswith(LOCK_STAMP_PREFIX):
            return line.removeprefix(LOCK_STAMP_PREFIX).strip()
    return None


def write_lock_stamp(constraints: Path, stamp: str) -> None:
    """Put the stamp after the header comments uv wrote, replacing any earlier stamp."""
    lines = [
        line
        for line in constraints.read_text(encoding="utf-8").splitlines()
        if not line.startswith(LOCK_STAMP_PREFIX)
    ]
    at = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    lines.insert(at, LOCK_STAMP_PREFIX + stamp)
    constraints.write_text("\n".join(lines) + "\n", encoding="utf-8")


def nox_env_dir_name(session_name: str) -> str:
    """The folder nox gives a session's environment under ``.nox`` (same normalisation as nox)."""
    name = unicodedata.normalize("NFKD", session_name).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^\w\s-]", "-", name).strip().lower()
    return re.sub(r"[-\s]+", "-", name).strip("-")


def read_marker(env_dir: Path, name: str = MARKER_NAME) -> str | None:
    marker = env_dir / name
    return marker.read_text(encoding="utf-8").strip() if marker.is_file() else None


def write_marker(env_dir: Path, value: str, name: str = MARKER_NAME) -> None:
    """Record a marker atomically, after the install it describes has succeeded."""
    marker = env_dir / name
    tmp = marker.with_name(name + ".tmp")
    tmp.write_text(value + "\n", encoding="utf-8")
    tmp.replace(marker)
