"""The command line's global options (``--workspace``, ``--debug``, ``-v``, ``-q``) and state.

Every command accepts them before or after its name (``mlops -q run x`` and
``mlops run x -q``): each is a click option whose callback folds it into the
:class:`CliState` of the invocation. From ``-vv`` on, mlops' debug log goes
to stderr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlops.runtime.request import CLUSTER_PROVIDERS, LOCAL_EXECUTORS, RunRequest
from mlops.runtime.workspace import Workspace

if TYPE_CHECKING:
    from mlops.managers.project_manager import ProjectManager


@dataclass
class CliState:
    """The global options, given before or after the subcommand (``mlops -q run x``, or
    ``mlops run x -q``)."""

    workspace_arg: Path | None = None
    debug: bool = False
    verbosity: int = 0  # -1 quiet, 0 normal, 1+ verbose

    def workspace(self) -> Workspace:
        return Workspace.resolve(self.workspace_arg)

    def request(self, project: str, **options: Any) -> RunRequest:
        """A run request with these global options (verbosity, debug) and ``options``."""
        return RunRequest(project, verbosity=self.verbosity, debug=self.debug, **options)

    def projects(self) -> ProjectManager:
        from mlops.managers.project_manager import ProjectManager

        return ProjectManager(self.workspace())


# Every command finds the state in its context, or makes one: a command invoked on its
# own (``CliRunner().invoke(create_project_command, ...)``) works like one under ``cli``.
pass_state = click.make_pass_decorator(CliState, ensure=True)


def _set_global(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Fold a global option into the state, wherever on the line it was given."""
    state = ctx.ensure_object(CliState)
    if param.name == "workspace_arg" and isinstance(value, Path):
        state.workspace_arg = value
    elif param.name == "debug" and value:
        state.debug = True
    elif param.name == "verbose" and isinstance(value, int) and value:
        state.verbosity = max(state.verbosity, 0) + value
    elif param.name == "quiet" and value:
        state.verbosity = -1
    show_debug_log(state.verbosity)
    return value


class _DebugLog(logging.Handler):
    """mlops' debug log on the stderr of the moment (tests swap it between commands)."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(f"mlops: debug: {record.getMessage()}\n")


_DEBUG_LOG = _DebugLog()


def show_debug_log(verbosity: int) -> None:
    """From ``-vv`` on, mlops' debug log (which files a command reads, ...) goes to stderr,
    for this command only: it is taken off again when the command's context closes."""
    logger = logging.getLogger("mlops")
    if verbosity >= 2 and _DEBUG_LOG not in logger.handlers:
        logger.addHandler(_DEBUG_LOG)
        logger.setLevel(logging.DEBUG)
        context = click.get_current_context(silent=True)
        if context is not None:
            context.find_root().call_on_close(hide_debug_log)


def hide_debug_log() -> None:
    logger = logging.getLogger("mlops")
    logger.removeHandler(_DEBUG_LOG)
    logger.setLevel(logging.NOTSET)


def _global(decls: list[str], help_text: str, **kind: Any) -> click.Option:
    return click.Option(decls, expose_value=False, callback=_set_global, help=help_text, **kind)


def global_options() -> list[click.Option]:
    """The options every command accepts, before or after its name."""
    return [
        _global(
            ["--workspace", "workspace_arg"],
            "Workspace folder (default: $MLOPS_WORKSPACE_DIR, else the nearest folder "
            "with .mlops/, else the current directory).",
            type=click.Path(path_type=Path),
        ),
        _global(["--debug"], "Show tracebacks for errors.", is_flag=True),
        _global(["-v", "--verbose"], "Say more (process tracebacks with -v).", count=True),
        _global(["-q", "--quiet"], "Only the final line and errors.", is_flag=True),
    ]


def can_prompt() -> bool:
    """Whether a question can be asked: standard input is a terminal (not CI, not a pipe)."""
    return sys.stdin.isatty()


def _assignments(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as ``{dotted key: value}`` (values are YAML)."""
    if not values:
        return {}  # without importing the config machinery
    from mlops.managers.project_manager import parse_assignment

    return dict(parse_assignment(text) for text in values)


_RUN_OPTIONS = (
    click.option(
        "--from", "from_process", metavar="PROCESS", help="Rerun PROCESS and everything after it."
    ),
    click.option("--only", metavar="PROCESS", help="Run only PROCESS (its inputs must be cached)."),
    click.option("--no-cache", is_flag=True, help="Run every process; reuse nothing."),
    click.option(
        "--executor",
        type=click.Choice(LOCAL_EXECUTORS),
        help="Where processes run (default: executor.type in the config, else sequential).",
    ),
    click.option(
        "--cluster",
        type=click.Choice(CLUSTER_PROVIDERS),
        help="Run the processes on a Dask cluster from this provider (see cluster: in the config).",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="The Dask scheduler the ansible provider connects to (tcp://HOST:PORT).",
    ),
    click.option(
        "--set",
        "overrides",
        metavar="KEY=VALUE",
        multiple=True,
        callback=_assignments,
        help="Use this config value for this run only (YAML, as `mlops config set`); repeatable. "
        "The config file is not changed; the run records the values.",
    ),
)


def run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a run, shared by ``mlops run`` and ``mlops job run``."""
    for option in reversed(_RUN_OPTIONS):
        command = option(command)
    return command


def accept_global_options(group: click.Group) -> None:
    """Give every command under ``group`` the global options."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            accept_global_options(command)
        else:
            command.params.extend(global_options())


__all__ = [
    "CliState",
    "accept_global_options",
    "can_prompt",
    "global_options",
    "hide_debug_log",
    "pass_state",
    "run_options",
    "show_debug_log",
]
