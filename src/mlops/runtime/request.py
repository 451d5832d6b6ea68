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
from mlops.runtime.json_values import from_json, to_json, yaml_text

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


Kind = Literal["value", "switch", "negated switch", "assignments"]


@dataclass(frozen=True)
class CommandOption:
    """How a :class:`RunRequest` field is given on the command line: declared once, on
    the field, from which the click option, the request the command builds and the
    argv that asks for the same run again are all derived.

    ``kind``: ``value`` takes a value (``--from fit``), ``switch`` sets the field
    true, ``negated switch`` false (``--no-cache``), ``assignments`` is
    ``--set KEY=VALUE``, repeatable, into a mapping. ``commands`` are those that
    offer it (``run``, ``job``, ``sweep``).
    """

    flag: str
    help: str
    kind: Kind = "value"
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    commands: frozenset[str] = frozenset({"run", "job", "sweep"})


def _option(default: Any = None, *, factory: Any = None, **declared: Any) -> Any:
    """A request field and its command-line option (:class:`CommandOption`)."""
    metadata = {"option": CommandOption(**declared)}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class RunRequest:
    """One run of one project, as asked for.

    ``from_process`` / ``only`` select processes; ``executor`` and
    ``n_workers`` replace the config's ``executor:``; ``cluster`` /
    ``scheduler`` ask for a Dask cluster; ``overrides`` replace config
    values by dotted key (``model.parameters.test_size``) for this run
    only; ``local`` runs in this interpreter rather than the project's
    environment; ``verbosity`` is -1 quiet, 0 normal, 1+ verbose. Each field
    a command line gives carries its option (:class:`CommandOption`).
    """

    project: str
    from_process: str | None = _option(
        flag="--from",
        metavar="PROCESS",
        help="Rerun PROCESS and everything after it.",
        commands=frozenset({"run", "job"}),
    )
    only: str | None = _option(
        flag="--only",
        metavar="PROCESS",
        help="Run only PROCESS (its inputs must be cached).",
        commands=frozenset({"run", "job"}),
    )
    use_cache: bool = _option(
        True, flag="--no-cache", kind="negated switch", help="Run every process; reuse nothing."
    )
    explain: bool = _option(
        False,
        flag="--explain",
        kind="switch",
        help="Say why each process ran or was reused.",
        commands=frozenset({"run"}),
    )
    executor: str | None = _option(
        flag="--executor",
        choices=LOCAL_EXECUTORS,
        help="Where processes run (default: executor.type in the config, else sequential).",
    )
    n_workers: int | None = _option(
        flag="--n-workers",
        minimum=1,
        help="Executor workers (default: executor.n_workers; in a SLURM job, its CPUs).",
    )
    cluster: str | None = _option(
        flag="--cluster",
        choices=CLUSTER_PROVIDERS,
        help="Run the processes on a Dask cluster from this provider (see cluster: in the config).",
    )
    scheduler: str | None = _option(
        flag="--scheduler",
        metavar="ADDRESS",
        help="The Dask scheduler the ansible provider connects to (tcp://HOST:PORT).",
    )
    overrides: Mapping[str, Any] = _option(
        factory=dict,
        flag="--set",
        kind="assignments",
        metavar="KEY=VALUE",
        help="Use this config value for this run only (YAML, as `mlops config set`); "
        "repeatable. The config file is not changed; the run records the values.",
    )
    run_id: str | None = _option(
        flag="--run-id", help="The id of the run (default: a new one).", commands=frozenset({"job"})
    )
    local: bool = _option(
        False,
        flag="--local",
        kind="switch",
        help="Run in this interpreter, not the project's environment.",
        commands=frozenset({"run", "sweep"}),
    )
    verbosity: int = 0
    debug: bool = False

    @classmethod
    def options(cls, command: str) -> list[tuple[str, CommandOption]]:
        """The fields ``command`` (``run``, ``job``) takes from its command line, in order."""
        found = []
        for entry in dataclasses.fields(cls):
            option = entry.metadata.get("option")
            if isinstance(option, CommandOption) and command in option.commands:
                found.append((entry.name, option))
        return found

    def to_argv(self) -> list[str]:
        """``mlops run`` options that ask for this request again: each field that differs
        from its default, by the option declared on it, then the global options."""
        argv: list[str] = []
        for entry in dataclasses.fields(self):
            option = entry.metadata.get("option")
            value = getattr(self, entry.name)
            if not isinstance(option, CommandOption) or value == _default_of(entry):
                continue
            if option.kind == "assignments":
                for key, assigned in value.items():
                    argv += [option.flag, f"{key}={yaml_text(assigned)}"]
            elif option.kind in ("switch", "negated switch"):
                argv.append(option.flag)
            else:
                argv += [option.flag, str(value)]
        if self.verbosity:
            argv += ["-q"] if self.verbosity < 0 else ["-v"] * self.verbosity
        return [*argv, "--debug"] if self.debug else argv

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


def _default_of(entry: dataclasses.Field[Any]) -> Any:
    if entry.default_factory is not dataclasses.MISSING:
        return entry.default_factory()
    return entry.default


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
    "CommandOption",
    "ExecutorName",
    "LocalExecutorName",
    "ProviderName",
    "RunRequest",
]
