"""The options of every store backend: one model per backend, a union tagged by ``backend``.

``storage.kv`` and ``storage.objects`` are validated here, by the project
config's schema (errors then carry the file, line and column) and by the
factory for stores built from a mapping in code, so there is one list of
backends, one alias map and one set of option checks. Aliases (``mem``,
``file``, ``gs``...) fold to the canonical name at validation: everything
after sees ``memory``, ``sqlite``, ``redis``, ``gcp``, ``local`` or ``gcs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from mlops.config.errors import UNKNOWN_CHOICE_ERROR, config_error

KV_ALIASES: dict[str, str] = {
    "memory": "memory", "mem": "memory",
    "sqlite": "sqlite", "local": "sqlite", "file": "sqlite",
    "redis": "redis",
    "gcp": "gcp", "firestore": "gcp",
}  # fmt: skip
OBJECT_ALIASES: dict[str, str] = {
    "memory": "memory", "mem": "memory",
    "local": "local", "fs": "local",
    "gcs": "gcs", "gs": "gcs",
}  # fmt: skip
DEFAULT_KV_BACKEND = "sqlite"
DEFAULT_OBJECT_BACKEND = "local"
DEFAULT_FIRESTORE_COLLECTION = "mlops"


def fold_alias(name: object, aliases: Mapping[str, str]) -> object:
    """The canonical name for ``name``, or ``name`` itself when no alias matches."""
    return aliases.get(name.strip().lower(), name) if isinstance(name, str) else name


class StoreOptions(BaseModel):
    """What every backend accepts: ``required`` stops a run instead of falling back."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    aliases: ClassVar[Mapping[str, str]] = {}

    backend: str
    required: bool = False

    @field_validator("backend", mode="before")
    @classmethod
    def _canonical(cls, value: Any) -> Any:
        return fold_alias(value, cls.aliases)

    def settings(self) -> dict[str, Any]:
        """Plain data for a worker to build the same store from (what was set, and the backend)."""
        return {"backend": self.backend, **self.model_dump(exclude_unset=True)}


class _KVOptions(StoreOptions):
    aliases: ClassVar[Mapping[str, str]] = KV_ALIASES


class _ObjectOptions(StoreOptions):
    aliases: ClassVar[Mapping[str, str]] = OBJECT_ALIASES


class MemoryKVOptions(_KVOptions):
    backend: Literal["memory"] = "memory"


class SqliteKVOptions(_KVOptions):
    backend: Literal["sqlite"] = "sqlite"
    #: The database file; a relative path lives under the workspace's ``.mlops/``.
    path: str | None = None


class RedisKVOptions(_KVOptions):
    backend: Literal["redis"] = "redis"
    #: ``redis://...``; else built from host/port/db/password, else ``$REDIS_URL``.
    url: str | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    db: int | None = Field(default=None, ge=0)
    password: str | None = None
    prefix: str = "mlops"
    timeout: float = Field(default=5.0, gt=0)
    #: Where the fallback store lives while Redis is unreachable.
    path: str | None = None


class FirestoreKVOptions(_KVOptions):
    backend: Literal["gcp"] = "gcp"
    project: str | None = None
    database: str | None = None
    collection: str = Field(default=DEFAULT_FIRESTORE_COLLECTION, min_length=1)
    timeout: float = Field(default=10.0, gt=0)
    path: str | None = None


class MemoryObjectOptions(_ObjectOptions):
    backend: Literal["memory"] = "memory"


class LocalObjectOptions(_ObjectOptions):
    backend: Literal["local"] = "local"
    #: The blob folder; a relative path lives under the workspace's ``.mlops/``.
    root: str | None = None
    #: fsync every blob before it becomes visible.
    durable: bool = True


class GcsObjectOptions(_ObjectOptions):
    backend: Literal["gcs"] = "gcs"
    bucket: str = Field(min_length=1)
    prefix: str = ""
    project: str | None = None
    #: A GCS emulator's address (else ``$STORAGE_EMULATOR_HOST``).
    endpoint: str | None = None
    create_bucket: bool = False
    timeout: float = Field(default=10.0, gt=0)
    #: Where the fallback store lives while the bucket is unreachable.
    root: str | None = None


class _Choice(Discriminator):
    """A discriminator usable in ``X | None`` (its error context is a dict, which Union hashes)."""

    def __hash__(self) -> int:
        return hash((self.custom_error_type, self.custom_error_message))


def _discriminator(aliases: Mapping[str, str], default: str) -> Discriminator:
    """Select the member by ``backend`` (aliases folded, ``default`` when absent)."""

    def tag(value: Any) -> Any:
        if isinstance(value, StoreOptions):
            return value.backend
        if isinstance(value, Mapping):
            return fold_alias(value.get("backend", default), aliases)
        return None  # not a mapping: reported as such

    return _Choice(
        tag,
        custom_error_type=UNKNOWN_CHOICE_ERROR,
        custom_error_message="unknown storage backend",
        custom_error_context={
            "key": "backend",
            "what": "storage backend",
            "choices": ", ".join(sorted(aliases)),
        },
    )


KVOptions = Annotated[
    Annotated[MemoryKVOptions, Tag("memory")]
    | Annotated[SqliteKVOptions, Tag("sqlite")]
    | Annotated[RedisKVOptions, Tag("redis")]
    | Annotated[FirestoreKVOptions, Tag("gcp")],
    _discriminator(KV_ALIASES, DEFAULT_KV_BACKEND),
]
ObjectOptions = Annotated[
    Annotated[MemoryObjectOptions, Tag("memory")]
    | Annotated[LocalObjectOptions, Tag("local")]
    | Annotated[GcsObjectOptions, Tag("gcs")],
    _discriminator(OBJECT_ALIASES, DEFAULT_OBJECT_BACKEND),
]
_KV_ADAPTER: TypeAdapter[StoreOptions] = TypeAdapter(KVOptions)
_OBJECT_ADAPTER: TypeAdapter[StoreOptions] = TypeAdapter(ObjectOptions)


def _parse(config: object, adapter: TypeAdapter[StoreOptions], root: Any, key_path: str) -> Any:
    if isinstance(config, StoreOptions):
        return config
    try:
        return adapter.validate_python({} if config is None else config)
    except ValidationError as exc:
        prefix = tuple(key_path.split("."))
        raise config_error(exc, config, "", root=root, prefix=prefix) from None


def kv_options(config: object, key_path: str = "storage.kv") -> StoreOptions:
    """``config`` (a mapping, options, or None for SQLite) checked as ``storage.kv``."""
    options: StoreOptions = _parse(config, _KV_ADAPTER, KVOptions, key_path)
    return options


def object_options(config: object, key_path: str = "storage.objects") -> StoreOptions:
    """``config`` (a mapping, options, or None for local files) checked as ``storage.objects``."""
    options: StoreOptions = _parse(config, _OBJECT_ADAPTER, ObjectOptions, key_path)
    return options


__all__ = [
    "KV_ALIASES",
    "OBJECT_ALIASES",
    "FirestoreKVOptions",
    "GcsObjectOptions",
    "KVOptions",
    "LocalObjectOptions",
    "MemoryKVOptions",
    "MemoryObjectOptions",
    "ObjectOptions",
    "RedisKVOptions",
    "SqliteKVOptions",
    "StoreOptions",
    "fold_alias",
    "kv_options",
    "object_options",
]
