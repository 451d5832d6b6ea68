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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mlops.adapters.plugin_manager import AdapterPluginManager
from mlops.cache.step_state_manager import StepStateManager
from mlops.cluster.local_executors import create_executor, start_early
from mlops.engine.executors import Executor
from mlops.engine.plan import RunPlan, Selection
from mlops.engine.scheduler import Scheduler
from mlops.engine.store_transport import LiveStores
from mlops.managers.loaded_project import LoadedProject
from mlops.managers.reproducibility_manager import ReproducibilityManager
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
class BuiltRun:
    """One run, ready: the runner needs nothing else."""

    run_id: str
    project: LoadedProject
    code: ProjectCode
    plan: RunPlan
    stores: ProjectStores
    executor: Executor
    scheduler: Scheduler
    recorder: RunRecorder
    listeners: RunListeners
    context: RuntimeContext


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
    """Build the run of ``request`` (its project loaded once, by the caller).

    ``client`` is a cluster's Dask client, when the run goes there, and
    ``execution`` says which path it took; both come from the placement.
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
    run_id = request.run_id or new_run_id()
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(stores.close)
        cleanup.enter_context(
            exclusive_run(
                state_dir / "locks" / f"run-{project.id}.lock",
                project.id,
                lambda: _running_run(stores),
            )
        )
        previous = latest_run(stores.kv)
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
        plan = RunPlan(
            project.graph,
            code.definitions,
            run_id=run_id,
            project=project.id,
            params=project.params(),
            process_config=project.process_config,
            env_hash=project.env_hash,
            seed=seeds.seed,
            use_cache=request.use_cache,
            selection=Selection(from_process=request.from_process, only=request.only),
            source_root=code.adapter.source_root.resolve(),
            project_dir=project.path.resolve(),
            spill_threshold=project.spill_threshold,
        )
        # Made before anything is recorded: it checks the selection and the arguments.
        scheduler = Scheduler(
            plan,
            executor=executor,
            state=StepStateManager(stores.kv, stores.objects),
            stores=handle,
        )
        tracker = open_tracker(config, stores, state_dir)
        tracker.start_run(run_id, project=project.id, params=plan.params)
        notes = list(code.notes)
        recorder = RunRecorder(
            stores.kv,
            run_id=run_id,
            project=project.id,
            graph=project.graph,
            details={
                "executor": executor.name,
                "use_cache": request.use_cache,
                "selection": {"from": request.from_process, "only": request.only},
                "resumed_from": failed_run_id(previous),
                "seed": seeds.seed,
                "seeded": list(seeds.seeded),
                "framework": code.adapter.framework,
                "environment": {
                    "manager": project.environment_manager,
                    "spec_hash": project.env_hash,
                },
                "execution": context.as_record(),
                "warnings": notes,  # the listeners add to it before the summary is written
                "params": record_params(plan.params),
                "overrides": record_params(project.overrides),
            },
            environment=reproducibility.environment_record(),
        )
        listeners = RunListeners(
            recorder, MidRunTracking(tracker, run_id, stores.objects), on_update, notes
        )
        yield BuiltRun(
            run_id, project, code, plan, stores, executor, scheduler, recorder, listeners, context
        )


def _running_run(stores: ProjectStores) -> str | None:
    """The run of this store that says it is running, as the waiting run names it."""
    for summary in reversed(list_runs(stores.kv)):
        if summary.get("status") == RunStatus.RUNNING.value:
            owner = summary.get("owner")
            where = f", {describe_owner(owner)}" if isinstance(owner, dict) else ""
            return f"run {summary.get('run_id')}{where}"
    return None


__all__ = ["BuiltRun", "build_run"]
