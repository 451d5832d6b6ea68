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

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mlops.config.cluster import (
    AnyProviderOptions,
    UncheckedOptions,
    check_scheduler_address,
    tagged,
)
from mlops.config.errors import config_error, describe
from mlops.config.pipeline import PipelineConfig, ProcessConfig
from mlops.config.storage import KVOptions, ObjectOptions
from mlops.config.sweeps import SweepConfig
from mlops.config.yaml_files import (
    dump_yaml,
    parse_scalar,
    parse_yaml,
    plain_data,
    read_yaml_file,
    yaml_round_trip,
)
from mlops.errors import ConfigError
from mlops.runtime.request import (
    CLUSTER_PROVIDERS,
    CONDA_FRONTENDS,
    ExecutorName,
    ProviderName,
)
from mlops.runtime.workspace import CONFIG_RELATIVE_PATH

_log = logging.getLogger(__name__)
ENV_MANAGERS = ("venv", "conda", "pyenv", "system")


SWEEP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


# ------------------------------------------------------------------ reproducibility


# The names mlops.tracking.trackers.TRACKERS serves.
TRACKING_BACKENDS = ("local", "mlflow", "noop")


class TrackingConfig(_Strict):
    backend: Literal["local", "mlflow", "noop"] = "local"
    parameters: dict[str, Any] = Field(default_factory=dict)


class ReproducibilityConfig(_Strict):
    random_seed: int | None = 42
    experiment_tracking: TrackingConfig = Field(default_factory=TrackingConfig)


# ------------------------------------------------------------------ environment


#: The oldest Python mlops runs in (pyproject's requires-python): an environment runs
#: mlops inside it, so an older one is refused when the config is read, before anything
#: is built.
OLDEST_PYTHON = (3, 11)


class _EnvSpec(_Strict):
    python: str | None = None
    requirements: list[str] | str = Field(default_factory=list)
    constraints: str | None = None

    @field_validator("python")
    @classmethod
    def _supported_python(cls, value: str | None) -> str | None:
        version = re.fullmatch(r"=*\s*(\d+)(?:\.(\d+))?(?:\.\d+)*", str(value or "").strip())
        if version is not None:
            found = (int(version.group(1)), int(version.group(2) or 0))
            if found < OLDEST_PYTHON:
                oldest = ".".join(map(str, OLDEST_PYTHON))
                raise ValueError(
                    f"Python {value} is older than mlops supports: it runs in Python {oldest} "
                    f"or newer (for example python: '{oldest}')"
                )
        return value


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
    frontends: str = "|".join(CONDA_FRONTENDS)

    @field_validator("frontends")
    @classmethod
    def _frontend_chain(cls, value: str) -> str:
        return _chain(value, CONDA_FRONTENDS)

    # None: $MLOPS_CONDA_CHANNEL, else the lockfile's or environment_file's, else conda-forge.
    channels: list[str] | None = None
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


class StorageConfig(_Strict):
    """``storage:``: each store is one backend's options (see :mod:`mlops.config.storage`)."""

    kv: KVOptions | None = None
    objects: ObjectOptions | None = None


class ExecutorConfig(_Strict):
    type: ExecutorName | None = None
    n_workers: int | None = Field(default=None, ge=1)
    threads_per_worker: int | None = Field(default=None, ge=1)


class ClusterConfig(_Strict):
    """``cluster:`` in the project config, and the whole of ``configs/cluster_config.yaml``.

    ``required``: fail (exit 2) instead of running locally when the cluster is
    unreachable. ``code``: ``upload`` ships the project's source to the workers,
    ``shared`` expects the project folder at the same path on every worker.
    ``env`` and ``passthrough`` are exported to the workers.
    """

    provider: ProviderName | None = None
    scheduler_address: str | None = None
    required: bool = False
    connect_timeout: float = Field(default=10.0, gt=0)
    code: Literal["upload", "shared"] = "upload"
    env: dict[str, str | int | float | bool] = Field(default_factory=dict)
    passthrough: list[str] = Field(default_factory=list)
    #: The provider's options, checked against its model when ``provider`` is set here.
    options: AnyProviderOptions = Field(default_factory=UncheckedOptions)

    @field_validator("scheduler_address")
    @classmethod
    def _dask_address(cls, value: str | None) -> str | None:
        return None if value is None else check_scheduler_address(value)

    @model_validator(mode="before")
    @classmethod
    def _options_of_the_provider(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "options" in data:
            return {**data, "options": tagged(data["options"], data.get("provider"))}
        return data


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
    sweeps: dict[str, SweepConfig] = Field(default_factory=dict)

    @field_validator("sweeps")
    @classmethod
    def _sweep_names(cls, value: dict[str, SweepConfig]) -> dict[str, SweepConfig]:
        for name in value:
            if not SWEEP_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a sweep name (letters, digits, '_' and '-', "
                    "starting with a letter)"
                )
        return value


# ------------------------------------------------------------------ loading with precise errors


def load_project_config(path: Path, *, display: str | None = None) -> ProjectConfig:
    """Read and validate ``project_config.yaml``; every problem is one ConfigError line."""
    source = display or str(path)
    try:
        data = read_yaml_file(path, source)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{source}: no such file", hint="create the project with `mlops create NAME`"
        ) from exc
    return validate_project_config(data, source)


def validate_project_config(data: Any, source: str) -> ProjectConfig:
    """Validate parsed YAML (round-trip nodes keep their positions for the message)."""
    if data is None:
        raise ConfigError(f"{source}: the file is empty", hint="it needs at least a model: section")
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}:1:1: expected a mapping of sections (model:, environment:, ...), "
            f"found {describe(data)}"
        )
    try:
        config = ProjectConfig.model_validate(plain_data(data))
    except ValidationError as exc:
        raise config_error(exc, data, source, root=ProjectConfig) from None
    if config.model.parameters.pipeline is not None:
        config.model.parameters.pipeline.check(data, source)
    _log.debug("validated %s", source)  # `mlops -vv` shows every config a command reads
    return config


def load_cluster_config(path: Path, *, display: str | None = None) -> ClusterConfig | None:
    """Read ``configs/cluster_config.yaml``; None when there is no such file.

    It holds the keys of the project config's ``cluster:`` section at its top
    level; an empty file is an empty section.
    """
    source = display or str(path)
    try:
        data = read_yaml_file(path, source)
    except FileNotFoundError:
        return None
    if data is None:
        return ClusterConfig()
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}:1:1: expected a mapping (provider:, options:, ...), found {describe(data)}"
        )
    try:
        return ClusterConfig.model_validate(plain_data(data))
    except ValidationError as exc:
        raise config_error(exc, data, source, root=ClusterConfig) from None


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
    "ProcessConfig",
    "ProjectConfig",
    "ReportingConfig",
    "ReproducibilityConfig",
    "StorageConfig",
    "SweepConfig",
    "dump_yaml",
    "load_cluster_config",
    "load_project_config",
    "parse_scalar",
    "parse_yaml",
    "plain_data",
    "validate_project_config",
    "yaml_round_trip",
]
