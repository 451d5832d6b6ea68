"""MLPlatform: the projects of one workspace, and runs of them, from Python.

It holds the workspace's project manager and adapter plugins and offers what
the command line, the web server and users' scripts ask of a project: load it
(its config read and validated once), open its stores, find its environment,
check its code, draw its charts, and run it. A run goes through
:func:`mlops.session.running.run_request` whoever asks: ``run_pipeline_for_project``
and ``run_on_cluster`` spell a request as keywords and hand it on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlops.adapters.plugin_manager import AdapterPluginManager
from mlops.cluster.controller import ClusterController
from mlops.config.graph import PipelineGraph
from mlops.config.schema import ProjectConfig
from mlops.engine.step_system import ProcessDefinition
from mlops.environment.base import EnvironmentManager, PrefixEnvironmentManager
from mlops.environment.setup_env import environment_manager
from mlops.environment.utils import CommandRunner
from mlops.errors import MlopsError
from mlops.managers.loaded_project import LoadedProject
from mlops.managers.project_manager import ProjectManager
from mlops.runtime.context import RuntimeContext
from mlops.runtime.request import RunRequest
from mlops.runtime.workspace import Workspace
from mlops.session.charts import render_run_charts
from mlops.session.project_code import PipelineWarning, check_project
from mlops.session.report import RunReport
from mlops.session.running import cluster_controller, run_request
from mlops.session.settings import ProjectStores, open_stores
from mlops.tracking.process_record import ProcessRecord


class MLPlatform:
    """The projects of one workspace: load, inspect and run them."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        plugins: AdapterPluginManager | None = None,
    ) -> None:
        self.projects = ProjectManager(workspace)
        self.workspace = self.projects.workspace
        self.plugins = plugins or AdapterPluginManager()

    # -------------------------------------------------------------- a project

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
        return open_stores(project, self.workspace.ensure().state_dir)

    def environment_manager(
        self, project: str | LoadedProject, *, runner: CommandRunner | None = None
    ) -> EnvironmentManager:
        """The manager of the project's environment, under the workspace's ``.mlops/envs``."""
        project = self._loaded(project)
        return environment_manager(
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
        """What a run checks before anything runs, beyond the config: the project's code
        (:func:`~mlops.session.project_code.check_project`): its adapter, process
        definitions and notes."""
        code = check_project(self.plugins, project)
        return code.adapter, dict(code.definitions), list(code.notes)

    def render_charts(
        self, project: str | LoadedProject, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Render the charts of a finished run (the latest when ``run_id`` is None)."""
        return render_run_charts(
            self.plugins, self._loaded(project), self.workspace.ensure().state_dir, run_id
        )

    def cluster_controller(
        self, project: str | LoadedProject, request: RunRequest | None = None
    ) -> ClusterController:
        """The project's cluster controller (settings merged and checked, nothing started)."""
        return cluster_controller(self.projects, self._loaded(project), request)

    # -------------------------------------------------------------- runs

    def run_request(
        self,
        request: RunRequest,
        project: LoadedProject | None = None,
        *,
        on_update: Callable[[ProcessRecord], None] | None = None,
        client: Any = None,
        execution: RuntimeContext | None = None,
    ) -> RunReport:
        """Run ``request`` in this interpreter (:func:`mlops.session.running.run_request`)."""
        return run_request(
            request,
            projects=self.projects,
            plugins=self.plugins,
            project=project,
            on_update=on_update,
            client=client,
            execution=execution,
        )

    def run_pipeline_for_project(  # noqa: PLR0913 - the keywords the platform's spec names
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
        """:meth:`run_request` with the request spelled as keywords (the Python API of one
        run, as the platform's spec names it); ``client``: a Dask client of the caller's."""
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
        return self.run_request(request, on_update=on_update, client=client, execution=execution)

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
        return self.run_request(request, on_update=on_update)


def parameter_overrides(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Model parameters by name (``{"test_size": 0.3}``) as config overrides by dotted key."""
    return {f"model.parameters.{name}": value for name, value in (params or {}).items()}


__all__ = ["MLPlatform", "PipelineWarning", "RunReport", "parameter_overrides"]
