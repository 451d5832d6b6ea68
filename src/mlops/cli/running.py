"""The run-facing commands: ``mlops run``, ``job run``, ``charts render``, ``config validate``
and ``quickstart``.

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
import sys
import time
from collections.abc import Sequence
from dataclasses import replace

from rich.console import Console

from mlops.cli.progress import BuildProgress, RunDisplay
from mlops.cluster.batch_jobs import DEFAULT_DATA_PARAM
from mlops.environment.launch import (
    REEXEC_VARIABLE,
    Launch,
    LaunchCache,
    request_args,
    run_child,
)
from mlops.environment.setup_env import inside, launch_of
from mlops.errors import ExitCode
from mlops.managers.loaded_project import LoadedProject
from mlops.managers.reproducibility_manager import ReproducibilityManager
from mlops.runtime.messages import warnings_as_lines
from mlops.runtime.request import RunRequest
from mlops.runtime.workspace import RootSource, Workspace, mlops_checkout, quickstart_home
from mlops.session.batch_job import job_request, summary, with_training_data
from mlops.session.platform import MLPlatform, RunReport


def run_project(
    workspace: Workspace, request: RunRequest, *, console: Console | None = None
) -> int:
    """Run ``request`` with progress on ``console``; returns the exit status.

    The project and its config are loaded once, here. Unless
    ``request.local``, the project's environment is ensured first and, when
    it is not this interpreter, the request runs again inside it (``mlops job
    run``, the request as JSON) and the child's exit status is returned. With
    a cluster asked for (``--cluster``, ``--scheduler`` or ``executor.type:
    dask``) the processes run on that provider's Dask cluster.
    """
    out = console or Console(highlight=False, soft_wrap=True)
    platform = MLPlatform(workspace)
    project = platform.load_project(request.project, request.overrides)
    if not request.local:
        child = request_args(request)
        status = run_in_project_environment(platform, project, child, verbosity=request.verbosity)
        if status is not None:
            return status
    order = list(project.graph.order)
    with warnings_as_lines(sys.stderr):
        display = RunDisplay(out, order, quiet=request.verbosity < 0, explain=request.explain)
        with display:
            report = platform.run_request(request, project, on_update=display.update)
    display.summary(report.record)
    if report.ok:
        return int(ExitCode.OK)
    show_traceback = request.verbosity > 0 or request.debug
    _report_failure(report, request.project, show_traceback=show_traceback)
    return int(ExitCode.RUN_FAILED)


#: Why a command builds the project's environment, said before a build starts.
FIRST_RUN = "first run of this spec"
TO_VALIDATE = "to check the code in it; --local checks in this interpreter instead"


def run_in_project_environment(
    platform: MLPlatform,
    project: LoadedProject,
    args: Sequence[str],
    *,
    verbosity: int = 0,
    why: str = FIRST_RUN,
) -> int | None:
    """Ensure the project's environment and run ``mlops ARGS`` in it; None when this is it.

    A process started for the environment its config gives runs here at once:
    the launch cache (:mod:`mlops.environment.launch`) starts a rerun's child
    without loading the config, and this is where the child checks it.
    """
    if os.environ.get(REEXEC_VARIABLE) == project.env_hash:
        return None
    launch = ensure_project_environment(platform, project, verbosity=verbosity, why=why)
    if launch is None:
        return None
    LaunchCache(platform.workspace).remember(project.id, project.overrides, launch)
    return run_child(launch.command(args, os.environ, platform.workspace.root))


def ensure_project_environment(
    platform: MLPlatform, project: LoadedProject, *, verbosity: int = 0, why: str = FIRST_RUN
) -> Launch | None:
    """Build the project's environment unless it exists (each step a line on stderr,
    the first saying ``why``); how to start it, or None when it is this interpreter."""
    manager = platform.environment_manager(project)
    building = not manager.exists()
    talk = verbosity >= 0
    progress = BuildProgress(Console(stderr=True, highlight=False))
    if talk:  # a build or an install takes minutes: each step is a line, its output live
        manager.on_step = progress.step
        manager.on_output = progress.output
    if building and talk:
        progress.step(f"building the {manager.name} environment for {project.id} ({why})")
    started = time.perf_counter()
    reproducibility = ReproducibilityManager(project.config.reproducibility)
    try:
        environment = reproducibility.setup_environment(manager)
    finally:
        progress.close()
    if inside(environment):
        return None
    if talk:
        how = (
            f"built in {time.perf_counter() - started:.1f} s with {environment.tool}"
            if environment.created
            else "reused"
        )
        _note(f"running in {environment.prefix} ({how})")
    # None when it has no folder of its own: it is this interpreter's (inside, above).
    return launch_of(environment)


def run_job(
    workspace: Workspace,
    request: RunRequest,
    *,
    training_data: str | None = None,
    data_param: str = DEFAULT_DATA_PARAM,
) -> int:
    """Run a batch job in this interpreter: one summary line, the exit status."""
    platform = MLPlatform(workspace)
    request = with_training_data(
        request,
        project_dir=platform.projects.require(request.project),
        workspace=platform.workspace.root,
        training_data=training_data,
        data_param=data_param,
    )
    project = platform.load_project(request.project, request.overrides)
    job = job_request(project, request, environ=os.environ)
    with warnings_as_lines(sys.stderr):
        report = platform.run_request(job, project)
    sys.stdout.write(summary(report) + "\n")
    sys.stdout.flush()
    return int(ExitCode.OK if report.ok else ExitCode.RUN_FAILED)


def render_project_charts(
    workspace: Workspace,
    name: str,
    *,
    run_id: str | None = None,
    local: bool = False,
    verbosity: int = 0,
) -> int:
    """Render a finished run's charts in the project's environment (where its chart code
    imports what it needs); one line per chart; exit 1 when one failed."""
    platform = MLPlatform(workspace)
    project = platform.load_project(name)
    if not local:
        selected = ["--run", run_id] if run_id else []
        args = ["charts", "render", name, "--local", *selected, *_verbosity_flags(verbosity)]
        status = run_in_project_environment(
            platform, project, args, verbosity=verbosity, why=TO_VALIDATE
        )
        if status is not None:
            return status
    with warnings_as_lines(sys.stderr):
        outcomes = platform.render_charts(project, run_id)
    for outcome in outcomes:
        where = outcome.get("cache_path") or ("data" if outcome.get("data") else "")
        detail = outcome.get("error") or where
        sys.stdout.write(f"{outcome['name']}: {outcome['status']} {detail}".rstrip() + "\n")
    failed = any(o["status"] != "rendered" for o in outcomes)
    return int(ExitCode.RUN_FAILED if failed else ExitCode.OK)


def validate_project(
    workspace: Workspace, name: str, *, local: bool = False, verbosity: int = 0
) -> int:
    """Check a project as a run would before running anything: its config (schema, graph)
    here, then its code (every process defined, every argument filled) in its environment."""
    platform = MLPlatform(workspace)
    project = platform.load_project(name)
    if not local:
        args = ["config", name, "validate", "--local", *_verbosity_flags(verbosity)]
        status = run_in_project_environment(
            platform, project, args, verbosity=verbosity, why=TO_VALIDATE
        )
        if status is not None:
            return status
    with warnings_as_lines(sys.stderr):
        platform.check_project(project)
    config = project.config
    sys.stdout.write(
        f"{name}: config is valid ({config.environment.manager} environment, framework "
        f"{config.model.framework}, {len(project.graph.order)} processes checked)\n"
    )
    return int(ExitCode.OK)


def _verbosity_flags(verbosity: int) -> list[str]:
    """``-q`` / ``-v``... for a command run again in the project's environment."""
    return ["-q"] if verbosity < 0 else ["-v"] * verbosity


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


def quickstart_workspace(workspace: Workspace) -> tuple[Workspace, str]:
    """The workspace quickstart writes to, and why that one.

    Inside mlops' own source checkout, with no workspace chosen (no
    ``--workspace``, no ``$MLOPS_WORKSPACE_DIR``, no ``.mlops/`` above), the
    demo goes to :func:`~mlops.runtime.workspace.quickstart_home` rather than
    into the checkout; anywhere else it goes where every command would look.
    """
    if workspace.source is RootSource.CWD:
        checkout = mlops_checkout(workspace.root)
        if checkout is not None:
            home = Workspace(quickstart_home(), RootSource.EXPLICIT)
            return home, f"not the mlops source checkout {checkout}"
    return workspace, str(workspace.source)


def quickstart(
    workspace: Workspace,
    name: str = "demo",
    *,
    template: str = "custom",
    verbosity: int = 0,
    console: Console | None = None,
) -> int:
    """Create a demo project (unless it exists), run it twice, and say where everything is.

    The first line says which workspace it writes to, before anything is written.
    """
    out = console or Console(highlight=False, soft_wrap=True)
    workspace, why = quickstart_workspace(workspace)
    out.print(f"Workspace: {workspace.root} ({why})")
    elsewhere = workspace.source is RootSource.EXPLICIT
    platform = MLPlatform(workspace)
    projects = platform.projects
    if projects.exists(name):
        out.print(f"Using the existing project {name} at {projects.project_dir(name)}")
    else:
        info = projects.create(name, template=template)
        out.print(f"Created project {name} from the {template} template at {info.path}")
    out.print(f"\n[bold]1. Running {name}[/bold]")
    request = RunRequest(name, verbosity=verbosity, local=True)
    status = run_project(workspace, request, console=out)
    if status != ExitCode.OK:
        return status
    out.print(f"\n[bold]2. Running {name} again: unchanged processes are reused[/bold]")
    status = run_project(workspace, replace(request, explain=True), console=out)
    if status != ExitCode.OK:
        return status
    project_dir = projects.project_dir(name)
    out.print("\n[bold]Where things are[/bold]")
    out.print(f"  workspace    {workspace.root}")
    out.print(f"  project      {project_dir}")
    out.print(f"  pipeline     {project_dir / 'src'}")
    out.print(f"  config       {projects.config_path(name)}")
    outputs = project_dir / "outputs"
    if outputs.is_dir():
        out.print(f"  outputs      {outputs}")
    kv = platform.open_stores(name).kv
    out.print(f"  run records  runs/<run id> in {kv.describe()} (namespace {name})")
    kv.close()
    command = f"mlops --workspace {workspace.root} run {name}" if elsewhere else f"mlops run {name}"
    out.print(
        f"\nNext: edit {projects.config_path(name).name} (for example a parameter) and "
        f"`{command} --explain` reruns only what changed."
    )
    return int(ExitCode.OK)


__all__ = [
    "ensure_project_environment",
    "quickstart",
    "quickstart_workspace",
    "render_project_charts",
    "run_job",
    "run_project",
    "validate_project",
    "warnings_as_lines",
]
