"""A run, from its request to its report: the one way every caller runs a project.

:func:`run_request` serves the command line, batch jobs, the Python API
(``MLPlatform.run_pipeline_for_project``) and runs on a cluster alike:

1. the project is loaded once (or given, already loaded);
2. the placement: on a Dask cluster when the request or the config asks for
   one (the controller starts it, or falls back to this machine with a
   warning), else here;
3. :func:`~mlops.session.building.build_run` builds the run for that placement;
4. the scheduler carries the plan out, telling the listeners (the record, the
   tracker, the caller's display) as each process settles;
5. a completed run's charts are drawn, and the run is closed with its status.

SIGINT, SIGTERM and SIGHUP stop it, recorded ``interrupted``, as
:class:`~mlops.runtime.interrupts.Interrupted`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from mlops.adapters.plugin_manager import AdapterPluginManager
from mlops.cluster.controller import ClusterController
from mlops.engine.plan import PipelineRun
from mlops.errors import MlopsError, StorageError
from mlops.managers.loaded_project import LoadedProject
from mlops.managers.project_manager import ProjectManager
from mlops.runtime.context import RuntimeContext, activated
from mlops.runtime.interrupts import stop_signals_raise
from mlops.runtime.request import RunRequest
from mlops.session.building import BuiltRun, build_run
from mlops.session.charts import charts_after_run
from mlops.session.report import RunReport
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.status import RunStatus

OnUpdate = Callable[[ProcessRecord], None]


@stop_signals_raise()
def run_request(
    request: RunRequest,
    *,
    projects: ProjectManager,
    plugins: AdapterPluginManager,
    project: LoadedProject | None = None,
    on_update: OnUpdate | None = None,
    client: Any = None,
    execution: RuntimeContext | None = None,
) -> RunReport:
    """Run ``request`` in this interpreter, here or on its cluster; see the module docstring.

    A caller that holds a Dask client of its own hands it in as ``client`` (and
    may say how the run got there, ``execution``): the run is placed on it, and
    the client is left open.
    """
    project = project or projects.load(request.project, request.overrides)

    def placed(executor: str | None, client: Any, execution: RuntimeContext | None) -> RunReport:
        placed_request = replace(request, executor=executor) if executor else request
        with build_run(
            placed_request,
            project,
            workspace=projects.workspace,
            plugins=plugins,
            on_update=on_update,
            client=client,
            execution=execution,
        ) as built:
            return run_built(built)

    if client is not None:
        return placed(request.executor, client, execution)
    if not (request.wants_cluster or project.config.executor.type == "dask"):
        return placed(None, None, execution)
    controller = cluster_controller(projects, project, request)
    return controller.run(placed, executor=request.executor)


def cluster_controller(
    projects: ProjectManager, project: LoadedProject, request: RunRequest | None = None
) -> ClusterController:
    """The project's cluster controller (settings merged and checked, nothing started)."""
    return ClusterController(
        project.id,
        project_dir=project.path,
        config=project.config,
        workspace=projects.workspace.ensure().root,
        request=request,
    )


def run_built(built: BuiltRun) -> RunReport:
    """Carry out a built run: its plan, then its charts, then its record closed."""
    try:
        with activated(built.context):
            pipeline = built.scheduler.run(built.listeners.update)
    except BaseException as exc:
        record_stop(built, exc)
        raise
    return conclude(built, pipeline)


def record_stop(built: BuiltRun, exc: BaseException) -> None:
    """Record why a run stopped before its plan was done: ``interrupted`` by a stop signal
    (its executor let go), else ``failed``; a store that refuses writes says so."""
    listeners = built.listeners
    if isinstance(exc, KeyboardInterrupt):
        listeners.interrupted(exc, built.executor)
        return
    message = exc.one_line() if isinstance(exc, MlopsError) else repr(exc)
    with contextlib.suppress(StorageError):  # the store may be what failed
        listeners.finish(RunStatus.FAILED, {"message": message})
    if isinstance(exc, StorageError):
        raise StorageError(
            f"run {built.run_id} stopped: its records could not be written: {exc.message}",
            hint=exc.hint,
        ) from exc


def conclude(built: BuiltRun, pipeline: PipelineRun) -> RunReport:
    """A run whose plan is done: its charts (when it completed), then its record closed."""
    listeners = built.listeners
    failed = pipeline.failed_process
    error = {"process": failed, "message": pipeline.processes[failed].error} if failed else None
    # Charts are drawn before the run is closed, so their images reach the tracker's
    # run too; they read the processes' records, which are final.
    charts = (
        charts_after_run(built.project, built.code.adapter, built.stores, built.recorder.record)
        if pipeline.status is RunStatus.COMPLETED
        else []
    )
    listeners.attach_artifacts([c["artifact"] for c in charts if c.get("artifact")])
    try:
        listeners.finish(pipeline.status, error)
    except StorageError as exc:
        raise StorageError(
            f"run {built.run_id} {pipeline.status.value}, but its end could not be recorded: "
            f"{exc.message}",
            hint=exc.hint,
        ) from exc
    return RunReport(built.project.id, built.recorder.record, pipeline, listeners.notes, charts)


__all__ = ["cluster_controller", "conclude", "record_stop", "run_built", "run_request"]
