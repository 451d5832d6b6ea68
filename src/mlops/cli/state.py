"""The command line's global options (``--workspace``, ``--debug``, ``-v``, ``-q``) and state.

Every command accepts them before or after its name (``mlops -q run x`` and
``mlops run x -q``): each is a click option whose callback folds it into the
:class:`CliState` of the invocation. From ``-vv`` on, mlops' debug log goes
to stderr.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlops.runtime.request import RunRequest
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


def accept_global_options(command: click.Command) -> click.Command:
    """Give ``command`` (every command under it, for a group) the global options, once."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_global_options(sub)
    elif not any(p.name in _GLOBAL_NAMES for p in command.params):
        command.params.extend(global_options())
    return command


_GLOBAL_NAMES = frozenset(option.name for option in global_options())


__all__ = [
    "CliState",
    "accept_global_options",
    "can_prompt",
    "global_options",
    "hide_debug_log",
    "pass_state",
    "show_debug_log",
]
