"""The object seam: bytes by key, streamed in and out.

Keys are relative POSIX paths (``runs/42/model.pkl``), normalised and
contained by :func:`mlops.storage.path_utils.normalize_key`. ``put`` accepts
bytes, a binary file object (read in chunks, never whole) or a path; ``open``
streams the object back. Subclasses implement the ``_``-prefixed primitives on
normalised keys.
"""

from __future__ import annotations

import builtins
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeAlias

from mlops.errors import StorageError
from mlops.storage.interfaces.boundary import TranslatingBoundary
from mlops.storage.path_utils import normalize_key

CHUNK_SIZE = 1024 * 1024
Payload: TypeAlias = bytes | bytearray | memoryview | BinaryIO | os.PathLike[str]


class ObjectNotFoundError(StorageError):
    """No object is stored under the key."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    uri: str


class ObjectStore(TranslatingBoundary, ABC):
    backend: str = "objects"

    def put(self, key: str, data: Payload) -> ObjectInfo:
        """Store ``data`` under ``key``, replacing any object there; atomic for readers."""
        name = normalize_key(key)
        if isinstance(data, bytes | bytearray | memoryview):
            return self._call("put", name, lambda: self._put_bytes(name, bytes(data)))
        if isinstance(data, os.PathLike):
            path = Path(data)
            if not path.is_file():
                raise StorageError(f"{self.backend}: cannot put {path}: not a file")
            with path.open("rb") as stream:
                return self._call("put", name, lambda: self._put_stream(name, stream))
        if hasattr(data, "read"):
            return self._call("put", name, lambda: self._put_stream(name, data))
        raise StorageError(
            f"{self.backend}: put of {name!r} needs bytes, a binary file or a path, "
            f"got {type(data).__name__}"
        )

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        """A binary stream that becomes the object at ``key`` when the block ends.

        Lets a producer (``pickle.dump``) write straight into the store without
        building the whole payload in memory. Nothing is stored if the block
        raises.
        """
        name = normalize_key(key)
        with self._writer(name) as stream:
            yield stream

    @contextmanager
    def _writer(self, key: str) -> Iterator[BinaryIO]:
        # Default: spool (in memory up to 8 MiB, then on disk) and upload once complete.
        with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK_SIZE) as spool:
            yield spool  # type: ignore[misc]
            spool.seek(0)
            self._call("put", key, lambda: self._put_stream(key, spool))  # type: ignore[arg-type]

    def get(self, key: str) -> bytes:
        name = normalize_key(key)
        return self._call("get", name, lambda: self._get(name))

    def open(self, key: str) -> BinaryIO:
        """A binary stream over the object; close it (or use ``with``) when done."""
        name = normalize_key(key)
        return self._call("open", name, lambda: self._open(name))

    def exists(self, key: str) -> bool:
        name = normalize_key(key)
        return self._call("exists", name, lambda: self._exists(name))

    def delete(self, key: str) -> bool:
        """Remove the object; True if it existed."""
        name = normalize_key(key)
        return self._call("delete", name, lambda: self._delete(name))

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Keys starting with ``prefix`` (a plain string prefix, not a folder), sorted."""
        clean = normalize_key(prefix, allow_empty=True, what="prefix")
        if prefix.endswith("/") and clean:
            clean += "/"
        return sorted(self._call("list", clean or "*", lambda: self._list(clean)))

    def uri(self, key: str) -> str:
        """Where the object lives (``file://...``, ``gs://...``), for records and the UI."""
        return self._uri(normalize_key(key))

    def close(self) -> None:
        """Release clients; the store must not be used afterwards."""

    def describe(self) -> str:
        return self.backend

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"

    # ------------------------------------------------------------------ for subclasses

    @abstractmethod
    def _put_bytes(self, key: str, data: bytes) -> ObjectInfo: ...

    @abstractmethod
    def _put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo: ...

    @abstractmethod
    def _get(self, key: str) -> bytes: ...

    @abstractmethod
    def _open(self, key: str) -> BinaryIO: ...

    @abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abstractmethod
    def _delete(self, key: str) -> bool: ...

    @abstractmethod
    def _list(self, prefix: str) -> builtins.list[str]: ...

    @abstractmethod
    def _uri(self, key: str) -> str: ...

    def _not_found(self, key: str) -> ObjectNotFoundError:
        return ObjectNotFoundError(f"{self.backend}: no object {key!r} in {self.describe()}")
