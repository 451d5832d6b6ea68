"""Objects as files under a folder (default ``<workspace>/.mlops/objects``).

Every write goes to a temp file beside the target and is renamed into place:
readers see the old object or the new one, never a part, and a writer killed
mid-write leaves only a temp file that ``list`` ignores. With ``durable`` (the
default) the file is also fsynced before the rename, so a power loss cannot
leave an empty object behind; the spill benchmark shows what that costs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from mlops.errors import StorageError
from mlops.storage.atomic import TEMP_PREFIX, atomic_writer
from mlops.storage.interfaces.object_store import CHUNK_SIZE, ObjectInfo, ObjectStore
from mlops.storage.path_utils import contained_path


class LocalObjectStore(ObjectStore):
    backend = "local"

    def __init__(self, root: str | Path, *, durable: bool = True) -> None:
        self.root = Path(root).expanduser().resolve()
        self.durable = durable
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"local: cannot create object folder {self.root}: {exc}") from exc

    def describe(self) -> str:
        return f"local {self.root}"

    def _path(self, key: str) -> Path:
        return contained_path(self.root, key, what="object key")

    @contextmanager
    def _writer(self, key: str) -> Iterator[BinaryIO]:
        with atomic_writer(self._path(key), durable=self.durable) as handle:
            yield handle

    def _write(self, key: str, fill: Callable[[BinaryIO], None]) -> ObjectInfo:
        with self._writer(key) as handle:
            fill(handle)
        return ObjectInfo(key, self._path(key).stat().st_size, self._uri(key))

    def _put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        def fill(handle: BinaryIO) -> None:
            handle.write(data)

        return self._write(key, fill)

    def _put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        return self._write(key, lambda handle: shutil.copyfileobj(stream, handle, CHUNK_SIZE))

    def _get(self, key: str) -> bytes:
        with self._open(key) as handle:
            return handle.read()

    def _open(self, key: str) -> BinaryIO:
        path = self._path(key)
        if not path.is_file():
            raise self._not_found(key)
        return path.open("rb")

    def _exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        self._prune_empty_parents(path.parent)
        return True

    def _prune_empty_parents(self, folder: Path) -> None:
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _list(self, prefix: str) -> list[str]:
        keys = []
        folder = self.root / prefix.rpartition("/")[0]  # walk only below the prefix's folder
        if not folder.is_dir():
            return []
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith(TEMP_PREFIX):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return keys

    def _uri(self, key: str) -> str:
        return (self.root / key).as_uri()

    def _translate(self, exc: Exception, operation: str, key: str) -> StorageError | None:
        if isinstance(exc, OSError):
            return StorageError(f"local: {operation} of {key!r} under {self.root} failed: {exc}")
        return None
