"""The commands that run a project: ``run``, ``job run``, ``charts render`` and ``quickstart``."""

from __future__ import annotations

from typing import Any

import click

from mlops.cli.options import request_options
from mlops.cli.state import CliState, accept_global_options, pass_state, show_debug_log
from mlops.cluster.batch_jobs import DEFAULT_DATA_PARAM
from mlops.runtime.request import RunRequest


@click.command("run")
@click.argument("name")
@request_options("run")
@pass_state
def run_command(state: CliState, /, *, name: str, **options: Any) -> int:
    """Run project NAME's pipeline in its environment.

    The environment (environment: in the config) is built once per spec under
    .mlops/envs and reused; --local runs in this interpreter instead.
    Finished processes are cached by code and inputs: a rerun reuses them, and
    after a failure the next run resumes from the failed process.
    --cluster runs them on Dask workers; an unreachable cluster means a warning
    and a local run, unless cluster.required is true.
    Exit status: 0 the run completed, 1 a process failed, 2 a usage or config error.
    """
    request = state.request(name, **options)
    workspace = state.workspace()
    # A rerun in a built environment starts it before importing the rest of mlops.
    from mlops.environment.launch import launch_cached

    status = launch_cached(workspace, request)
    if status is not None:
        return status
    _start_workers_early(request)
    from mlops.cli.running import run_project

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


@click.group("job")
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
@request_options("job")
@click.option("--training-data", metavar="PATH", help="The data the run trains on.")
@click.option(
    "--data-param",
    default=DEFAULT_DATA_PARAM,
    show_default=True,
    metavar="NAME",
    help="The parameter --training-data sets.",
)
@pass_state
def job_run_command(
    state: CliState,
    /,
    *,
    request_json: str | None,
    project: str | None,
    training_data: str | None,
    data_param: str,
    **options: Any,
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
        from mlops.cli.running import run_project

        return run_project(state.workspace(), request)
    if project is None:
        raise click.UsageError("one of --project or --request is required")
    request = state.request(project, local=True, **options)
    _start_workers_early(request)
    from mlops.cli.running import run_job

    return run_job(state.workspace(), request, training_data=training_data, data_param=data_param)


@click.group("charts")
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
    from mlops.cli.running import render_project_charts

    project = name or project_option
    if project is None:
        raise click.UsageError("the project is missing: mlops charts render NAME")
    return render_project_charts(
        state.workspace(), project, run_id=run_id, local=local, verbosity=state.verbosity
    )


@click.command("quickstart")
@click.option("--name", default="demo", show_default=True, help="Name of the demo project.")
@click.option(
    "--template", "-t", default="custom", show_default=True, help="Template of the demo project."
)
@pass_state
def quickstart_command(state: CliState, *, name: str, template: str) -> int:
    """Create a demo project, run it, and run it again from the cache."""
    from mlops.cli.running import quickstart

    return quickstart(state.workspace(), name, template=template, verbosity=state.verbosity)


for _command in (run_command, job_group, charts_group, quickstart_command):
    accept_global_options(_command)


__all__ = ["charts_group", "job_group", "quickstart_command", "run_command"]
