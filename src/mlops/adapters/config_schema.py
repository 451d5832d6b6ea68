"""The project configuration: pydantic models and a loader whose errors point at the line.

``configs/project_config.yaml`` is validated against :class:`ProjectConfig`.
A user's mistake becomes one :class:`~mlops.errors.ConfigError` line naming
the file, the line and column, the key path, what was expected and what was
found, e.g.::

    projects/demo/configs/project_config.yaml:7:17: reproducibility.random_seed:
    expected an integer, found 'abc'

Unknown keys are errors with a did-you-mean hint, at every level we own.
``model.parameters`` belongs to the adapter and stays open, except for the
pipeline declaration the engine reads.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from mlops.errors import ConfigError
from mlops.storage.factory import KV_ALIASES, OBJECT_ALIASES

CONFIG_RELATIVE_PATH = Path("configs") / "project_config.yaml"
ENV_MANAGERS = ("venv", "conda", "pyenv", "system")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


# ------------------------------------------------------------------ reproducibility


# The names mlops.core.experiment_tracker.TRACKERS serves.
TRACKING_BACKENDS = ("local", "mlflow", "noop")


class TrackingConfig(_Strict):
    backend: Literal["local", "mlflow", "noop"] = "local"
    parameters: dict[str, Any] = Field(default_factory=dict)


class ReproducibilityConfig(_Strict):
    random_seed: int | None = 42
    experiment_tracking: TrackingConfig = Field(default_factory=TrackingConfig)


# ------------------------------------------------------------------ environment


class _EnvSpec(_Strict):
    python: str | None = None
    requirements: list[str] | str = Field(default_factory=list)
    constraints: str | None = None


def _chain(value: str, allowed: tuple[str, ...]) -> str:
    """A fallback chain such as ``"uv|venv"``: known names only, at least one."""
    names = [part.strip() for part in str(value).split("|") if part.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise ValueError(f"expected names from {'|'.join(allowed)} joined by '|', found {value!r}")
    return "|".join(names)


class VenvSpec(_EnvSpec):
    #: Tools to build with, first available wins: ``uv`` (fast) then stdlib ``venv`` + pip.
    backend: str = "uv|venv"

    @field_validator("backend")
    @classmethod
    def _backend_chain(cls, value: str) -> str:
        return _chain(value, ("uv", "venv"))


class PyenvSpec(VenvSpec):
    #: Run ``pyenv install`` when the requested version is missing.
    install: bool = False


class SystemSpec(_EnvSpec):
    allow_install: bool = False


class CondaSpec(_EnvSpec):
    #: Frontends to look for, first found wins.
    frontends: str = "micromamba|mamba|conda"

    @field_validator("frontends")
    @classmethod
    def _frontend_chain(cls, value: str) -> str:
        return _chain(value, ("micromamba", "mamba", "conda"))

    channels: list[str] = Field(default_factory=lambda: ["conda-forge"])
    dependencies: list[str | dict[str, Any]] = Field(default_factory=list)
    environment_file: str | None = None
    lockfile: str | None = None


class EnvironmentConfig(_Strict):
    """Exactly one manager: ``venv``, ``conda``, ``pyenv`` or ``system``, with its spec."""

    venv: VenvSpec | None = None
    conda: CondaSpec | None = None
    pyenv: PyenvSpec | None = None
    system: SystemSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_specs_are_defaults(cls, data: Any) -> Any:
        # `system:` with nothing under it parses as None; it still selects the manager.
        if isinstance(data, Mapping):
            return {k: ({} if v is None and k in ENV_MANAGERS else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> EnvironmentConfig:
        chosen = [name for name in ENV_MANAGERS if getattr(self, name) is not None]
        if len(chosen) != 1:
            found = ", ".join(chosen) or "none"
            raise ValueError(f"expected exactly one of {', '.join(ENV_MANAGERS)}, found {found}")
        return self

    @property
    def manager(self) -> str:
        return next(name for name in ENV_MANAGERS if getattr(self, name) is not None)

    @property
    def spec(self) -> _EnvSpec:
        spec: _EnvSpec = getattr(self, self.manager)
        return spec


# ------------------------------------------------------------------ model


class PipelineConfig(BaseModel):
    """``model.parameters.pipeline``: the DAG, parsed and checked by the engine."""

    model_config = ConfigDict(extra="allow")

    process_adjlist: str | dict[str, list[str] | str | None] | None = None


class ModelParameters(BaseModel):
    """``model.parameters``: open to the adapter, except the pipeline the engine reads."""

    model_config = ConfigDict(extra="allow")

    pipeline: PipelineConfig | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every parameter as plain data, the pipeline included when set."""
        return self.model_dump(exclude_none=True)


class AdapterConfig(BaseModel):
    """The ``model`` section: which adapter runs the project, and its parameters."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    framework: str = "custom"
    language: Literal["python"] = "python"
    version: str = "0.1.0"
    parameters: ModelParameters = Field(default_factory=ModelParameters)
    requirements: dict[str, Any] | list[str] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _numbers_are_versions(cls, value: Any) -> Any:
        # `version: 1.2` is a float to YAML; a user means the text.
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )


# ------------------------------------------------------------------ reporting, storage, execution


class ChartConfig(_Strict):
    name: str = Field(min_length=1)
    type: Literal["static", "dynamic"] = "static"
    entrypoint: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class ReportingConfig(_Strict):
    charts: list[ChartConfig] = Field(default_factory=list)


class _StoreConfig(BaseModel):
    """One store: ``backend`` plus backend-specific options (checked by the storage factory)."""

    model_config = ConfigDict(extra="allow")
    aliases: ClassVar[Mapping[str, str]] = {}

    backend: str
    required: bool = False

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, backend: str) -> str:
        if backend.strip().lower() not in cls.aliases:
            valid = ", ".join(sorted(cls.aliases))
            raise ValueError(f"unknown storage backend {backend!r}; choose one of: {valid}")
        return backend


class KVStoreConfig(_StoreConfig):
    aliases: ClassVar[Mapping[str, str]] = KV_ALIASES


class ObjectStoreConfig(_StoreConfig):
    aliases: ClassVar[Mapping[str, str]] = OBJECT_ALIASES


class StorageConfig(_Strict):
    kv: KVStoreConfig | None = None
    objects: ObjectStoreConfig | None = None


class ExecutorConfig(_Strict):
    type: Literal["sequential", "threads", "processes", "dask"] | None = None
    n_workers: int | None = Field(default=None, ge=1)
    threads_per_worker: int | None = Field(default=None, ge=1)


CLUSTER_PROVIDERS = ("local", "ansible", "slurm")


class ClusterConfig(_Strict):
    """``cluster:`` in the project config, and the whole of ``configs/cluster_config.yaml``.

    ``required``: fail (exit 2) instead of running locally when the cluster is
    unreachable. ``code``: ``upload`` ships the project's source to the workers,
    ``shared`` expects the project folder at the same path on every worker.
    ``env`` and ``passthrough`` are exported to the workers.
    """

    provider: Literal["local", "ansible", "slurm"] | None = None
    scheduler_address: str | None = None
    required: bool = False
    connect_timeout: float = Field(default=10.0, gt=0)
    code: Literal["upload", "shared"] = "upload"
    env: dict[str, str | int | float | bool] = Field(default_factory=dict)
    passthrough: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)


class ProjectConfig(_Strict):
    reproducibility: ReproducibilityConfig = Field(default_factory=ReproducibilityConfig)
    environment: EnvironmentConfig = Field(
        default_factory=lambda: EnvironmentConfig(system=SystemSpec())
    )
    model: AdapterConfig
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)


# ------------------------------------------------------------------ loading with precise errors


def yaml_round_trip() -> YAML:
    """The YAML codec for user files: keeps comments, key order and quoting on rewrite."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def dump_yaml(data: Any) -> str:
    """YAML text for data loaded by :func:`parse_yaml` (or plain data), comments kept."""
    buffer = io.StringIO()
    yaml_round_trip().dump(data, buffer)
    return buffer.getvalue()


def parse_scalar(text: str) -> Any:
    """A value typed on the command line, read as YAML (``1`` int, ``[a, b]`` list, ``x`` str)."""
    return YAML(typ="safe", pure=True).load(text)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error becomes ``source:line:col: invalid YAML: ...``."""
    try:
        return yaml_round_trip().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ConfigError(
            f"{where}: invalid YAML: {problem}",
            hint="check the indentation and the ':' after each key there",
        ) from exc


def load_project_config(path: Path, *, display: str | None = None) -> ProjectConfig:
    """Read and validate ``project_config.yaml``; every problem is one ConfigError line."""
    source = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{source}: no such file", hint="create the project with `mlops create NAME`"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read the file: {exc}") from exc
    return validate_project_config(parse_yaml(text, source), source)


def validate_project_config(data: Any, source: str) -> ProjectConfig:
    """Validate parsed YAML (round-trip nodes keep their positions for the message)."""
    if data is None:
        raise ConfigError(f"{source}: the file is empty", hint="it needs at least a model: section")
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}:1:1: expected a mapping of sections (model:, environment:, ...), "
            f"found {_kind(data)}"
        )
    try:
        return ProjectConfig.model_validate(plain_data(data))
    except ValidationError as exc:
        raise _config_error(exc, data, source) from None


def load_cluster_config(path: Path, *, display: str | None = None) -> ClusterConfig | None:
    """Read ``configs/cluster_config.yaml``; None when there is no such file.

    It holds the keys of the project config's ``cluster:`` section at its top
    level; an empty file is an empty section.
    """
    source = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read the file: {exc}") from exc
    data = parse_yaml(text, source)
    if data is None:
        return ClusterConfig()
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}:1:1: expected a mapping (provider:, options:, ...), found {_kind(data)}"
        )
    try:
        return ClusterConfig.model_validate(plain_data(data))
    except ValidationError as exc:
        raise _config_error(exc, data, source, root=ClusterConfig) from None


_UNION_TAG = re.compile(r"^(str|int|float|bool|none|[a-z-]+\[.*\]|[A-Z][A-Za-z]*)$")


def _field_loc(loc: Sequence[Any], data: Any) -> tuple[Any, ...]:
    """The key path of an error in the user's data, without pydantic's union-member tags.

    A part that is a key (or index) of the data where it stands is kept, even
    when it looks like a tag (an env variable named ``PATH``); other parts
    that look like tags (``str``, ``dict[...]``, a model's name) are dropped.
    """
    path: list[Any] = []
    node = data
    for part in loc:
        if _holds(node, part):
            node = node[part]
        elif isinstance(part, int) or not _UNION_TAG.match(str(part)):
            node = None  # past what the user wrote: a missing key
        else:
            continue
        path.append(part)
    return tuple(path)


def _holds(node: Any, part: Any) -> bool:
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _within(inner: tuple[Any, ...], outer: tuple[Any, ...]) -> bool:
    return inner[: len(outer)] == outer


def _config_error(
    exc: ValidationError, data: Any, source: str, *, root: type[BaseModel] = ProjectConfig
) -> ConfigError:
    errors = exc.errors(include_url=False)
    by_loc: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for error in errors:
        by_loc.setdefault(_field_loc(error["loc"], data), []).append(error)
    # One problem may be reported at several depths: a union whose container
    # alternative got further (``{a: 5}`` fails as a string at the key and as
    # a list under ``a``). The deepest report says where the mistake is.
    reported = next(iter(by_loc))
    problem = [loc for loc in by_loc if _within(loc, reported) or _within(reported, loc)]
    loc = max(problem, key=len)
    group = by_loc[loc]
    where = _position(data, loc, source)
    path = _dotted(loc) or "(top level)"
    rest = [other for other in by_loc if other not in problem]
    others = sum(1 for a in rest if not any(b != a and _within(a, b) for b in rest))
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    first = group[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        parent, unknown = loc[:-1], str(loc[-1])
        known = _known_keys(parent, root)
        suggestion = difflib.get_close_matches(unknown, known, n=1)
        hint = (
            f"did you mean '{suggestion[0]}'?"
            if suggestion
            else f"valid keys here: {', '.join(known)}"
        )
        return ConfigError(f"{where}: {path}: unknown key{more}", hint=hint)
    if kind == "missing":
        return ConfigError(f"{where}: {path}: required key is missing{more}")
    if len(group) > 1:  # a union: every alternative failed
        wanted = " or ".join(dict.fromkeys(_expectation(e) for e in group))
        found = _show(first.get("input"))
        return ConfigError(f"{where}: {path}: expected {wanted}, found {found}{more}")
    return ConfigError(f"{where}: {path}: {_expected(first)}{more}")


_EXPECTATIONS = {
    "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
    "bool_parsing": "true or false", "bool_type": "true or false",
    "string_type": "a string", "dict_type": "a mapping", "list_type": "a list",
    "float_parsing": "a number", "float_type": "a number", "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}  # fmt: skip


def _expectation(error: Mapping[str, Any]) -> str:
    return _EXPECTATIONS.get(error["type"], str(error.get("msg", "a valid value")).lower())


def _expected(error: Mapping[str, Any]) -> str:
    kind, found = error["type"], error.get("input")
    if kind == "value_error":
        return str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "one of the allowed values")
        return f"expected {expected}, found {_show(found)}"
    if kind in _EXPECTATIONS:
        return f"expected {_EXPECTATIONS[kind]}, found {_show(found)}"
    return f"{str(error.get('msg', 'invalid value')).lower()}, found {_show(found)}"


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return "a string" if isinstance(value, str) else _show(value)


def _dotted(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif parts:
            parts.append(f".{part}")
        else:
            parts.append(str(part))
    return "".join(parts)


def _position(data: Any, loc: Sequence[Any], source: str) -> str:
    """``source:line:col`` of the deepest node of ``loc`` present in the YAML."""
    node, line, col = data, None, None
    for part in loc:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line, col = node.lc.key(part)
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, col = node.lc.item(part)
            else:
                break
        except (KeyError, IndexError, TypeError):  # added by an edit: it has no line yet
            break
        node = node[part]
    return f"{source}:{line + 1}:{col + 1}" if line is not None and col is not None else source


def _known_keys(parent: Sequence[Any], root: type[BaseModel]) -> list[str]:
    model: type[BaseModel] | None = root
    for part in parent:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field else None
    return sorted(model.model_fields) if model else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in getattr(candidate, "__args__", ()):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def plain_data(value: Any) -> Any:
    """Round-trip YAML nodes as plain dicts, lists and scalars (for pydantic and JSON)."""
    if isinstance(value, Mapping):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    if hasattr(value, "value") and type(value).__module__.startswith("ruamel"):
        return value.value  # ruamel scalar wrappers (quoted strings, tagged scalars)
    return value


__all__ = [
    "CLUSTER_PROVIDERS",
    "CONFIG_RELATIVE_PATH",
    "AdapterConfig",
    "ChartConfig",
    "ClusterConfig",
    "EnvironmentConfig",
    "ExecutorConfig",
    "ModelParameters",
    "PipelineConfig",
    "ProjectConfig",
    "ReportingConfig",
    "ReproducibilityConfig",
    "StorageConfig",
    "dump_yaml",
    "load_cluster_config",
    "load_project_config",
    "parse_scalar",
    "parse_yaml",
    "plain_data",
    "validate_project_config",
    "yaml_round_trip",
]
