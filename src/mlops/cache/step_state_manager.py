"""The cache of process and step results, in the KV store (entries) and object store (bytes).

An entry is committed in two moves: the result's bytes go to the object
store first, then the entry document to the KV store. A reader that finds an
entry therefore finds its bytes, and a crash between the two leaves only an
unreferenced object, never an entry pointing at nothing.

Layout (inside the project's namespace)::

    kv       cache/entries/<key>          the entry of a process result
    kv       cache/steps/<key>            the entry of a step result
    kv       cache/parts/<key>            what a key was made of, for --explain
    kv       cache/latest/<process>       the same, by process (written by earlier versions)
    objects  cache/<key[:2]>/<key>.pkl    result bytes

A result whose pickle is at most :data:`INLINE_LIMIT` bytes (a number, a small
dict, a path) is kept in its entry instead, base64-encoded: one KV write instead
of a temporary file, an fsync and a rename in the object store, and nothing to
read from it later. The entry is then one document, committed in one move.
"""

from __future__ import annotations

import base64
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops.cache.payload_spill import (
    EncodedResult,
    Loads,
    PayloadRef,
    decode_result,
    encode_result,
    hydrate,
)
from mlops.cache.process_hashing import code_hash, hash_bytes, stable_hash
from mlops.config.process import StepInfo
from mlops.runtime.clock import utc_now
from mlops.runtime.json_values import record_params
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectNotFoundError, ObjectStore

_MISSING = object()

#: Results whose pickle is at most this many bytes live in their cache entry.
INLINE_LIMIT = 8 * 1024


@dataclass(frozen=True)
class CacheEntry:
    key: str
    process: str
    object_key: str
    digest: str
    size: int
    run_id: str
    created_at: str
    duration: float = 0.0
    metrics: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    inline: str | None = None  # base64 of the result's bytes, for small results
    content: str | None = None  # the value's digest, when not the bytes' (arrays, frames)

    @property
    def result_digest(self) -> str:
        """What downstream cache keys hold for this result."""
        return self.content or self.digest

    def to_document(self) -> dict[str, Any]:
        # Hand-built rather than dataclasses.asdict, which deep-copies: this runs per process.
        document = {
            "key": self.key, "process": self.process, "object_key": self.object_key,
            "digest": self.digest, "size": self.size, "run_id": self.run_id,
            "created_at": self.created_at, "duration": self.duration, "metrics": self.metrics,
            "artifacts": self.artifacts,
        }  # fmt: skip
        if self.inline is not None:
            document["inline"] = self.inline
        if self.content is not None:
            document["content"] = self.content
        return document

    @property
    def ref(self) -> PayloadRef:
        return PayloadRef(self.object_key, self.size, self.digest, self.inline_bytes())

    def inline_bytes(self) -> bytes | None:
        """The inline result's bytes, or None (not inline, or damaged: not what its digest says)."""
        if self.inline is None:
            return None
        try:
            data = base64.b64decode(self.inline, validate=True)
        except (ValueError, TypeError):
            return None
        return data if len(data) == self.size and hash_bytes(data) == self.digest else None

    @classmethod
    def from_document(cls, document: Any) -> CacheEntry | None:
        if not isinstance(document, dict):
            return None
        try:
            return cls(**{k: document[k] for k in cls.__dataclass_fields__ if k in document})
        except TypeError:  # written by an incompatible version: a miss, not a crash
            return None


class StepStateManager:
    """Lookup and store of cached results for one project.

    ``loads`` reads a result's bytes: ``pickle.loads`` where the project is
    imported by its plain names, a version's own on a worker.
    """

    def __init__(self, kv: KVStore, objects: ObjectStore, *, loads: Loads = pickle.loads) -> None:
        self.kv = kv
        self.objects = objects
        self.loads = loads

    # -------------------------------------------------------------- processes

    def lookup(self, key: str) -> CacheEntry | None:
        """The entry for ``key`` if both it and its bytes are present."""
        entry = CacheEntry.from_document(self.kv.get(f"cache/entries/{key}"))
        return entry if entry is not None and self._present(entry) else None

    def _present(self, entry: CacheEntry) -> bool:
        """Whether the entry's bytes can be read: inline and intact, or in the object store."""
        if entry.inline is not None:
            return entry.inline_bytes() is not None
        return self.objects.exists(entry.object_key)

    def _keep(self, key: str, encoded: EncodedResult) -> tuple[str, str | None]:
        """Where a result's bytes go: (object key, None) once put, or ("", base64) inline."""
        if encoded.size <= INLINE_LIMIT:
            return "", base64.b64encode(encoded.data).decode("ascii")
        object_key = f"cache/{key[:2]}/{key}.pkl"
        self.objects.put(object_key, encoded.data)
        return object_key, None

    def store(
        self,
        key: str,
        process: str,
        encoded: EncodedResult,
        *,
        run_id: str,
        duration: float = 0.0,
        metrics: list[dict[str, Any]] | None = None,
        artifacts: list[dict[str, Any]] | None = None,
    ) -> CacheEntry:
        object_key, inline = self._keep(key, encoded)
        entry = CacheEntry(
            key=key,
            process=process,
            object_key=object_key,
            digest=encoded.digest,
            size=encoded.size,
            run_id=run_id,
            created_at=utc_now(),
            duration=duration,
            metrics=list(metrics or []),
            artifacts=list(artifacts or []),
            inline=inline,
            content=encoded.content if encoded.content != encoded.digest else None,
        )
        self.kv.set(f"cache/entries/{key}", entry.to_document())
        return entry

    def load(self, entry: CacheEntry) -> Any:
        return hydrate(entry.ref, self.objects, self.loads)

    def invalidate(self, key: str) -> bool:
        return self.kv.delete(f"cache/entries/{key}")

    def clear(self) -> int:
        """Forget every cached result of the project; returns how many entries there were."""
        keys = self.kv.keys("cache/")
        for key in keys:
            self.kv.delete(key)
        for name in self.objects.list("cache/"):
            self.objects.delete(name)
        return sum(1 for k in keys if k.startswith(("cache/entries/", "cache/steps/")))

    # -------------------------------------------------------------- explain

    def latest(self, process: str) -> dict[str, Any] | None:
        """The key parts (and parameters) of ``process``'s last run, as earlier versions kept
        them (by process, not by key): what ``--explain`` falls back on."""
        document = self.kv.get(f"cache/latest/{process}")
        return document if isinstance(document, dict) else None

    def parts(self, key: str) -> dict[str, Any] | None:
        """What ``key`` was made of (its parts, parameters, upstream digests, input files),
        as :meth:`record_parts` kept it; None when it was never executed here."""
        document = self.kv.get(f"cache/parts/{key}")
        return document if isinstance(document, dict) else None

    def record_parts(
        self,
        key: str,
        components: Mapping[str, str],
        *,
        params: Mapping[str, Any],
        upstream: Mapping[str, str],
        inputs: Mapping[str, str],
    ) -> None:
        self.kv.set(f"cache/parts/{key}", _parts(components, params, upstream, inputs))

    # -------------------------------------------------------------- steps

    def cached_step(
        self,
        process_key: str,
        info: StepInfo,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        *,
        reuse: bool = True,
        before_store: Callable[[], None] | None = None,
    ) -> tuple[Any, bool]:
        """The step's result and whether it came from the cache (never, without ``reuse``).

        ``before_store`` runs between computing and storing a result: it raises
        to keep a result out of the cache (an abandoned attempt's, say).
        """
        what = f"step {info.name!r}"
        parts = [
            process_key,
            info.name,
            code_hash(info.function),
            stable_hash([list(args), dict(kwargs)], what=f"the arguments of {what}"),
        ]
        key = hash_bytes("|".join(parts).encode())
        entry = CacheEntry.from_document(self.kv.get(f"cache/steps/{key}")) if reuse else None
        if entry is not None:
            try:
                return self.load(entry), True
            except Exception:  # noqa: BLE001 - an unreadable entry is a miss; run the step
                self.kv.delete(f"cache/steps/{key}")
        result = info.function(*args, **kwargs)
        if before_store is not None:
            before_store()
        encoded = encode_result(result, what=what)
        object_key, inline = self._keep(key, encoded)
        self.kv.set(
            f"cache/steps/{key}",
            CacheEntry(
                key, info.name, object_key, encoded.digest, encoded.size, "", "", inline=inline
            ).to_document(),
        )
        return result, False

    # -------------------------------------------------------------- checkpoints

    def save_object(self, key: str, value: Any) -> None:
        self.objects.put(key, encode_result(value, what=f"checkpoint {key}").data)

    def load_object(self, key: str, default: Any = None) -> Any:
        try:
            data = self.objects.get(key)
        except ObjectNotFoundError:
            return default
        return decode_result(data, what=f"checkpoint {key}", loads=self.loads)


def _parts(
    components: Mapping[str, str],
    params: Mapping[str, Any],
    upstream: Mapping[str, str],
    inputs: Mapping[str, str],
) -> dict[str, Any]:
    return {
        "components": dict(components),
        "params": record_params(params),
        "upstream": dict(upstream),
        "inputs": dict(inputs),
    }


__all__ = ["CacheEntry", "StepStateManager"]
