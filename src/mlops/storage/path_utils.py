"""Locations inside a workspace and keys inside an object store, normalised and contained.

Three kinds of location appear in configs: absolute paths, paths relative to
a project or the workspace, and ``gs://bucket/path`` URIs. Everything local is
resolved (symlinks included) and must stay inside the folder it is relative
to: ``..``, a symlink pointing out, or an absolute path where a relative one is
expected is refused with the offending value in the message.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mlops.errors import StorageError

GCS_SCHEME = "gs://"


@dataclass(frozen=True)
class GcsLocation:
    bucket: str
    path: str

    @property
    def uri(self) -> str:
        return (
            f"{GCS_SCHEME}{self.bucket}/{self.path}" if self.path else f"{GCS_SCHEME}{self.bucket}"
        )


def is_gcs_uri(location: str | os.PathLike[str]) -> bool:
    return isinstance(location, str) and location.startswith(GCS_SCHEME)


def parse_gcs_uri(uri: str) -> GcsLocation:
    """``gs://bucket/a//b/`` -> bucket ``bucket``, path ``a/b``; ``..`` is refused."""
    if not is_gcs_uri(uri):
        raise StorageError(f"{uri!r} is not a gs:// URI (expected gs://bucket/path)")
    bucket, _, rest = uri[len(GCS_SCHEME) :].partition("/")
    if not bucket or "\\" in bucket or bucket in {".", ".."}:
        raise StorageError(f"{uri!r} names no bucket (expected gs://bucket/path)")
    return GcsLocation(bucket, normalize_key(rest, allow_empty=True, what=f"path of {uri!r}"))


def normalize_key(key: object, *, allow_empty: bool = False, what: str = "object key") -> str:
    """A relative POSIX key: ``./a//b/`` -> ``a/b``; absolute, ``..``, ``\\`` and NUL refused."""
    if not isinstance(key, str):
        raise StorageError(f"{what} must be a string, got {key!r}")
    if "\x00" in key or "\\" in key:
        raise StorageError(f"{what} {key!r} contains a backslash or NUL; use '/' separators")
    if key.startswith("/"):
        raise StorageError(f"{what} {key!r} is absolute; use a path relative to the store")
    parts = [part for part in key.split("/") if part not in {"", "."}]
    if ".." in parts:
        raise StorageError(f"{what} {key!r} contains '..'; keys cannot leave the store")
    normalized = "/".join(parts)
    if not normalized and not allow_empty:
        raise StorageError(f"{what} {key!r} is empty")
    return normalized


def contained_path(base: Path, relative: str | os.PathLike[str], *, what: str = "path") -> Path:
    """``base / relative`` resolved, refusing anything that ends up outside ``base``.

    ``relative`` must be relative; symlinks are followed before the check, so
    a link inside the workspace that points elsewhere is refused too.
    """
    candidate = Path(relative)
    if candidate.is_absolute() or PurePosixPath(str(relative)).is_absolute():
        raise StorageError(f"{what} {str(relative)!r} is absolute; give it relative to {base}")
    root = base.resolve()
    target = (root / candidate).resolve()
    if not target.is_relative_to(root):
        raise StorageError(
            f"{what} {str(relative)!r} resolves to {target}, outside {root}; "
            "keep it inside the workspace"
        )
    return target


def resolve_location(
    location: str | os.PathLike[str],
    *,
    workspace: Path,
    project_dir: Path | None = None,
    allow_absolute: bool = True,
) -> Path | GcsLocation:
    """A config location as a contained local path or a GCS location.

    Relative paths are relative to the project when one is given, else to the
    workspace, and must stay inside it. Absolute paths are taken as they are
    when ``allow_absolute`` (data files often live elsewhere), refused otherwise.
    """
    text = os.fspath(location)
    if not text.strip():
        raise StorageError("empty location; give a path or a gs://bucket/path URI")
    if is_gcs_uri(text):
        return parse_gcs_uri(text)
    path = Path(text).expanduser()
    if path.is_absolute():
        if not allow_absolute:
            raise StorageError(
                f"location {text!r} is absolute; give it relative to {project_dir or workspace}"
            )
        return path.resolve()
    base = project_dir if project_dir is not None else workspace
    return contained_path(base, path, what="location")


def workspace_relative(path: Path, workspace: Path) -> str:
    """``path`` as a POSIX string relative to the workspace (for records and the UI)."""
    resolved, root = path.resolve(), workspace.resolve()
    if not resolved.is_relative_to(root):
        raise StorageError(f"{resolved} is outside the workspace {root}")
    return posixpath.join(*resolved.relative_to(root).parts) if resolved != root else "."
