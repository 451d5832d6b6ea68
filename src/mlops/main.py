"""The ``mlops`` command line.

Thin by design: parse arguments, call the layer that does the work, and map
an :class:`~mlops.errors.MlopsError` to one line on stderr and its exit code.
Tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from mlops import __version__
from mlops.core.workspace import Workspace, infer_source_root
from mlops.errors import ExitCode, MlopsError


@dataclass(frozen=True)
class CliState:
    workspace_arg: Path | None
    debug: bool

    def workspace(self) -> Workspace:
        return Workspace.resolve(self.workspace_arg)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mlops")
@click.option(
    "--workspace",
    "workspace_arg",
    type=click.Path(path_type=Path),
    help="Workspace folder (default: $MLOPS_WORKSPACE_DIR, else the nearest folder "
    "with .mlops/, else the current directory).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, workspace_arg: Path | None, debug: bool) -> None:
    """Run ML pipelines as projects: cached, tracked, reproducible."""
    ctx.obj = CliState(workspace_arg=workspace_arg, debug=debug)


@cli.command("workspace")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def workspace_command(state: CliState, as_json: bool) -> None:
    """Show where the workspace is and how it was chosen."""
    ws = state.workspace()
    info = {
        "root": str(ws.root),
        "chosen_by": ws.source.value,
        "projects_dir": str(ws.projects_dir),
        "state_dir": str(ws.state_dir),
        "mlops_source_root": str(infer_source_root()),
        "mlops_version": __version__,
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    width = max(len(key) for key in info)
    for key, value in info.items():
        click.echo(f"{key.ljust(width)}  {value}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mlops`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        outcome = cli.main(args=args, prog_name="mlops", standalone_mode=False)
    except MlopsError as exc:
        if debug:
            raise
        click.echo(f"mlops: error: {exc.one_line()}", err=True)
        return int(exc.exit_code)
    except click.Abort:
        click.echo("mlops: aborted", err=True)
        return int(ExitCode.RUN_FAILED)
    except click.ClickException as exc:
        # Usage errors exit 2 (click's UsageError.exit_code) and point at --help.
        where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else None
        hint = f" (see '{where} --help')" if where else ""
        click.echo(f"mlops: error: {' '.join(exc.format_message().split())}{hint}", err=True)
        return int(exc.exit_code)
    return outcome if isinstance(outcome, int) else int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
