"""Results as bytes, and large results as references to the object store.

A process result travels from the worker that made it to the processes that
need it. Small results travel inline; a result whose pickle is larger than
the spill threshold is written to the object store and travels as a
:class:`PayloadRef`, which the receiving side hydrates on first use. The
scheduler therefore never holds large results, and a worker on another host
reads them from the shared store instead of through the scheduler.

Results are pickled with the project's classes under their plain module
names (:mod:`mlops.cache.plain_pickle`), on a worker too, where each version of
the project's code has a name of its own: the bytes are those the driver would
write. Reading them takes a ``loads`` for the side that reads: ``pickle.loads``
where the project is imported by its plain names (the driver, a user's shell),
a version's own on a worker (:meth:`mlops.engine.code_versions.CodeVersion.loads`).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlops.cache import plain_pickle
from mlops.cache.process_hashing import hash_bytes, result_digest
from mlops.errors import ExecutionError
from mlops.storage.interfaces.object_store import ObjectNotFoundError, ObjectStore

#: How a side reads a result's bytes (see the module docstring).
Loads = Callable[[bytes], Any]


@dataclass(frozen=True)
class PayloadRef:
    """A stored result: its object-store key, size and content digest.

    A small result's bytes travel in ``inline`` instead (its cache entry holds
    them, see :data:`INLINE_LIMIT`), so reading it touches no object store.
    """

    key: str
    size: int
    digest: str
    inline: bytes | None = None


@dataclass(frozen=True)
class EncodedResult:
    data: bytes
    digest: str  # of the bytes: what a stored copy is checked against
    content: str  # of the value: what downstream cache keys hold (equal values, equal digests)

    @property
    def size(self) -> int:
        return len(self.data)


def encode_result(value: Any, *, what: str) -> EncodedResult:
    """Pickle ``value`` (plain module names), with the digest of the bytes and that of the
    value (of its content for arrays and data frames, else the bytes' own)."""
    try:
        data = plain_pickle.dumps(value)
    except Exception as exc:  # pickle raises TypeError, PicklingError, AttributeError, ...
        raise ExecutionError(
            f"{what} returned a {type(value).__name__}, which cannot be stored: {exc}",
            hint="return plain data, arrays, data frames or picklable objects",
        ) from exc
    digest = hash_bytes(data)
    return EncodedResult(data, digest, result_digest(value, digest))


def decode_result(data: bytes, *, what: str, loads: Loads = pickle.loads) -> Any:
    try:
        return loads(data)
    except Exception as exc:
        raise ExecutionError(
            f"cannot load {what}: {exc}",
            hint="the cached result may come from another library version; rerun with --no-cache",
        ) from exc


def spill(encoded: EncodedResult, objects: ObjectStore, key: str) -> PayloadRef:
    objects.put(key, encoded.data)
    return PayloadRef(key, encoded.size, encoded.digest)


def should_spill(encoded: EncodedResult, threshold: int | None) -> bool:
    return threshold is not None and encoded.size > threshold


def hydrate(value: Any, objects: ObjectStore, loads: Loads = pickle.loads) -> Any:
    """The value behind a :class:`PayloadRef`; any other value is returned as is."""
    if not isinstance(value, PayloadRef):
        return value
    if value.inline is not None:
        return decode_result(value.inline, what=value.key, loads=loads)
    try:
        data = objects.get(value.key)
    except ObjectNotFoundError as exc:
        raise ExecutionError(
            f"a spilled result is missing from {objects.describe()}: {value.key}",
            hint="rerun with --no-cache to produce it again",
        ) from exc
    return decode_result(data, what=value.key, loads=loads)


__all__ = [
    "EncodedResult",
    "Loads",
    "PayloadRef",
    "decode_result",
    "encode_result",
    "hydrate",
    "should_spill",
    "spill",
]
