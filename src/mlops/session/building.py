"""Everything one run needs, built from its request before anything runs.

:func:`build_run` turns a request and its loaded project into a
:class:`BuiltRun`: the project's code checked, the plan, the stores, the
project's run lock, the executor (a local one, or one on a cluster's client),
the scheduler, the tracker's run and the run record, and the listeners that
connect them. It checks the plan before it records anything, so a mistake
found there leaves no run behind, and it closes what it opened when the run
is over, however it ended.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.adapters.plugin_manager import AdapterPluginManager
from mlops.cache.step_state_manager import StepStateManager
from mlops.cluster.local_executors import create_executor, start_early
from mlops.engine.executors import Executor
from mlops.engine.plan import RunPlan, Selection
from mlops.engine.scheduler import Scheduler
from mlops.engine.sharing import TaskSharing
from mlops.engine.store_transport import LiveStores, StoreHandle
from mlops.managers.loaded_project import LoadedProject
from mlops.managers.reproducibility_manager import ReproducibilityManager, SeedReport
from mlops.runtime.context import RuntimeContext
from mlops.runtime.json_values import record_params
from mlops.runtime.request import RunRequest
from mlops.runtime.workspace import Workspace
from mlops.session.project_code import ProjectCode, check_project
from mlops.session.report import RunListeners
from mlops.session.settings import (
    ProjectStores,
    execution_context,
    failed_run_id,
    open_stores,
    open_tracker,
    store_handle,
)
from mlops.tracking.mid_run_tracking import MidRunTracking
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_owner import describe_owner, exclusive_run
from mlops.tracking.run_records import RunRecorder, latest_run, list_runs, new_run_id
from mlops.tracking.status import RunStatus


@dataclass(frozen=True)
class RunSession:
    """What the runs of one command share: the project's checked code, its stores and run
    lock, the executor, and how workers reach the stores. One run has one; a sweep's
    points share one, so the lock is held once and the workers start once."""

    request: RunRequest
    project: LoadedProject
    code: ProjectCode
    stores: ProjectStores
    executor: Executor
    handle: StoreHandle
    context: RuntimeContext
    state_dir: Path
    seeds: SeedReport
    reproducibility: ReproducibilityManager

    @functools.cached_property
    def environment_record(self) -> dict[str, Any]:
        """The interpreter and its installed distributions, read once: the same for every
        run of the session (a sweep's points), and reading them costs ~30 ms."""
        return self.reproducibility.environment_record()

    def build(
        self,
        request: RunRequest | None = None,
        project: LoadedProject | None = None,
        *,
        on_update: Callable[[ProcessRecord], None] | None = None,
        sweep: Mapping[str, Any] | None = None,
        sharing: TaskSharing | None = None,
    ) -> BuiltRun:
        """One run of the session: ``project`` loaded with this run's overrides (the
        session's by default), its plan checked before anything is recorded, then its
        tracker run, record and listeners. ``sweep``: the sweep it is a point of, whose runs
        compute a result they share once (``sharing``)."""
        request = request or self.request
        project = project or self.project
        run_id = request.run_id or new_run_id()
        plan = RunPlan(
            project.graph,
            self.code.definitions,
            run_id=run_id,
            project=project.id,
            params=project.params(),
            process_config=project.process_config,
            env_key=project.env_key,
            seed=self.seeds.seed,
            use_cache=request.use_cache,
            selection=Selection(from_process=request.from_process, only=request.only),
            source_root=self.code.adapter.source_root.resolve(),
            project_dir=project.path.resolve(),
            spill_threshold=project.spill_threshold,
        )
        # Made before anything is recorded: it checks the selection and the arguments.
        state = StepStateManager(self.stores.kv, self.stores.objects)
        scheduler = Scheduler(
            plan, executor=self.executor, state=state, stores=self.handle, sharing=sharing
        )
        tracker = open_tracker(project.config, self.stores, self.state_dir)
        parent = str(sweep["sweep_id"]) if sweep else None
        tracker.start_run(run_id, project=project.id, params=plan.params, parent=parent)
        notes = list(self.code.notes)
        details: dict[str, Any] = {
            "executor": self.executor.name,
            "use_cache": request.use_cache,
            "selection": {"from": request.from_process, "only": request.only},
            "resumed_from": failed_run_id(latest_run(self.stores.kv)),
            "seed": self.seeds.seed,
            "seeded": list(self.seeds.seeded),
            "framework": self.code.adapter.framework,
            "environment": {
                "manager": project.environment_manager,
                "spec_hash": project.env_hash,
            },
            "execution": self.context.as_record(),
            "warnings": notes,  # the listeners add to it before the summary is written
            "params": record_params(plan.params),
            "overrides": record_params(project.overrides),
        }
        if sweep:
            details["sweep"] = dict(sweep)
        recorder = RunRecorder(
            self.stores.kv,
            run_id=run_id,
            project=project.id,
            graph=project.graph,
            details=details,
            environment=dict(self.environment_record),
        )
        listeners = RunListeners(
            recorder, MidRunTracking(tracker, run_id, self.stores.objects), on_update, notes
        )
        return BuiltRun(run_id, project, self, plan, scheduler, recorder, listeners)


@dataclass(frozen=True)
class BuiltRun:
    """One run, ready: the runner needs nothing else."""

    run_id: str
    project: LoadedProject
    session: RunSession
    plan: RunPlan
    scheduler: Scheduler
    recorder: RunRecorder
    listeners: RunListeners

    @property
    def code(self) -> ProjectCode:
        return self.session.code

    @property
    def stores(self) -> ProjectStores:
        return self.session.stores

    @property
    def executor(self) -> Executor:
        return self.session.executor

    @property
    def context(self) -> RuntimeContext:
        return self.session.context


@contextlib.contextmanager
def open_session(
    request: RunRequest,
    project: LoadedProject,
    *,
    workspace: Workspace,
    plugins: AdapterPluginManager,
    client: Any = None,
    execution: RuntimeContext | None = None,
) -> Iterator[RunSession]:
    """Open what the runs of ``request`` share (see :class:`RunSession`).

    ``client`` is a cluster's Dask client, when the runs go there, and
    ``execution`` says which path they took; both come from the placement.
    Everything opened here is closed when the block ends.
    """
    config = project.config
    reproducibility = ReproducibilityManager(config.reproducibility)
    seeds = reproducibility.apply_seed()
    executor_name = request.executor or config.executor.type
    start_early(executor_name, client=client)
    code = check_project(plugins, project)
    state_dir = workspace.ensure().state_dir
    stores = open_stores(project, state_dir)
    context = execution_context(execution, project.id, workspace.root, project.path, stores)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(stores.close)
        cleanup.enter_context(
            exclusive_run(
                state_dir / "locks" / f"run-{project.id}.lock",
                project.id,
                lambda: _running_run(stores),
            )
        )
        executor = create_executor(
            executor_name,
            n_workers=request.n_workers or config.executor.n_workers,
            threads_per_worker=config.executor.threads_per_worker,
            client=client,
        )
        cleanup.callback(executor.close)
        handle = store_handle(executor, stores, state_dir, project.id)
        if isinstance(handle, LiveStores):
            cleanup.callback(handle.release)
        yield RunSession(
            request, project, code, stores, executor, handle, context, state_dir, seeds,
            reproducibility,
        )  # fmt: skip


@contextlib.contextmanager
def build_run(
    request: RunRequest,
    project: LoadedProject,
    *,
    workspace: Workspace,
    plugins: AdapterPluginManager,
    on_update: Callable[[ProcessRecord], None] | None = None,
    client: Any = None,
    execution: RuntimeContext | None = None,
) -> Iterator[BuiltRun]:
    """Build the run of ``request`` (its project loaded once, by the caller): a session
    of its own, and the run in it."""
    with open_session(
        request, project, workspace=workspace, plugins=plugins, client=client, execution=execution
    ) as session:
        yield session.build(on_update=on_update)


def _running_run(stores: ProjectStores) -> str | None:
    """The run of this store that says it is running, as the waiting run names it."""
    for summary in reversed(list_runs(stores.kv)):
        if summary.get("status") == RunStatus.RUNNING.value:
            owner = summary.get("owner")
            where = f", {describe_owner(owner)}" if isinstance(owner, dict) else ""
            return f"run {summary.get('run_id')}{where}"
    return None


__all__ = ["BuiltRun", "RunSession", "build_run", "open_session"]
