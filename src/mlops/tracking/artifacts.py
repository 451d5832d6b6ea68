"""Artifacts: files a run produced, kept in the project's object store by their content.

A file is stored once under ``artifacts/<sha256[:2]>/<sha256>``, whatever it
is called and however many runs produce it; a run (or a process of it)
lists what it produced as entries ``{name, digest, size, key}``. A process
served from the cache lists the same entries again: nothing is copied.

Files come from ``ctx.log_artifact(path_or_folder, name=None)`` in a
process, from a process's ``outputs:`` (globs relative to the project), and
from the charts a run renders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from mlops.errors import ConfigError, ExecutionError
from mlops.storage.interfaces.object_store import ObjectStore

ARTIFACTS_PREFIX = "artifacts/"
_CHUNK = 1 << 20


def artifact_key(digest: str) -> str:
    return f"{ARTIFACTS_PREFIX}{digest[:2]}/{digest}"


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def check_artifact_name(name: str) -> str:
    """``name`` as a relative POSIX path inside the run (no ``..``, not absolute)."""
    path = PurePosixPath(name.replace("\\", "/"))
    if not name.strip() or path.is_absolute() or ".." in path.parts:
        raise ConfigError(
            f"artifact name {name!r} must be a relative path inside the run",
            hint="for example model/weights.pkl",
        )
    return path.as_posix()


def store_file(objects: ObjectStore, path: Path, name: str) -> dict[str, Any]:
    """Store one file (unless the same bytes are there already); its entry."""
    digest = _digest(path)
    key = artifact_key(digest)
    size = path.stat().st_size
    if not objects.exists(key):
        objects.put(key, path)
    return {"name": check_artifact_name(name), "digest": digest, "size": size, "key": key}


def store_artifacts(
    objects: ObjectStore, path: Path, name: str | None = None
) -> list[dict[str, Any]]:
    """Store a file, or every file under a folder (named ``<name>/<relative path>``)."""
    if path.is_file():
        return [store_file(objects, path, name or path.name)]
    if path.is_dir():
        base = name or path.name
        return [
            store_file(objects, file, f"{base}/{file.relative_to(path).as_posix()}")
            for file in sorted(p for p in path.rglob("*") if p.is_file())
        ]
    raise ExecutionError(f"artifact {path} does not exist", hint="log a file or a folder")


def declared_outputs(project_dir: Path, patterns: Iterable[str]) -> list[tuple[Path, str]]:
    """The files a process's ``outputs:`` globs match, with their names (relative paths)."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        for path in sorted(project_dir.glob(pattern)):
            if path.is_file():
                found.setdefault(path.relative_to(project_dir).as_posix(), path)
    return [(path, name) for name, path in found.items()]


__all__ = [
    "ARTIFACTS_PREFIX",
    "artifact_key",
    "check_artifact_name",
    "declared_outputs",
    "store_artifacts",
    "store_file",
]
