"""A sweep: many settings of one project, run as one graph, side by side.

Each point of the sweep is an ordinary run (its own record, parameters,
overrides, metrics and artifacts), built in one session: the project's code
is checked once, its run lock held once for the whole sweep, and its executor
started once. The points' schedulers are driven by one loop on that executor,
at most ``parallel`` points at a time, and they share the tasks in flight by
cache key (:mod:`mlops.engine.sharing`): a process whose key is the same for
several points (same code, inputs and the parameters it reads) is executed
once, and the others reuse its result. So the points expand into one graph in
which such a process appears once and feeds all of them.

A point that fails fails its own run; the others go on, and the sweep ends
``completed_with_failures``. Running the same sweep again reuses every
finished point from the cache. A stop signal ends the sweep and its running
points ``interrupted``.
"""

from __future__ import annotations

import contextlib
import difflib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mlops.adapters.plugin_manager import AdapterPluginManager
from mlops.config.sweeps import SweepConfig
from mlops.engine.sharing import TaskSharing
from mlops.errors import ConfigError, MlopsError
from mlops.managers.loaded_project import LoadedProject
from mlops.managers.project_manager import ProjectManager
from mlops.runtime.context import RuntimeContext, activated
from mlops.runtime.interrupts import stop_signals_raise
from mlops.runtime.json_values import record_value
from mlops.runtime.request import RunRequest
from mlops.session.building import BuiltRun, RunSession, open_session
from mlops.session.report import RunReport
from mlops.session.running import cluster_controller, conclude, record_stop
from mlops.session.settings import open_tracker
from mlops.session.sweep_points import OptunaSearch, Point, grid_points, random_points
from mlops.tracking.experiment_tracker import flat_params
from mlops.tracking.status import RunStatus
from mlops.tracking.sweep_records import (
    SweepRecorder,
    SweepStatus,
    find_metric,
    list_sweeps,
    new_sweep_id,
)


@dataclass(frozen=True)
class PointReport:
    """How one point ended: its values, its run, and the metric it gave."""

    point: Point
    report: RunReport
    metric: float | None

    @property
    def ok(self) -> bool:
        return self.report.ok


@dataclass
class SweepReport:
    """What :func:`run_sweep` returns: the sweep's record and every point's run."""

    sweep_id: str
    record: dict[str, Any]
    points: list[PointReport] = field(default_factory=list)

    @property
    def status(self) -> SweepStatus:
        return SweepStatus(self.record["status"])

    @property
    def failed(self) -> list[PointReport]:
        return [p for p in self.points if not p.ok]

    @property
    def best(self) -> Mapping[str, Any] | None:
        best: Mapping[str, Any] | None = self.record.get("best")
        return best


OnPoint = Callable[[PointReport, int], None]


@stop_signals_raise()
def run_sweep(
    request: RunRequest,
    spec: SweepConfig,
    *,
    name: str | None,
    projects: ProjectManager,
    plugins: AdapterPluginManager,
    on_point: OnPoint | None = None,
) -> SweepReport:
    """Run the sweep ``spec`` of ``request``'s project (``name``: its name in ``sweeps:``,
    None for one given on the command line); ``on_point`` hears of each point as it
    ends, with the number of points."""
    base = projects.load(request.project, request.overrides)
    label = name or "(command line)"
    check_keys(base, spec, label)
    check_metric_process(base, spec)
    plan = _SweepPlan(request, spec, label, projects, base)

    def placed(executor: str | None, client: Any, execution: RuntimeContext | None) -> SweepReport:
        placed_request = replace(request, executor=executor) if executor else request
        with open_session(
            placed_request,
            base,
            workspace=projects.workspace,
            plugins=plugins,
            client=client,
            execution=execution,
        ) as session:
            return _drive(session, plan, name, on_point)

    if not (request.wants_cluster or base.config.executor.type == "dask"):
        return placed(None, None, None)
    return cluster_controller(projects, base, request).run(placed, executor=request.executor)


def check_keys(project: LoadedProject, spec: SweepConfig, label: str) -> None:
    """Every swept key names a value the config has (one line with the nearest keys)."""
    known = sorted(_dotted_keys(project.config.model_dump(exclude_none=False), ""))
    for key in spec.parameters:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
            raise ConfigError(
                f"sweep {label}: {key}: no such key in the config",
                hint=f"nearest: {', '.join(close)}" if close else "sweep keys of model.parameters",
            )


def check_metric_process(project: LoadedProject, spec: SweepConfig) -> None:
    """A metric named ``process.metric`` names a process of the pipeline."""
    metric = spec.metric
    if metric and "." in metric:
        process = metric.rsplit(".", 1)[0]
        if process not in project.graph:
            raise ConfigError(
                f"sweep metric {metric!r}: the pipeline has no process {process!r}",
                hint=f"processes: {', '.join(project.graph.order)}",
            )


def _dotted_keys(value: Any, prefix: str) -> set[str]:
    keys: set[str] = set()
    if isinstance(value, Mapping):
        for key, child in value.items():
            dotted = f"{prefix}{key}"
            keys.add(dotted)
            keys |= _dotted_keys(child, f"{dotted}.")
    return keys


class _SweepPlan:
    """The points of the sweep, each checked against the config before anything runs."""

    def __init__(
        self,
        request: RunRequest,
        spec: SweepConfig,
        label: str,
        projects: ProjectManager,
        base: LoadedProject,
    ) -> None:
        self.request, self.spec, self.label, self.projects = request, spec, label, projects
        seed = base.config.reproducibility.random_seed
        self.search = OptunaSearch(spec, seed) if spec.method == "optuna" else None
        if spec.method == "grid":
            self.fixed: list[Point] = grid_points(spec, label)
        elif spec.method == "random":
            self.fixed = random_points(spec, seed)
        else:
            self.fixed = []
        self._loaded: dict[int, LoadedProject] = {}
        for point in self.fixed:  # every point checked before anything is recorded
            self._loaded[point.index] = self._load(point)

    @property
    def total(self) -> int:
        return len(self.fixed) if self.search is None else self.spec.draws

    def load(self, point: Point) -> LoadedProject:
        """The project as this point runs it (a value the config refuses is one line)."""
        return self._loaded.get(point.index) or self._load(point)

    def _load(self, point: Point) -> LoadedProject:
        overrides = {**self.request.overrides, **point.values}
        try:
            return self.projects.load(self.request.project, overrides)
        except MlopsError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in point.values.items())
            raise ConfigError(
                f"sweep {self.label}, point {shown}: {exc.message}", hint=exc.hint
            ) from exc

    def batches(self) -> Iterable[list[Point]]:
        return [self.fixed] if self.search is None else self.search.batches()


def _drive(
    session: RunSession, plan: _SweepPlan, name: str | None, on_point: OnPoint | None
) -> SweepReport:
    spec, request = plan.spec, plan.request
    sweep_id = new_sweep_id()
    stores = session.stores
    recorder = SweepRecorder(
        stores.kv,
        sweep_id=sweep_id,
        project=session.project.id,
        name=name,
        spec={**spec.model_dump(), "overrides": dict(request.overrides)},
        resumed_from=_unfinished(stores.kv, name, spec, request.overrides),
    )
    parent = open_tracker(session.project.config, stores, session.state_dir)
    parent.start_run(
        sweep_id, project=session.project.id, params=flat_params(spec.model_dump(), "sweep.")
    )
    report = SweepReport(sweep_id, recorder.record)
    sharing = TaskSharing()
    active: dict[int, tuple[Point, BuiltRun]] = {}
    try:
        with activated(session.context):
            for batch in plan.batches():
                queue = deque(batch)
                while queue or active:
                    while queue and len(active) < spec.parallel:
                        point = queue.popleft()
                        built = session.build(
                            replace(request, run_id=None),
                            plan.load(point),
                            sweep={"sweep_id": sweep_id, "name": name, "point": point.index},
                            sharing=sharing,
                        )
                        active[point.index] = (point, built)
                        recorder.point_started(point.index, point.values, built.run_id)
                        built.scheduler.start(built.listeners.update)
                    _step(session, active)
                    for index in [i for i, (_, b) in active.items() if b.scheduler.done]:
                        point, built = active.pop(index)
                        ended = _end_point(built, point, spec.metric, recorder, report)
                        if plan.search is not None:
                            plan.search.tell(point, ended.metric)
                        if on_point is not None:
                            on_point(ended, plan.total)
    except BaseException as exc:
        for _, built in active.values():
            with contextlib.suppress(MlopsError):
                record_stop(built, exc)
        stopped = isinstance(exc, KeyboardInterrupt)
        message = exc.one_line() if isinstance(exc, MlopsError) else repr(exc)
        recorder.finish(
            SweepStatus.INTERRUPTED if stopped else SweepStatus.FAILED,
            error=None if stopped else message,
        )
        parent.end_run(RunStatus.INTERRUPTED.value if stopped else RunStatus.FAILED.value)
        raise
    failed = any(not p.ok for p in report.points)
    recorder.finish(SweepStatus.COMPLETED_WITH_FAILURES if failed else SweepStatus.COMPLETED)
    best = report.best
    if best is not None and isinstance(best.get("metric"), int | float):
        parent.log_metric(f"best.{spec.metric}", float(best["metric"]))
    parent.end_run(RunStatus.FAILED.value if failed else RunStatus.COMPLETED.value)
    return report


def _step(session: RunSession, active: Mapping[int, tuple[Point, BuiltRun]]) -> None:
    """Wait for any running process of any point, and pass each that finished to its runs
    (a task shared by several points finishes for each of them)."""
    futures = list(dict.fromkeys(f for _, b in active.values() for f in b.scheduler.running))
    if not futures:
        return
    done = session.executor.wait(futures)
    for _, built in list(active.values()):
        for future in [f for f in built.scheduler.running if f in done]:
            built.scheduler.finished(future)


def _end_point(
    built: BuiltRun,
    point: Point,
    metric_name: str | None,
    recorder: SweepRecorder,
    report: SweepReport,
) -> PointReport:
    run = conclude(built, built.scheduler.outcome())
    metrics = run.record.get("metrics") or {}
    metric = None
    if metric_name is not None:
        key = find_metric(metrics, metric_name)
        if key is None and run.ok and not any(p.report.ok for p in report.points):
            given = ", ".join(sorted(metrics)) or "none"
            recorder.point_finished(
                point.index,
                run.status,
                metric=None,
                error=f"no metric {metric_name!r} (it gave: {given})",
            )
            raise ConfigError(
                f"sweep metric {metric_name!r}: the first point that completed does not give "
                f"it (it gave: {given})",
                hint="name a metric as `mlops runs NAME --metric` does: process.metric",
            )
        value = metrics.get(key) if key else None
        metric = float(value) if isinstance(value, int | float) else None
    failed = run.failed_process
    error = f"process {failed!r}: {run.processes[failed].error or 'failed'}" if failed else None
    recorder.point_finished(point.index, run.status, metric=metric, error=error)
    ended = PointReport(point, run, metric)
    report.points.append(ended)
    return ended


def _unfinished(
    kv: Any, name: str | None, spec: SweepConfig, overrides: Mapping[str, Any]
) -> str | None:
    """The latest earlier sweep of the same points that did not complete: this one resumes
    it (its finished points come from the cache). How many points ran at once does not
    change which points there are, so ``parallel`` is not compared."""
    wanted = _points_defined_by({**spec.model_dump(), "overrides": dict(overrides)})
    for sweep in reversed(list_sweeps(kv)):
        if sweep.get("name") == name and _points_defined_by(sweep.get("spec") or {}) == wanted:
            if sweep.get("status") != SweepStatus.COMPLETED.value:
                return str(sweep["sweep_id"])
            return None
    return None


def _points_defined_by(spec: Mapping[str, Any]) -> Any:
    return record_value({k: v for k, v in spec.items() if k != "parallel"})


__all__ = ["PointReport", "SweepReport", "check_keys", "check_metric_process", "run_sweep"]
