"""What a run installs on every worker of its cluster: its variables and its code.

:class:`ProjectRuntime` is a Dask worker plugin. Registered by the controller,
it runs on every worker, including ones that join later (SLURM jobs start
when the queue lets them):

- it sets the variables the run exports (:mod:`mlops.runtime.env_export`) and
  puts the old values back when it is removed;
- with ``code: upload`` it unpacks the project folder (its source, configs and
  small data; not outputs or caches) into the worker's local directory, under
  a folder named by the archive's digest, and maps the driver's project path to
  it, so ``FunctionRef`` imports and ``ctx.project_dir`` resolve there. Workers
  on a shared filesystem (``code: shared``) read the project where it is.

The archive is built once per run; equal trees give equal bytes (sorted
entries, fixed timestamps), so an unchanged project is not unpacked twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

from mlops.engine.code_loading import map_project_path, unmap_project_path
from mlops.errors import ClusterError
from mlops.runtime import env_export
from mlops.storage.settings import close_opened_stores

#: Folders of a project that are results or caches, never code.
SKIPPED_DIRS = frozenset(
    {"outputs", ".mlops", "__pycache__", ".git", ".venv", "venv", ".ipynb_checkpoints",
     ".pytest_cache", ".mypy_cache", "node_modules"}
)  # fmt: skip
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
_EPOCH = (1980, 1, 1, 0, 0, 0)


def project_files(project_dir: Path) -> Iterator[Path]:
    """The project's files worth shipping, in a stable order."""
    for folder, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(folder) / name


def project_archive(project_dir: Path, *, limit: int = MAX_UPLOAD_BYTES) -> tuple[bytes, str]:
    """A reproducible zip of ``project_dir`` and its sha256; too large is a ClusterError."""
    buffer = io.BytesIO()
    total = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in project_files(project_dir):
            if path.is_symlink() and not path.resolve().is_relative_to(project_dir.resolve()):
                continue  # a link out of the project is the worker's business, not ours
            data = path.read_bytes()
            total += len(data)
            if total > limit:
                raise ClusterError(
                    f"cluster.code: the project folder {project_dir} is larger than "
                    f"{limit // (1024 * 1024)} MiB, too large to upload to every worker",
                    hint="put large data in the object store or outputs/, "
                    "or set cluster.code: shared when workers see the same filesystem",
                )
            info = zipfile.ZipInfo(path.relative_to(project_dir).as_posix(), _EPOCH)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    payload = buffer.getvalue()
    return payload, hashlib.sha256(payload).hexdigest()


def unpack(archive: bytes, digest: str, into: Path) -> Path:
    """Unpack ``archive`` as ``into/<digest>`` (once: a complete copy is reused)."""
    target = into / digest[:32]
    if target.is_dir():
        return target
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=into))
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as files:
            for member in files.infolist():
                destination = (staging / member.filename).resolve()
                if not destination.is_relative_to(staging.resolve()):
                    raise ClusterError(
                        f"refusing to unpack {member.filename!r}: outside the folder"
                    )
            files.extractall(staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # another worker on this host did not win the race either
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


class ProjectRuntime(WorkerPlugin):
    """The worker plugin; see the module docstring. Picklable plain data."""

    def __init__(
        self,
        project_id: str,
        *,
        variables: Mapping[str, str],
        project_dir: str | None = None,
        archive: bytes | None = None,
        digest: str | None = None,
    ) -> None:
        self.name = f"mlops-runtime-{project_id}"
        self.project_id = project_id
        self.variables = dict(variables)
        self.project_dir = project_dir
        self.archive = archive
        self.digest = digest
        self._restore: Callable[[], None] | None = None

    def setup(self, worker: Any = None) -> None:
        variables = dict(self.variables)
        if self.archive is not None and self.digest and self.project_dir:
            base = Path(getattr(worker, "local_directory", None) or tempfile.gettempdir())
            copy = unpack(self.archive, self.digest, base / "mlops-code" / self.project_id)
            map_project_path(self.project_dir, str(copy))
            variables[env_export.PROJECT_DIR_VAR] = str(copy)
        self._restore = env_export.apply(variables, os.environ)

    def teardown(self, worker: Any = None) -> None:
        if self._restore is not None:
            self._restore()
            self._restore = None
        if self.archive is not None and self.project_dir:
            unmap_project_path(self.project_dir)
        close_opened_stores(self.project_id)  # the stores this project's tasks opened here


def register(client: Any, runtime: ProjectRuntime) -> None:
    """Install ``runtime`` on every current and future worker of ``client``'s cluster."""
    client.register_plugin(runtime, name=runtime.name)


def unregister(client: Any, runtime: ProjectRuntime) -> None:
    """Remove ``runtime`` from the workers (their variables are put back)."""
    with contextlib.suppress(Exception):  # a lost scheduler has nothing left to clean
        client.unregister_worker_plugin(runtime.name)


__all__ = [
    "MAX_UPLOAD_BYTES",
    "ProjectRuntime",
    "project_archive",
    "project_files",
    "register",
    "unpack",
    "unregister",
]
