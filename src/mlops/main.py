"""The ``mlops`` command line.

Thin by design: parse arguments, call the layer that does the work, and map
an :class:`~mlops.errors.MlopsError` to one line on stderr and its exit code.
Tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlops import __version__
from mlops.cli_output import echo_info, echo_table, human_size
from mlops.cli_runs import runs_command
from mlops.cli_state import (
    CliState,
    accept_global_options,
    can_prompt,
    global_options,
    hide_debug_log,
    pass_state,
    run_options,
    show_debug_log,
)
from mlops.cluster.process_runner import DEFAULT_DATA_PARAM
from mlops.errors import ExitCode, ProjectError, translate
from mlops.runtime.interrupts import exit_status, signal_of
from mlops.runtime.parent_death import adopt as adopt_parent
from mlops.runtime.request import RunRequest
from mlops.runtime.workspace import infer_source_root

if TYPE_CHECKING:
    pass

# Commands import their machinery (pydantic, ruamel, storage) when they run, so
# `mlops --help`, `--version` and completion stay fast.


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    params=global_options(),
)
@click.version_option(__version__, "--version", prog_name="mlops")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Run ML pipelines as projects: cached, tracked, reproducible."""
    ctx.ensure_object(CliState)


@cli.command("workspace")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
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


# ------------------------------------------------------------------ projects


@cli.command("create")
@click.argument("name")
@click.option(
    "--template",
    "-t",
    default=None,
    help="Template to start from (an unknown name lists the installed ones); "
    "default: a minimal project.",
)
@pass_state
def create_command(state: CliState, name: str, template: str | None) -> None:
    """Create project NAME in the workspace."""
    info = state.projects().create(name, template=template)
    click.echo(f"Created project {info.id} at {info.path}")


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def list_command(state: CliState, as_json: bool) -> None:
    """List the workspace's projects."""
    projects = state.projects().list()
    if as_json:
        click.echo(json.dumps([p.to_json() for p in projects], indent=2))
        return
    if not projects:
        click.echo(
            f"No projects in {state.workspace().root} (create one with `mlops create NAME`)."
        )
        return
    header = ("PROJECT", "FRAMEWORK", "TEMPLATE", "CREATED", "CONFIG")
    rows = [
        (p.id, p.framework or "-", p.template or "-", p.created_at or "-",
         "valid" if p.valid else "invalid")
        for p in projects
    ]  # fmt: skip
    echo_table([list(header), *(list(r) for r in rows)])


@cli.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def info_command(state: CliState, name: str, as_json: bool) -> None:
    """Show a project's location, framework, template and whether its config is valid."""
    echo_info(state.projects().info(name), as_json)


@cli.command("delete")
@click.argument("name")
@click.option("--force", "-f", is_flag=True, help="Delete without asking.")
@pass_state
def delete_command(state: CliState, name: str, force: bool) -> None:
    """Delete project NAME and everything in its folder."""
    manager = state.projects()
    if not force and not can_prompt():
        manager.require(name, config=False)
        raise ProjectError(
            f"not deleting project {name!r} without confirmation (no terminal to ask on)",
            hint="pass --force to delete without asking",
        )
    if manager.delete(name, force=force, confirm=lambda q: click.confirm(q, default=False)):
        click.echo(f"Deleted project {name}")
    else:
        click.echo("Nothing deleted.")


CONFIG_ACTIONS = ("show", "get", "set", "validate")


@cli.command("config")
@click.argument("name")
@click.argument("action", required=False, type=click.Choice(CONFIG_ACTIONS))
@click.argument("args", nargs=-1)
@click.option(
    "--file",
    "merge_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Merge this YAML file into the config.",
)
@click.option(
    "--local",
    is_flag=True,
    help="validate: check the code in this interpreter, not the project's environment.",
)
@pass_state
def config_command(
    state: CliState,
    *,
    name: str,
    action: str | None,
    args: tuple[str, ...],
    merge_file: Path | None,
    local: bool,
) -> int:
    """Show, query or edit a project's config.

    \b
    mlops config NAME                     show the file
    mlops config NAME get model.name      one value
    mlops config NAME set a.b=1 c=[x, y]  edit (values are YAML; comments are kept)
    mlops config NAME --file patch.yaml   merge a YAML file
    mlops config NAME validate            check it as a run does (config, graph,
                                          and the code: processes and arguments)
    """
    manager = state.projects()
    if merge_file is not None:
        if action is not None:
            raise click.UsageError("--file cannot be combined with an action")
        manager.config_merge(name, merge_file)
        click.echo(f"Merged {merge_file} into {name}'s config")
        return int(ExitCode.OK)
    action = action or "show"
    expected_args = {"show": (0, 0), "get": (1, 1), "set": (1, None), "validate": (0, 0)}[action]
    low, high = expected_args
    if len(args) < low or (high is not None and len(args) > high):
        usage = {"show": "", "get": " KEY", "set": " KEY=VALUE ...", "validate": ""}[action]
        raise click.UsageError(f"usage: mlops config NAME {action}{usage}")
    if action == "show":
        click.echo(manager.config_text(name), nl=False)
    elif action == "get":
        value = manager.config_get(name, args[0])
        if isinstance(value, dict | list):
            from mlops.adapters.config_schema import dump_yaml

            click.echo(dump_yaml(value).rstrip())
        else:
            click.echo(
                "null"
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else value
            )
    elif action == "set":
        manager.config_set(name, args)
        click.echo(f"Updated {name}: {', '.join(a.partition('=')[0] for a in args)}")
    else:
        from mlops.runner import validate_project

        return validate_project(state.workspace(), name, local=local, verbosity=state.verbosity)
    return int(ExitCode.OK)


# ------------------------------------------------------------------ running


@cli.command("run")
@click.argument("name")
@click.option(
    "--local", is_flag=True, help="Run in this interpreter, not the project's environment."
)
@run_options
@click.option("--explain", is_flag=True, help="Say why each process ran or was reused.")
@pass_state
def run_command(
    state: CliState,
    *,
    name: str,
    local: bool,
    from_process: str | None,
    only: str | None,
    no_cache: bool,
    explain: bool,
    executor: str | None,
    cluster: str | None,
    scheduler: str | None,
    overrides: dict[str, Any],
) -> int:
    """Run project NAME's pipeline in its environment.

    The environment (environment: in the config) is built once per spec under
    .mlops/envs and reused; --local runs in this interpreter instead.
    Finished processes are cached by code and inputs: a rerun reuses them, and
    after a failure the next run resumes from the failed process.
    --cluster runs them on Dask workers; an unreachable cluster means a warning
    and a local run, unless cluster.required is true.
    Exit status: 0 the run completed, 1 a process failed, 2 a usage or config error.
    """
    selection = {"from_process": from_process, "only": only, "use_cache": not no_cache}
    placement = {"executor": executor, "cluster": cluster, "scheduler": scheduler}
    request = state.request(
        name, **selection, **placement, explain=explain, local=local, overrides=overrides
    )
    workspace = state.workspace()
    # A rerun in a built environment starts it before importing the rest of mlops.
    from mlops.environment.launch import launch_cached

    status = launch_cached(workspace, request)
    if status is not None:
        return status
    _start_workers_early(request)
    from mlops.runner import run_project

    return run_project(workspace, request)


def _start_workers_early(request: RunRequest) -> None:
    """Start the processes executor's fork server before the run imports the rest of mlops.

    Only when the run stays in this interpreter (``--local``, or already in the
    project's environment): the server's imports then overlap the config's
    reading instead of delaying the first process. No worker starts yet.
    """
    from mlops.environment.launch import runs_here

    if request.executor == "processes" and not request.wants_cluster and runs_here(request):
        from mlops.cluster.local_executors import start_early

        start_early(request.executor)


@cli.group("job")
def job_group() -> None:
    """Entry points of batch jobs and of runs inside a project's environment."""


@job_group.command("run")
@click.option(
    "--request",
    "request_json",
    metavar="JSON",
    help="A whole run request as JSON (what `mlops run` sends into the project's environment).",
)
@click.option("--project", metavar="NAME", help="The project a batch job runs.")
@run_options
@click.option(
    "--n-workers", type=click.IntRange(min=1), help="Executor workers (default: SLURM's CPUs)."
)
@click.option("--training-data", metavar="PATH", help="The data the run trains on.")
@click.option(
    "--data-param",
    default=DEFAULT_DATA_PARAM,
    show_default=True,
    metavar="NAME",
    help="The parameter --training-data sets.",
)
@click.option("--run-id", help="The id of the run (default: a new one).")
@pass_state
def job_run_command(
    state: CliState,
    *,
    request_json: str | None,
    project: str | None,
    from_process: str | None,
    only: str | None,
    no_cache: bool,
    executor: str | None,
    cluster: str | None,
    scheduler: str | None,
    overrides: dict[str, Any],
    n_workers: int | None,
    training_data: str | None,
    data_param: str,
    run_id: str | None,
) -> int:
    """Run a project as a batch job (--project), or a whole request (--request).

    A job prints one line (the run, its status, counts) and runs in this
    interpreter; `python -m mlops.cluster.process_runner` is the same command.
    Exit status: 0 the run completed, 1 a process failed, 2 a usage or config error.
    """
    if request_json is not None:
        if project is not None:
            raise click.UsageError("--request and --project cannot be used together")
        request = RunRequest.from_json(request_json)
        show_debug_log(request.verbosity)
        _start_workers_early(request)
        from mlops.runner import run_project

        return run_project(state.workspace(), request)
    if project is None:
        raise click.UsageError("one of --project or --request is required")
    selection = {"from_process": from_process, "only": only, "use_cache": not no_cache}
    placement = {"executor": executor, "cluster": cluster, "scheduler": scheduler}
    request = state.request(
        project, **selection, **placement, n_workers=n_workers, run_id=run_id, local=True,
        overrides=overrides,
    )  # fmt: skip
    _start_workers_early(request)
    from mlops.runner import run_job

    return run_job(state.workspace(), request, training_data=training_data, data_param=data_param)


@cli.group("charts")
def charts_group() -> None:
    """Charts of a project's runs (reporting.charts in the config)."""


@charts_group.command("render")
@click.argument("name", required=False)
@click.option("--project", "project_option", metavar="NAME", hidden=True)
@click.option("--run", "run_id", metavar="RUN", help="The run (default: the latest).")
@click.option(
    "--local", is_flag=True, help="Render in this interpreter, not the project's environment."
)
@pass_state
def charts_render_command(
    state: CliState, name: str | None, project_option: str | None, run_id: str | None, local: bool
) -> int:
    """Render the charts of project NAME's latest run (or --run), in its environment.

    One line per chart; exit status 1 when a chart failed.
    """
    from mlops.runner import render_project_charts

    project = name or project_option
    if project is None:
        raise click.UsageError("the project is missing: mlops charts render NAME")
    return render_project_charts(
        state.workspace(), project, run_id=run_id, local=local, verbosity=state.verbosity
    )


@cli.command("quickstart")
@click.option("--name", default="demo", show_default=True, help="Name of the demo project.")
@click.option(
    "--template", "-t", default="custom", show_default=True, help="Template of the demo project."
)
@pass_state
def quickstart_command(state: CliState, *, name: str, template: str) -> int:
    """Create a demo project, run it, and run it again from the cache."""
    from mlops.runner import quickstart

    return quickstart(state.workspace(), name, template=template, verbosity=state.verbosity)


# ------------------------------------------------------------------ environments


@cli.group("env")
def env_group() -> None:
    """Project environments, built once per spec under .mlops/envs."""


@env_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def env_list_command(state: CliState, as_json: bool) -> None:
    """Show every environment: manager, state, size and the projects using it."""
    from mlops.environment.inventory import list_environments
    from mlops.platform import MLPlatform

    platform = MLPlatform(state.workspace())
    used = platform.environments_in_use()
    records = list_environments(platform.workspace.envs_dir)
    if as_json:
        rows = [{**r.to_json(), "used_by": used.get(r.name, [])} for r in records]
        click.echo(json.dumps(rows, indent=2))
        return
    if not records:
        click.echo(f"No environments in {platform.workspace.envs_dir}")
        return
    table = [["NAME", "STATE", "SIZE", "TOOL", "USED BY"]]
    for r in records:
        state_text = "ready" if r.complete else "incomplete"
        table.append([r.name, state_text, human_size(r.size_bytes), r.tool or "-",
                      ", ".join(used.get(r.name, [])) or "-"])  # fmt: skip
    echo_table(table)


@env_group.command("prune")
@click.option("--all", "everything", is_flag=True, help="Remove every environment.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@pass_state
def env_prune_command(state: CliState, everything: bool, dry_run: bool) -> None:
    """Remove environments no project uses now, and interrupted builds."""
    from mlops.environment.inventory import prune
    from mlops.platform import MLPlatform

    platform = MLPlatform(state.workspace())
    keep = set() if everything else set(platform.environments_in_use())
    removed = prune(platform.workspace.envs_dir, keep, everything=everything, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for record in removed:
        click.echo(f"{verb} {record.name} ({human_size(record.size_bytes)})")
    total = human_size(sum(r.size_bytes for r in removed))
    click.echo(f"{verb} {len(removed)} environment(s), {total}.")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", help="Require this token (needed off loopback; or $MLOPS_UI_TOKEN).")
@pass_state
def serve_command(state: CliState, host: str, port: int, token: str | None) -> None:
    """Serve the web UI and its JSON API (projects, runs, graph, charts) for this workspace."""
    from mlops.web.serve import serve, settle_token

    settle_token(host, token, os.environ)  # refuse a bad bind before importing the server
    click.echo(f"mlops: serving {state.workspace().root} on http://{host}:{port}/", err=True)
    serve(state.workspace(), host=host, port=port, token=token)


# The command names the platform's spec and its users' tests import.
create_project_command = create_command
delete_project_command = delete_command
list_projects_command = list_command
run_project_command = run_command
config_project_command = config_command


cli.add_command(runs_command)
accept_global_options(cli)


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


if __name__ == "__main__":
    sys.exit(main())
