"""The ``mlops`` command line: the group of commands, and how a command ends.

Thin by design: parse arguments, call the layer that does the work, and map
an :class:`~mlops.errors.MlopsError` to one line on stderr and its exit code.
Tracebacks are shown only with ``--debug``. Commands import their machinery
(pydantic, ruamel, storage) when they run, so ``mlops --help``, ``--version``
and completion stay fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from mlops import __version__
from mlops.cli.state import CliState, global_options, hide_debug_log
from mlops.errors import ExitCode, translate
from mlops.runtime.interrupts import exit_status, signal_of
from mlops.runtime.parent_death import adopt as adopt_parent

#: Each command, by the module that defines it: imported when the command is used, so
#: `mlops run` loads no other command and `mlops --version` none at all.
COMMANDS: dict[str, str] = {
    "workspace": "mlops.cli.project_commands:workspace_command",
    "create": "mlops.cli.project_commands:create_command",
    "list": "mlops.cli.project_commands:list_command",
    "info": "mlops.cli.project_commands:info_command",
    "delete": "mlops.cli.project_commands:delete_command",
    "config": "mlops.cli.project_commands:config_command",
    "run": "mlops.cli.run_commands:run_command",
    "runs": "mlops.cli.runs:runs_command",
    "sweep": "mlops.cli.sweep_commands:sweep_command",
    "sweeps": "mlops.cli.sweep_commands:sweeps_command",
    "job": "mlops.cli.run_commands:job_group",
    "charts": "mlops.cli.run_commands:charts_group",
    "quickstart": "mlops.cli.run_commands:quickstart_command",
    "shell": "mlops.cli.shell_commands:shell_command",
    "exec": "mlops.cli.shell_commands:exec_command",
    "env": "mlops.cli.env_commands:env_group",
    "serve": "mlops.cli.env_commands:serve_command",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported when asked for (see :data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return command


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    params=global_options(),
)
@click.version_option(__version__, "--version", prog_name="mlops")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Run ML pipelines as projects: cached, tracked, reproducible."""
    ctx.ensure_object(CliState)


#: The statuses of a command a stop signal ended (:mod:`mlops.runtime.interrupts`).
STOPPED = frozenset({ExitCode.HANGUP, ExitCode.INTERRUPTED, ExitCode.TERMINATED})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mlops`` console script; returns the exit status."""
    if argv is None:
        # Started by a launcher (a run in its project's environment): end with it,
        # even when it is killed outright (the signal it asks for stops a run in order).
        adopt_parent()
    status = _main(list(sys.argv[1:] if argv is None else argv))
    if argv is None and status in STOPPED:
        # As a command, end now: the interpreter's exit would wait for what the
        # interrupt abandoned (a worker thread in a long call, a cluster's shutdown).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def _stopped(exc: BaseException) -> int:
    """One line for a command a stop signal ended, and its exit status (128 + the signal)."""
    name = signal_of(exc).name
    click.echo(
        "mlops: interrupted" if name == "SIGINT" else f"mlops: interrupted by {name}", err=True
    )
    return exit_status(exc)


def _main(args: list[str]) -> int:
    debug = "--debug" in args
    hide_debug_log()  # until this command's options say otherwise
    try:
        outcome = cli.main(args=args, prog_name="mlops", standalone_mode=False)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            return _stopped(exc.__context__)
        click.echo("mlops: aborted", err=True)
        return int(ExitCode.RUN_FAILED)
    except KeyboardInterrupt as exc:
        return _stopped(exc)
    except click.ClickException as exc:
        # Usage errors exit 2 (click's UsageError.exit_code) and point at --help.
        where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else None
        hint = f" (see '{where} --help')" if where else ""
        click.echo(f"mlops: error: {' '.join(exc.format_message().split())}{hint}", err=True)
        return int(exc.exit_code)
    except Exception as exc:  # every command ends in one line, whatever escaped the layers
        if debug:
            raise
        error = translate(exc)
        click.echo(f"mlops: error: {error.one_line()}", err=True)
        return int(error.exit_code)
    return outcome if isinstance(outcome, int) else int(ExitCode.OK)


__all__ = ["COMMANDS", "STOPPED", "cli", "main"]
