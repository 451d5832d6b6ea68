"""The scheduler: walks the pipeline graph, reuses cached results, runs the rest.

:class:`Scheduler` decides, for each process whose upstream
processes are done, whether its result can be reused (same cache key as a
stored entry) or must run; what must run is submitted to an
:class:`~mlops.engine.executors.Executor` as soon as it is ready, so independent
branches run in parallel on the parallel executors. A failed process marks
everything downstream of it ``skipped``; independent branches still finish.

Selections: ``from_process`` reruns that process and everything downstream of
it; ``only`` runs one process, whose upstream results must be in the cache.
Every decision comes with a sentence for ``--explain``.

It is given everything built (the plan, the executor, the cache's state, how
workers reach the stores) and checks the plan when it is made; what listens to
the run (its record, the tracker, a display) is passed to :meth:`Scheduler.run`,
which only carries the plan out. ``DaskNetworkXExecutor`` is its earlier name.
"""

from __future__ import annotations

import functools
import graphlib
import heapq
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlops.cache.process_hashing import CacheKey, code_hash, file_digest, process_cache_key
from mlops.cache.step_state_manager import StepStateManager
from mlops.config.pipeline import ProcessConfig
from mlops.config.process import RunOptions
from mlops.engine.code_versions import source_digest
from mlops.engine.executors import Executor, ResultFuture
from mlops.engine.param_usage import param_usage
from mlops.engine.plan import PipelineRun, RunPlan, Selection, check_arguments
from mlops.engine.sharing import TaskSharing
from mlops.engine.worker import (
    FunctionRef,
    ProcessOutcome,
    ProcessTask,
    StoreHandle,
    execute_process,
)
from mlops.errors import ConfigError, GraphError
from mlops.runtime.clock import utc_now
from mlops.runtime.json_values import record_params
from mlops.runtime.param_changes import param_changes
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_records import earlier_run_ids, process_in_run
from mlops.tracking.status import ProcessStatus, RunStatus

_BLOCKING = (ProcessStatus.FAILED, ProcessStatus.SKIPPED)
#: How many earlier runs ``--explain`` looks through for one that planned a process.
_RUNS_LOOKED_BACK = 20


_UNCONFIGURED = ProcessConfig()


class Scheduler:
    """Carries out a :class:`RunPlan` on an executor, with the project's stores."""

    def __init__(
        self,
        plan: RunPlan,
        *,
        executor: Executor,
        state: StepStateManager,
        stores: StoreHandle,
        sharing: TaskSharing | None = None,
    ) -> None:
        self.plan = plan
        self.sharing = sharing
        self._followed: set[str] = set()
        self.graph = plan.graph
        self.definitions = plan.definitions
        self.executor = executor
        self.state = state
        self.stores = stores
        self.run_id = plan.run_id
        self.project = plan.project
        self.params = dict(plan.params)
        self.process_config = dict(plan.process_config)
        self.env_key = plan.env_key
        self.source_root = plan.source_root
        self.project_dir = plan.project_dir
        self.seed = plan.seed
        self.use_cache = plan.use_cache
        self.selection = plan.selection
        self.spill_threshold = None if executor.in_process else plan.spill_threshold
        self.on_update: Callable[[ProcessRecord], None] | None = None
        self.records = {name: ProcessRecord(name) for name in self.graph.order}
        self._results: dict[str, Any] = {}
        self._digests: dict[str, str] = {}
        self._keys: dict[str, CacheKey] = {}
        self._inputs: dict[str, dict[str, str]] = {}
        self.selection.check(self.graph)
        self._check_arguments()
        self._check_only_inputs_cached()

    # -------------------------------------------------------------- planning

    def config_of(self, name: str) -> ProcessConfig:
        """The process's ``pipeline.processes`` entry (the defaults when it has none)."""
        return self.process_config.get(name) or _UNCONFIGURED

    def params_for(self, name: str) -> dict[str, Any]:
        """Every parameter the process can see: the global ones and its own."""
        return {**self.params, **self.config_of(name).params}

    def key_params(self, name: str) -> dict[str, Any]:
        """The parameters the process depends on (:mod:`mlops.engine.param_usage`)."""
        own = self.config_of(name).params
        usage = param_usage(self.definitions[name].function)
        upstream = set(self.graph.upstream(name))
        taken = {k: v for k, v in self.params_for(name).items() if k not in upstream or k in own}
        return usage.select(taken, own)

    def overrides_for(self, name: str) -> RunOptions:
        """The process's configured run options (retries, timeout, ...)."""
        return self.config_of(name).run_options()

    def inputs_for(self, name: str) -> dict[str, str]:
        """``{path: content digest}`` of the data files the process declares as inputs."""
        if name in self._inputs:
            return self._inputs[name]
        declared = self.config_of(name).inputs
        base = self.project_dir or Path.cwd()
        digests: dict[str, str] = {}
        for text in declared:
            matches = sorted(base.glob(text)) if any(c in text for c in "*?[") else [base / text]
            files = [m for m in matches if m.is_file()]
            if not files:
                raise ConfigError(
                    f"model.parameters.pipeline.processes.{name}.inputs: {text!r} "
                    f"matches no file under {base}",
                    hint="input paths are relative to the project folder",
                )
            for path in files:
                digests[path.relative_to(base).as_posix()] = file_digest(path)
        self._inputs[name] = digests
        return digests

    def _check_arguments(self) -> None:
        check_arguments(self.graph, self.definitions, self.params_for)

    def _check_only_inputs_cached(self) -> None:
        """``--only P`` needs every process upstream of P in the cache; say so up front."""
        only = self.selection.only
        if only is None:
            return
        for name in self.graph.order:
            if name not in self.graph.ancestors(only):
                continue
            entry = self.state.lookup(self.cache_key(name).key)
            if entry is None:
                self._digests.clear()
                raise GraphError(
                    f"--only {only} needs the result of {name!r}, which is not in the cache",
                    hint=f"run the pipeline once, or use --from {name}",
                )
            self._digests[name] = entry.result_digest
        self._digests.clear()

    @functools.cached_property
    def _modes(self) -> dict[str, str]:
        """Per process: ``run`` (normal), ``force`` (rerun), ``cache_only`` or ``excluded``."""
        only, start = self.selection.only, self.selection.from_process
        if only is not None:
            ancestors = self.graph.ancestors(only)
            return {
                name: "force" if name == only else "cache_only" if name in ancestors
                else "excluded"
                for name in self.graph.order
            }  # fmt: skip
        forced = {start, *self.graph.descendants(start)} if start is not None else set()
        return {name: "force" if name in forced else "run" for name in self.graph.order}

    def _mode(self, name: str) -> str:
        return self._modes[name]

    def cache_key(self, name: str) -> CacheKey:
        definition = self.definitions[name]
        roots = [self.source_root] if self.source_root else None
        return process_cache_key(
            name=name,
            code=code_hash(definition.function, local_roots=roots),
            params=self.key_params(name),
            upstream={u: self._digests[u] for u in self.graph.upstream(name)},
            env=self.env_key,
            inputs=self.inputs_for(name),
            seed=self.seed,
        )

    # -------------------------------------------------------------- running

    def run(self, on_update: Callable[[ProcessRecord], None] | None = None) -> PipelineRun:
        """Run the plan; ``on_update`` hears of every process's record as it changes."""
        self.start(on_update)
        while not self.done:
            done = self.executor.wait(self.running)
            for future in [f for f in self.running if f in done]:  # in submission order
                self.finished(future)
        return self.outcome()

    # A run in steps, so that one loop can drive several schedulers (a sweep's points).

    def start(self, on_update: Callable[[ProcessRecord], None] | None = None) -> None:
        """Start what can start; then :meth:`finished` for each future of :attr:`running`
        as it completes, until :attr:`done`."""
        self.on_update = on_update
        # graphlib keeps the count of unsettled upstream processes; what it releases
        # joins a heap ordered by declaration, so processes start in the user's order.
        self._sorter = graphlib.TopologicalSorter(
            {n: self.graph.upstream(n) for n in self.graph.order}
        )
        self._sorter.prepare()
        self._ready: list[tuple[int, str]] = []
        self._running: dict[ResultFuture, str] = {}
        self._settle()
        self._advance()

    @property
    def running(self) -> list[ResultFuture]:
        """The futures this run waits for, in the order they were submitted."""
        return list(self._running)

    @property
    def done(self) -> bool:
        return not self._ready and not self._running

    def finished(self, future: ResultFuture) -> None:
        """``future`` completed: record its process, then start what that released."""
        name = self._running.pop(future)
        self._finish(name, future)
        self._settle(name)
        self._advance()

    def outcome(self) -> PipelineRun:
        failed = any(r.status is ProcessStatus.FAILED for r in self.records.values())
        return PipelineRun(
            self.run_id,
            RunStatus.FAILED if failed else RunStatus.COMPLETED,
            self.records,
            self._results,
            objects=self.state.objects,
        )

    def _settle(self, name: str | None = None) -> None:
        if name is not None:
            self._sorter.done(name)
        position = self.graph.position
        for released in self._sorter.get_ready():
            heapq.heappush(self._ready, (position[released], released))

    def _advance(self) -> None:
        while self._ready:
            _, name = heapq.heappop(self._ready)
            blocked = [u for u in self.graph.upstream(name) if self.records[u].status in _BLOCKING]
            if blocked:
                upstream = self.records[blocked[0]]
                self._skip(name, f"upstream {upstream.name!r} {upstream.status.value}")
                self._settle(name)
                continue
            future = self._start(name)
            if future is None:
                self._settle(name)
            else:
                self._running[future] = name

    def _start(self, name: str) -> ResultFuture | None:
        record = self.records[name]
        mode = self._mode(name)
        if mode == "excluded":
            self._skip(name, "not selected (--only)")
            return None
        key = self.cache_key(name)
        self._keys[name] = key
        record.key = key.key
        record.params = self.key_params(name)
        options = self.definitions[name].options.with_overrides(self.overrides_for(name))
        cacheable = options.cache
        if mode != "force" and (self.use_cache or mode == "cache_only") and cacheable:
            entry = self.state.lookup(key.key)
            if entry is not None:
                record.cache_hit = True
                record.metrics = list(entry.metrics)
                record.artifacts = list(entry.artifacts)  # the same stored files, not copies
                record.reason = f"reused: inputs unchanged since run {entry.run_id}"
                record.started_at = record.finished_at = utc_now()
                self._results[name] = entry.ref
                self._digests[name] = entry.result_digest
                self._set(record, ProcessStatus.CACHED)
                return None
        if mode == "cache_only":
            raise GraphError(
                f"--only {self.selection.only} needs the result of {name!r}, "
                "which is not in the cache",
                hint=f"run the pipeline once, or use --from {name}",
            )
        record.started_at = utc_now()
        shared = self.sharing.running(key.key) if self.sharing and cacheable else None
        if shared is not None:  # another run of the sweep is computing this very result
            record.reason = f"reused: executed once for the sweep, by run {shared.run_id}"
            self._followed.add(name)
            self._set(record, ProcessStatus.RUNNING)
            return shared.future
        record.reason = self._why_run(name, key, mode, cacheable)
        self._set(record, ProcessStatus.RUNNING)
        definition = self.definitions[name]
        task = ProcessTask(
            run_id=self.run_id,
            project=self.project,
            process=name,
            project_dir=str(self.project_dir) if self.project_dir else None,
            seed=self.seed,
            function=FunctionRef.of(definition.function, self.source_root, self._code_version),
            stores=self.stores,
            params=self.params_for(name),
            upstream={u: self._results[u] for u in self.graph.upstream(name)},
            overrides=self.overrides_for(name),
            outputs=tuple(self.config_of(name).outputs),
            key=key.key,
            reuse_steps=self.use_cache and mode != "force",
            spill_threshold=self.spill_threshold,
        )
        future = self.executor.submit(execute_process, task)
        if self.sharing is not None and cacheable:
            self.sharing.add(key.key, future, self.run_id)
        return future

    @functools.cached_property
    def _code_version(self) -> str | None:
        """The version of the project's code a worker imports (a digest of its source files,
        read once per run); None where tasks run in this process, which imported the project."""
        if self.executor.in_process or self.source_root is None:
            return None
        return source_digest(self.source_root)

    def _why_run(self, name: str, key: CacheKey, mode: str, cacheable: bool) -> str:
        if mode == "force":
            flag = "--only" if self.selection.only else f"--from {self.selection.from_process}"
            return f"ran: selected by {flag}"
        if not cacheable:
            return "ran: caching is off for this process"
        if not self.use_cache:
            return "ran: --no-cache"
        return "ran: " + self._changes_since_before(name, key)

    def _changes_since_before(self, name: str, key: CacheKey) -> str:
        """What changed in ``name``'s key since the previous run that planned it (named)."""
        since, latest = self._before(name)
        if latest is None:
            return "first run (nothing cached)"
        changed = key.changed_parts(latest.get("components"))
        if not changed:
            if since is not None:
                return (
                    f"unchanged since run {since}, but not in the cache "
                    "(it failed there, or the cache was cleared)"
                )
            return "not in the cache (its last run failed, or the cache was cleared)"
        reasons = []
        for part in changed:
            if part == "params":
                reasons.append(self._params_reason(name, latest.get("params") or {}))
            elif part == "upstream":
                before_up = latest.get("upstream") or {}
                names = [
                    u for u in self.graph.upstream(name) if before_up.get(u) != self._digests[u]
                ]
                reasons.append(f"upstream results changed ({', '.join(names) or 'inputs'})")
            elif part == "inputs":
                old_inputs = latest.get("inputs") or {}
                now_inputs = self.inputs_for(name)
                names = sorted(
                    p for p in {*old_inputs, *now_inputs} if old_inputs.get(p) != now_inputs.get(p)
                )
                reasons.append(f"input files changed ({', '.join(names) or 'files'})")
            else:
                reasons.append(
                    {
                        "code": "its code changed",
                        "env": "the environment changed",
                        "seed": "the random seed changed",
                    }.get(part, f"{part} changed")
                )
        return "; ".join(reasons) + (f" since run {since}" if since else "")

    def _before(self, name: str) -> tuple[str | None, dict[str, Any] | None]:
        """What ``name``'s key was made of in the previous run of the project that planned
        it, and that run's id; else its last execution as earlier versions kept it."""
        for run_id in self._earlier_runs[:_RUNS_LOOKED_BACK]:
            document = process_in_run(self.state.kv, run_id, name)
            if document is None or not document.get("key"):
                continue  # not planned in that run (--only, skipped): look further back
            parts = self.state.parts(str(document["key"]))
            if parts is not None:
                return run_id, parts
            # Interrupted there, or executed before keys' parts were kept: further back.
        return None, self.state.latest(name)

    @functools.cached_property
    def _earlier_runs(self) -> list[str]:
        return earlier_run_ids(self.state.kv, self.run_id)

    def _params_reason(self, name: str, before: Mapping[str, Any]) -> str:
        now = record_params(self.key_params(name))  # ``before`` is as recorded
        changes = param_changes(before, now)
        reason = f"parameters changed ({'; '.join(changes) or 'values'})"
        unresolved = param_usage(self.definitions[name].function).unresolved
        return f"{reason}; every parameter counts: {unresolved}" if unresolved else reason

    def _finish(self, name: str, future: ResultFuture) -> None:
        record = self.records[name]
        try:
            outcome: ProcessOutcome = future.result()
        except Exception as exc:  # noqa: BLE001 - a worker died or the task was lost
            outcome = ProcessOutcome(
                name, ProcessStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
            )
        if name in self._followed:
            self._finish_shared(name, outcome)
            return
        if self.sharing is not None:
            self.sharing.release(self._keys[name].key, future)
        record.duration = outcome.duration
        record.attempts = outcome.attempts
        record.iterations = outcome.iterations
        record.metrics = outcome.metrics
        record.artifacts = outcome.artifacts
        record.steps = outcome.steps
        record.finished_at = utc_now()
        if outcome.status in (ProcessStatus.COMPLETED, ProcessStatus.FAILED):
            # Remembered after failures too, so the rerun can say what changed since.
            self.state.record_parts(
                self._keys[name].key,
                self._keys[name].components,
                params=self.key_params(name),
                upstream={u: self._digests[u] for u in self.graph.upstream(name)},
                inputs=self.inputs_for(name),
            )
        if outcome.status is ProcessStatus.COMPLETED:
            self._results[name] = outcome.result
            self._digests[name] = outcome.digest or ""
        elif outcome.status is ProcessStatus.SKIPPED:
            record.reason = f"skipped: {outcome.reason}"
        else:
            record.error = outcome.error
            record.traceback = outcome.traceback
        self._set(record, outcome.status)

    def _finish_shared(self, name: str, outcome: ProcessOutcome) -> None:
        """A result another run of the sweep computed: this run reuses it, as from the
        cache (it was executed once), or fails with it."""
        record = self.records[name]
        record.metrics, record.artifacts = list(outcome.metrics), list(outcome.artifacts)
        record.finished_at = utc_now()
        if outcome.status is ProcessStatus.COMPLETED:
            record.cache_hit = True
            self._results[name] = outcome.result
            self._digests[name] = outcome.digest or ""
            self._set(record, ProcessStatus.CACHED)
            return
        record.error = f"the shared execution failed: {outcome.error or outcome.reason}"
        record.traceback = outcome.traceback
        self._set(record, ProcessStatus.FAILED)

    def _skip(self, name: str, reason: str) -> None:
        record = self.records[name]
        record.reason = f"skipped: {reason}"
        self._set(record, ProcessStatus.SKIPPED)

    def _set(self, record: ProcessRecord, status: ProcessStatus) -> None:
        record.status = status
        if self.on_update is not None:
            self.on_update(record)


#: The scheduler's earlier name (the platform's spec and its test plan use it).
DaskNetworkXExecutor = Scheduler

__all__ = [
    "DaskNetworkXExecutor",
    "PipelineRun",
    "ProcessRecord",
    "RunPlan",
    "Scheduler",
    "Selection",
]
