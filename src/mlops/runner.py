"""The run-facing commands: ``mlops run`` and ``mlops quickstart``.

``mlops run`` runs in the project's environment: it is ensured (built once per
spec) and, when it is not the running interpreter, the same command runs again
inside it (a child process, whose exit status is returned, so callers in
this process keep working on every platform).

They turn a platform run into what a person reads: live progress, warnings
as one line each, the summary, and an exit status (0 completed, 1 a process
failed). Configuration mistakes are raised as :class:`~mlops.errors.MlopsError`
for the CLI to report before anything runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from mlops.core.workspace import Workspace
from mlops.environment.setup_env import inside, reexec_command
from mlops.errors import ExitCode
from mlops.platform import MLPlatform, RunReport
from mlops.progress import RunDisplay
from mlops.runtime.messages import warnings_as_lines


def run_project(
    workspace: Workspace,
    name: str,
    *,
    verbosity: int = 0,
    debug: bool = False,
    executor: str | None = None,
    use_cache: bool = True,
    from_process: str | None = None,
    only: str | None = None,
    explain: bool = False,
    console: Console | None = None,
    local: bool = True,
    reexec_args: Sequence[str] = (),
    cluster: str | None = None,
    scheduler: str | None = None,
) -> int:
    """Run ``name`` with progress on ``console``; returns the exit status.

    Unless ``local``, the project's environment is ensured first and, when it
    is not this interpreter, ``mlops <reexec_args>`` runs again inside it and
    its exit status is returned. With ``cluster`` (or ``executor.type: dask``
    in the config) the processes run on that provider's Dask cluster.
    """
    out = console or Console(highlight=False, soft_wrap=True)
    platform = MLPlatform(workspace)
    if not local:
        status = run_in_project_environment(platform, name, reexec_args, verbosity=verbosity)
        if status is not None:
            return status
    order = list(platform.graph(name).order)
    controller = (
        platform.cluster_controller(name, provider=cluster, scheduler_address=scheduler)
        if cluster or scheduler or platform.wants_cluster(name)
        else None
    )
    with warnings_as_lines(sys.stderr):
        display = RunDisplay(out, order, quiet=verbosity < 0, explain=explain)
        with display:
            options: dict[str, Any] = {
                "executor": executor,
                "use_cache": use_cache,
                "from_process": from_process,
                "only": only,
                "on_update": display.update,
            }
            report = (
                platform.run_on_cluster(name, controller=controller, **options)
                if controller is not None
                else platform.run_pipeline_for_project(name, **options)
            )
    display.summary(report.record)
    if report.ok:
        return int(ExitCode.OK)
    _report_failure(report, name, show_traceback=verbosity > 0 or debug)
    return int(ExitCode.RUN_FAILED)


def run_in_project_environment(
    platform: MLPlatform, name: str, args: Sequence[str], *, verbosity: int = 0
) -> int | None:
    """Ensure ``name``'s environment and run ``mlops ARGS`` in it; None when this is it."""
    manager = platform.environment_manager(name)
    building = not manager.exists()
    if building and verbosity >= 0:
        _note(f"building the {manager.name} environment for {name} (first run of this spec)")
    started = time.perf_counter()
    environment = manager.ensure()
    if inside(environment):
        return None
    if verbosity >= 0:
        how = (
            f"built in {time.perf_counter() - started:.1f} s with {environment.tool}"
            if environment.created
            else "reused"
        )
        _note(f"running in {environment.prefix} ({how})")
    command = reexec_command(environment, args, os.environ, platform.workspace.root)
    # Not through CommandRunner, which captures output: the child's progress goes
    # straight to this terminal, and its exit status is the run's.
    completed = subprocess.run(command.argv, env=command.env, check=False)
    return completed.returncode


def _note(text: str) -> None:
    sys.stderr.write(f"mlops: {text}\n")
    sys.stderr.flush()


def _report_failure(report: RunReport, name: str, *, show_traceback: bool) -> None:
    failed = report.failed_process or "?"
    record = report.processes.get(failed)
    if show_traceback and record is not None and record.traceback:
        sys.stderr.write(record.traceback.rstrip() + "\n")
    error = " ".join(((record.error if record is not None else None) or "failed").split())
    hint = "" if show_traceback else "; -v shows the traceback"
    sys.stderr.write(
        f"mlops: run {report.run_id} failed: process {failed!r}: {error} "
        f"(fix it and run `mlops run {name}` again to resume from there{hint})\n"
    )
    sys.stderr.flush()


def quickstart(
    workspace: Workspace,
    name: str = "demo",
    *,
    template: str = "custom",
    verbosity: int = 0,
    console: Console | None = None,
) -> int:
    """Create a demo project (unless it exists), run it twice, and say where everything is."""
    out = console or Console(highlight=False, soft_wrap=True)
    platform = MLPlatform(workspace)
    projects = platform.projects
    if projects.exists(name):
        out.print(f"Using the existing project {name} at {projects.project_dir(name)}")
    else:
        info = projects.create(name, template=template)
        out.print(f"Created project {name} from the {template} template at {info.path}")
    out.print(f"\n[bold]1. Running {name}[/bold]")
    status = run_project(workspace, name, verbosity=verbosity, console=out)
    if status != ExitCode.OK:
        return status
    out.print(f"\n[bold]2. Running {name} again: unchanged processes are reused[/bold]")
    status = run_project(workspace, name, verbosity=verbosity, explain=True, console=out)
    if status != ExitCode.OK:
        return status
    project_dir = projects.project_dir(name)
    out.print("\n[bold]Where things are[/bold]")
    out.print(f"  project      {project_dir}")
    out.print(f"  pipeline     {project_dir / 'src'}")
    out.print(f"  config       {projects.config_path(name)}")
    outputs = project_dir / "outputs"
    if outputs.is_dir():
        out.print(f"  outputs      {outputs}")
    _, config = platform.load(name)
    kv = platform.open_stores(name, config).kv
    out.print(f"  run records  runs/<run id> in {kv.describe()} (namespace {name})")
    kv.close()
    out.print(
        f"\nNext: edit {projects.config_path(name).name} (for example a parameter) and "
        f"`mlops run {name} --explain` reruns only what changed."
    )
    return int(ExitCode.OK)


__all__ = ["quickstart", "run_project", "warnings_as_lines"]
