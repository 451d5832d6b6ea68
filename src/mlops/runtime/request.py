"""``RunRequest``: everything one ``mlops run`` asks for, built once and passed down whole.

The command line (``mlops run``), the batch job entry point and the Python
API each build one request; the runner, the platform, the cluster controller
and the re-execution inside a project's environment take it as it is. The
re-execution carries it serialised (:meth:`RunRequest.to_json`), so an option
can never be dropped on the way into the child.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from mlops.errors import ConfigError
from mlops.runtime.json_values import from_json, to_json

# The names are written once, here: the config schema, the command line's choices and
# the executor and provider registries all take them from these literals.
LocalExecutorName = Literal["sequential", "threads", "processes"]
#: Where a run's processes run: on this machine, or ``dask`` (a cluster's client).
ExecutorName = Literal[LocalExecutorName, "dask"]
ProviderName = Literal["local", "ansible", "slurm"]
LOCAL_EXECUTORS: tuple[str, ...] = get_args(LocalExecutorName)
EXECUTOR_KINDS: tuple[str, ...] = (*LOCAL_EXECUTORS, "dask")
CLUSTER_PROVIDERS: tuple[str, ...] = get_args(ProviderName)
#: Conda frontends, in the default order of ``environment.conda.frontends``: a conda
#: binary when there is one, else py-rattler in this interpreter (which needs none).
CONDA_FRONTENDS: tuple[str, ...] = ("micromamba", "mamba", "conda", "rattler")


@dataclass(frozen=True)
class RunRequest:
    """One run of one project, as asked for.

    ``from_process`` / ``only`` select processes; ``executor`` and
    ``n_workers`` replace the config's ``executor:``; ``cluster`` /
    ``scheduler`` ask for a Dask cluster; ``overrides`` replace config
    values by dotted key (``model.parameters.test_size``) for this run
    only; ``local`` runs in this interpreter rather than the project's
    environment; ``verbosity`` is -1 quiet, 0 normal, 1+ verbose.
    """

    project: str
    from_process: str | None = None
    only: str | None = None
    use_cache: bool = True
    explain: bool = False
    executor: str | None = None
    n_workers: int | None = None
    cluster: str | None = None
    scheduler: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    local: bool = False
    verbosity: int = 0
    debug: bool = False

    @property
    def wants_cluster(self) -> bool:
        """The command line asks for a cluster (the config may, too)."""
        return bool(self.cluster or self.scheduler)

    def to_json(self) -> str:
        """The request as JSON; ``--set`` values keep their YAML type (a date stays a date)."""
        data = dataclasses.asdict(self)
        data["overrides"] = {key: to_json(value) for key, value in self.overrides.items()}
        return json.dumps(data, sort_keys=True, default=_refuse)

    @classmethod
    def from_json(cls, text: str) -> RunRequest:
        """The request :meth:`to_json` wrote; anything else is a ConfigError."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"run request: not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("project"), str):
            raise ConfigError("run request: expected a JSON object with a 'project'")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"run request: unknown field {unknown[0]!r}",
                hint="the request was written by another version of mlops; "
                "install the same version in the project's environment",
            )
        for name, value in data.items():
            _check_field(name, _FIELD_TYPES[name], value)
        data["overrides"] = {key: from_json(v) for key, v in data.get("overrides", {}).items()}
        return cls(**data)


def _check_field(name: str, hint: Any, value: Any) -> None:
    """``value`` fits field ``name``'s annotation (plain types, ``X | None``, mappings)."""
    options = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    for option in options:
        if option is type(None) and value is None:
            return
        if option is bool and isinstance(value, bool):
            return
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return
        if option is str and isinstance(value, str):
            return
        if get_origin(option) is Mapping and isinstance(value, dict):
            return
        if get_origin(option) is Literal and value in get_args(option):
            return
    raise ConfigError(f"run request: {name}: unexpected value {value!r}")


def _refuse(value: Any) -> Any:
    raise ConfigError(f"run request: {value!r} cannot be sent to another process (not plain data)")


_FIELD_TYPES = get_type_hints(RunRequest)

__all__ = [
    "CLUSTER_PROVIDERS",
    "CONDA_FRONTENDS",
    "EXECUTOR_KINDS",
    "LOCAL_EXECUTORS",
    "ExecutorName",
    "LocalExecutorName",
    "ProviderName",
    "RunRequest",
]
