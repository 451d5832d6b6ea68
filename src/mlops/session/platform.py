"""MLPlatform: one run of a project, from its config to its run record.

``run_pipeline_for_project`` does, in order: load and validate the config;
seed the generators; settle the environment (this interpreter, whose spec
hash joins every cache key); load the adapter and discover the processes;
parse and check the graph against them; open the project's stores, tracker
and executor; run; and write the run record. Everything the run opened is
closed on the way out, whatever happened.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlops.adapters.plugin_manager import AdapterPluginManager
from mlops.cache.step_state_manager import StepStateManager
from mlops.cluster.controller import ClusterController
from mlops.cluster.local_executors import create_executor, start_early
from mlops.config.adjacency import ADJLIST_KEY, check_processes
from mlops.config.graph import PipelineGraph
from mlops.config.schema import ProjectConfig
from mlops.engine.executors import Executor
from mlops.engine.plan import PipelineRun, RunPlan, Selection, check_arguments
from mlops.engine.scheduler import DaskNetworkXExecutor
from mlops.engine.step_system import ProcessDefinition
from mlops.engine.store_transport import LiveStores
from mlops.environment.base import EnvironmentManager, PrefixEnvironmentManager
from mlops.environment.setup_env import project_manager
from mlops.environment.utils import CommandRunner
from mlops.errors import ConfigError, MlopsError, StorageError
from mlops.managers.loaded_project import LoadedProject
from mlops.managers.project_manager import ProjectManager
from mlops.managers.reproducibility_manager import ReproducibilityManager
from mlops.reporting.entrypoint import ChartWarning, render_charts
from mlops.reporting.kv_utils import check_part
from mlops.reporting.registry import discover_charts
from mlops.runtime.context import RuntimeContext, activated
from mlops.runtime.interrupts import stop_signals_raise
from mlops.runtime.json_values import record_params
from mlops.runtime.request import RunRequest
from mlops.runtime.workspace import Workspace
from mlops.session.report import RunListeners, RunReport
from mlops.session.settings import (
    ProjectStores,
    execution_context,
    failed_run_id,
    open_tracker,
    store_handle,
)
from mlops.storage.factory import create_kv_store, create_object_store
from mlops.tracking.mid_run_tracking import MidRunTracking
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_owner import describe_owner, exclusive_run
from mlops.tracking.run_records import RunRecorder, get_run, latest_run, list_runs, new_run_id
from mlops.tracking.status import RunStatus


class PipelineWarning(UserWarning):
    """Something about the pipeline the user should know; the run goes on."""


class MLPlatform:
    """Runs projects of one workspace."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        plugins: AdapterPluginManager | None = None,
    ) -> None:
        self.projects = ProjectManager(workspace)
        self.workspace = self.projects.workspace
        self.plugins = plugins or AdapterPluginManager()

    # -------------------------------------------------------------- pieces

    def load_project(
        self, project_id: str, overrides: Mapping[str, Any] | None = None
    ) -> LoadedProject:
        """The project with its config validated: a command's one read of the config.

        ``overrides`` replace config values by dotted key for this command only.
        """
        return self.projects.load(project_id, overrides)

    def _loaded(self, project: str | LoadedProject) -> LoadedProject:
        return project if isinstance(project, LoadedProject) else self.load_project(project)

    def load(self, project_id: str) -> tuple[Path, ProjectConfig]:
        project = self.load_project(project_id)
        return project.path, project.config

    def graph(self, project_id: str, config: ProjectConfig | None = None) -> PipelineGraph:
        """The project's pipeline graph, parsed and checked for cycles (not for processes)."""
        if config is None:
            return self.load_project(project_id).graph
        return self._as_loaded(project_id, config).graph

    def _as_loaded(self, project_id: str, config: ProjectConfig) -> LoadedProject:
        return LoadedProject(
            project_id,
            self.projects.project_dir(project_id),
            config,
            self.projects.display_config_path(project_id),
        )

    def open_stores(
        self, project: str | LoadedProject, config: ProjectConfig | None = None
    ) -> ProjectStores:
        """The project's KV store (namespaced by id) and object store (under its prefix)."""
        if isinstance(project, str):
            project = self._as_loaded(project, config) if config else self.load_project(project)
        state_dir = self.workspace.ensure().state_dir
        kv_config, objects_config = project.kv_settings, project.object_settings
        kv = create_kv_store(kv_config, state_dir=state_dir, namespace=project.id)
        objects = create_object_store(objects_config, state_dir=state_dir)
        return ProjectStores(kv, objects, kv_config, objects_config)

    def environment_manager(
        self, project: str | LoadedProject, *, runner: CommandRunner | None = None
    ) -> EnvironmentManager:
        """The manager of the project's environment, under the workspace's ``.mlops/envs``."""
        project = self._loaded(project)
        return project_manager(
            project.environment_manager,
            project.config.environment.spec.model_dump(),
            project_dir=project.path,
            envs_dir=self.workspace.ensure().envs_dir,
            extras=project.runtime_extras,
            runner=runner,
        )

    def environments_in_use(self) -> dict[str, list[str]]:
        """Environment folder name -> the projects whose current spec uses it.

        A project whose config does not load uses nothing (it is reported by
        the commands that load it).
        """
        used: dict[str, list[str]] = {}
        for info in self.projects.list():
            try:
                manager = self.environment_manager(info.id)
            except MlopsError:
                continue
            if isinstance(manager, PrefixEnvironmentManager):
                used.setdefault(manager.path.name, []).append(info.id)
        return used

    def check_project(
        self, project: LoadedProject
    ) -> tuple[Any, dict[str, ProcessDefinition], list[str]]:
        """What a run checks before anything runs, beyond the config: the project's code.

        Imports the project's modules, checks that every process in the graph is
        defined and every argument it takes is filled (GraphError otherwise), and
        returns the adapter, the definitions and the notes (each also a warning).
        """
        adapter = self.plugins.create_adapter(project.config.model, project_dir=project.path)
        definitions = adapter.discover()
        source = f"{project.display_path}: {ADJLIST_KEY}"
        notes = check_processes(project.graph, definitions, source=source)
        params = project.params()
        own = {
            name: options.get("params") or {} for name, options in project.process_config.items()
        }
        check_arguments(project.graph, definitions, lambda name: {**params, **own.get(name, {})})
        for note in notes:
            warnings.warn(note, PipelineWarning, stacklevel=3)
        return adapter, definitions, notes

    # -------------------------------------------------------------- the run

    # SIGTERM and SIGHUP stop a run as Ctrl-C does from here on: a cluster being
    # started is left as on Ctrl-C, and the run is recorded interrupted.
    @stop_signals_raise()
    def execute(
        self,
        request: RunRequest,
        project: LoadedProject | None = None,
        *,
        on_update: Callable[[ProcessRecord], None] | None = None,
    ) -> RunReport:
        """Run ``request`` in this interpreter: on its Dask cluster when the request or the
        config asks for one (locally, with a warning, when it is unreachable), else here."""
        project = project or self.load_project(request.project, request.overrides)
        if not (request.wants_cluster or project.config.executor.type == "dask"):
            return self.run(request, project, on_update=on_update)
        return self._run_on_cluster(request, project, on_update)

    def _run_on_cluster(
        self,
        request: RunRequest,
        project: LoadedProject,
        on_update: Callable[[ProcessRecord], None] | None,
    ) -> RunReport:
        controller = self.cluster_controller(project, request)

        def pipeline(executor: str, client: Any, execution: RuntimeContext) -> RunReport:
            return self.run(
                replace(request, executor=executor),
                project,
                on_update=on_update,
                client=client,
                execution=execution,
            )

        return controller.run(pipeline, executor=request.executor)

    @stop_signals_raise()
    def run(
        self,
        request: RunRequest,
        project: LoadedProject | None = None,
        *,
        on_update: Callable[[ProcessRecord], None] | None = None,
        client: Any = None,
        execution: RuntimeContext | None = None,
    ) -> RunReport:
        """Run the project's pipeline; see the module docstring for the steps.

        ``execution`` says which path the run takes (a cluster's client is
        ``client``); it is recorded and is :func:`mlops.runtime.context.current`
        during the run. SIGINT, SIGTERM and SIGHUP stop it (recorded
        ``interrupted``) as :class:`~mlops.runtime.interrupts.Interrupted`.
        """
        project = project or self.load_project(request.project, request.overrides)
        config, project_dir = project.config, project.path
        reproducibility = ReproducibilityManager(config.reproducibility)
        seeds = reproducibility.apply_seed()
        env_hash = project.env_hash
        start_early(request.executor or config.executor.type, client=client)
        adapter, definitions, notes = self.check_project(project)
        graph = project.graph
        params = project.params()
        stores = self.open_stores(project)
        context = execution_context(execution, project.id, self.workspace.root, project_dir, stores)
        run_id = request.run_id or new_run_id()
        selection = Selection(from_process=request.from_process, only=request.only)
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(stores.objects.close)
            cleanup.callback(stores.kv.close)
            cleanup.enter_context(
                exclusive_run(
                    self.workspace.state_dir / "locks" / f"run-{project.id}.lock",
                    project.id,
                    lambda: _running_run(stores.kv),
                )
            )
            previous = latest_run(stores.kv)
            engine = create_executor(
                request.executor or config.executor.type,
                n_workers=request.n_workers or config.executor.n_workers,
                threads_per_worker=config.executor.threads_per_worker,
                client=client,
            )
            cleanup.callback(engine.close)
            handle = store_handle(engine, stores, self.workspace.state_dir, project.id)
            if isinstance(handle, LiveStores):
                cleanup.callback(handle.release)
            listeners = RunListeners(notes, on_update)
            # Built first: it checks arguments and selections before anything is recorded.
            plan = RunPlan(
                graph,
                definitions,
                run_id=run_id,
                project=project.id,
                params=params,
                process_config=project.process_config,
                env_hash=env_hash,
                seed=seeds.seed,
                use_cache=request.use_cache,
                selection=selection,
                source_root=adapter.source_root.resolve(),
                project_dir=project_dir.resolve(),
                spill_threshold=project.spill_threshold,
            )
            scheduler = DaskNetworkXExecutor(
                plan,
                executor=engine,
                state=StepStateManager(stores.kv, stores.objects),
                stores=handle,
                on_update=listeners.update,
            )
            tracker = open_tracker(config, stores, self.workspace.state_dir)
            tracker.start_run(run_id, project=project.id, params=params)
            listeners.tracking = MidRunTracking(tracker, run_id, stores.objects)
            details = {
                "executor": engine.name,
                "use_cache": request.use_cache,
                "selection": {"from": request.from_process, "only": request.only},
                "resumed_from": failed_run_id(previous),
                "seed": seeds.seed,
                "seeded": list(seeds.seeded),
                "framework": adapter.framework,
                "environment": {"manager": project.environment_manager, "spec_hash": env_hash},
                "execution": context.as_record(),
                "warnings": notes,
                "params": record_params(params),
                "overrides": record_params(project.overrides),
            }
            recorder = listeners.recorder = RunRecorder(
                stores.kv,
                run_id=run_id,
                project=project.id,
                graph=graph,
                details=details,
                environment=reproducibility.environment_record(),
            )
            pipeline = _drive(scheduler, engine, listeners, context, run_id)
            failed = pipeline.failed_process
            error = (
                {"process": failed, "message": pipeline.processes[failed].error} if failed else None
            )
            # Charts are drawn before the run is closed, so their images reach the
            # tracker's run too; they read the processes' records, which are final.
            charts = (
                self._charts_after_run(
                    project_id=project.id,
                    config=config,
                    adapter=adapter,
                    stores=stores,
                    record=recorder.record,
                    params=params,
                )
                if pipeline.status is RunStatus.COMPLETED
                else []
            )
            listeners.attach_artifacts([c["artifact"] for c in charts if c.get("artifact")])
            try:
                listeners.finish(pipeline.status, error)
            except StorageError as exc:
                raise StorageError(
                    f"run {run_id} {pipeline.status.value}, but its end could not be recorded: "
                    f"{exc.message}",
                    hint=exc.hint,
                ) from exc
        return RunReport(project.id, recorder.record, pipeline, notes, charts)

    def run_pipeline_for_project(
        self,
        project_id: str,
        *,
        executor: str | None = None,
        client: Any = None,
        use_cache: bool = True,
        from_process: str | None = None,
        only: str | None = None,
        run_id: str | None = None,
        on_update: Callable[[ProcessRecord], None] | None = None,
        execution: RuntimeContext | None = None,
        param_overrides: Mapping[str, Any] | None = None,
        n_workers: int | None = None,
    ) -> RunReport:
        """:meth:`run` with the request spelled as keywords (the Python API of one run)."""
        request = RunRequest(
            project_id,
            executor=executor,
            use_cache=use_cache,
            from_process=from_process,
            only=only,
            run_id=run_id,
            overrides=parameter_overrides(param_overrides),
            n_workers=n_workers,
            local=True,
        )
        return self.run(request, on_update=on_update, client=client, execution=execution)

    def _charts_after_run(self, **parts: Any) -> list[dict[str, Any]]:
        """The run's charts (``parts`` as :meth:`_render` takes them); charts that cannot be
        set up are a warning, never a failed run."""
        if not parts["config"].reporting.charts:
            return []
        try:
            return self._render(**parts)
        except MlopsError as exc:
            project_id = parts["project_id"]
            warnings.warn(f"charts of {project_id}: {exc.one_line()}", ChartWarning, stacklevel=3)
            return []

    def _render(
        self,
        *,
        project_id: str,
        config: ProjectConfig,
        adapter: Any,
        stores: ProjectStores,
        record: Mapping[str, Any],
        params: Mapping[str, Any],
        reuse: bool = True,
    ) -> list[dict[str, Any]]:
        return render_charts(
            project_id=project_id,
            project_dir=adapter.project_dir,
            run_id=str(record["run_id"]),
            record=record,
            charts=config.reporting.charts,
            registry=discover_charts(adapter.modules()),
            kv=stores.kv,
            objects=stores.objects,
            params=params,
            reuse=reuse,
        )

    def render_charts(
        self, project: str | LoadedProject, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Render the charts of a finished run (the latest when ``run_id`` is None)."""
        if run_id is not None:
            check_part(run_id, "run")
        project = self._loaded(project)
        project_id = project.id
        config = project.config
        if not config.reporting.charts:
            raise ConfigError(
                f"{project.display_path}: reporting.charts is empty",
                hint="list the charts to render, e.g. charts: [{name: metrics}]",
            )
        adapter = self.plugins.create_adapter(config.model, project_dir=project.path)
        stores = self.open_stores(project)
        try:
            latest = latest_run(stores.kv) if run_id is None else None
            wanted = run_id or (str(latest["run_id"]) if latest else None)
            record = get_run(stores.kv, wanted) if wanted else None
            if record is None:
                raise ConfigError(
                    f"project {project_id} has no run {run_id!r}"
                    if run_id
                    else f"project {project_id} has no runs yet",
                    hint=f"run it with `mlops run {project_id}`",
                )
            params = project.params()
            return self._render(
                project_id=project_id,
                config=config,
                adapter=adapter,
                stores=stores,
                record=record,
                params=params,
                reuse=False,  # asked for: drawn again
            )
        finally:
            stores.kv.close()
            stores.objects.close()

    def cluster_controller(
        self, project: str | LoadedProject, request: RunRequest | None = None
    ) -> ClusterController:
        """The project's cluster controller (settings merged and checked, nothing started)."""
        project = self._loaded(project)
        return ClusterController(
            project.id,
            project_dir=project.path,
            config=project.config,
            workspace=self.workspace.ensure().root,
            provider=request.cluster if request else None,
            scheduler_address=request.scheduler if request else None,
        )

    def run_on_cluster(
        self,
        project_id: str,
        *,
        provider: str | None = None,
        scheduler_address: str | None = None,
        executor: str | None = None,
        **run_options: Any,
    ) -> RunReport:
        """Run the pipeline on the project's Dask cluster; locally with a warning when it is
        unreachable (unless required). ``run_options`` are those of
        :meth:`run_pipeline_for_project`."""
        on_update = run_options.pop("on_update", None)
        overrides = parameter_overrides(run_options.pop("param_overrides", None))
        request = RunRequest(
            project_id,
            cluster=provider,
            scheduler=scheduler_address,
            executor=executor,
            overrides=overrides,
            local=True,
            **run_options,
        )
        return self._run_on_cluster(request, self.load_project(project_id, overrides), on_update)


def _drive(
    scheduler: DaskNetworkXExecutor,
    engine: Executor,
    listeners: RunListeners,
    context: RuntimeContext,
    run_id: str,
) -> PipelineRun:
    """Run the scheduler; an interruption or an error is recorded before it goes on up."""
    try:
        with activated(context):
            return scheduler.run()
    except KeyboardInterrupt as exc:
        listeners.interrupted(exc, engine)
        raise
    except BaseException as exc:
        message = exc.one_line() if isinstance(exc, MlopsError) else repr(exc)
        with contextlib.suppress(StorageError):  # the store may be what failed
            listeners.finish(RunStatus.FAILED, {"message": message})
        if isinstance(exc, StorageError):
            raise StorageError(
                f"run {run_id} stopped: its records could not be written: {exc.message}",
                hint=exc.hint,
            ) from exc
        raise


def parameter_overrides(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Model parameters by name (``{"test_size": 0.3}``) as config overrides by dotted key."""
    return {f"model.parameters.{name}": value for name, value in (params or {}).items()}


def _running_run(kv: Any) -> str | None:
    """The run of this store that says it is running, as the waiting run names it."""
    for summary in reversed(list_runs(kv)):
        if summary.get("status") == RunStatus.RUNNING.value:
            owner = summary.get("owner")
            where = f", {describe_owner(owner)}" if isinstance(owner, dict) else ""
            return f"run {summary.get('run_id')}{where}"
    return None


__all__ = ["MLPlatform", "PipelineWarning", "RunReport", "parameter_overrides"]
