"""What runs on a worker: one process, from its task to its outcome.

:func:`execute_process` is the only function the executors ship. Its task is
plain, picklable data: where to import the process function from
(:mod:`mlops.engine.code_loading`), its parameters, its upstream results
(inline or as payload references) and how to reach the stores
(:mod:`mlops.engine.store_transport`). The attempts themselves (retries,
loops, timeouts, seeding) are :mod:`mlops.engine.attempts`. It never raises:
every failure becomes a ``failed`` outcome with the error and traceback, so
one process failing never takes the scheduler down. That includes a process
that tries to end the program (``sys.exit``, ``raise KeyboardInterrupt``): on
a worker thread it would take down the worker's event loop, on the sequential
executor mlops itself. Only the interruption a stop signal raises goes through,
so that the run stops (:func:`mlops.runtime.interrupts.raised_by_signal`).

On a worker in another process, the function comes from a version of the
project's code imported under a name of its own
(:mod:`mlops.engine.code_versions`). Its result then leaves as the bytes of its
pickle (a :class:`PayloadRef` with them inline, when it is not spilled),
which name the project's classes plainly: the driver reads them with the
project as it imported it, a downstream task with its own version. No live
project object crosses between processes, so the worker's communication
thread never imports project code while it unpickles a task.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.cache.payload_spill import PayloadRef, encode_result, hydrate, should_spill, spill
from mlops.cache.step_state_manager import StepStateManager
from mlops.engine.attempts import ProcessTimeoutError, run_attempts, seed_process
from mlops.engine.code_loading import (
    FunctionRef,
    LoadedFunction,
    local_path,
    map_project_path,
    prefer_on_path,
    unmap_project_path,
)
from mlops.engine.step_system import ProcessOptions, RunOptions, StepContext, process_options
from mlops.engine.store_transport import LiveStores, StoreHandle
from mlops.runtime.interrupts import raised_by_signal
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.tracking.artifacts import declared_outputs, store_file
from mlops.tracking.status import ProcessStatus


@dataclass(frozen=True)
class ProcessTask:
    run_id: str
    project: str
    process: str
    function: FunctionRef
    stores: StoreHandle
    project_dir: str | None = None
    seed: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    upstream: Mapping[str, Any] = field(default_factory=dict)
    overrides: RunOptions = field(default_factory=RunOptions)
    outputs: tuple[str, ...] = ()  # globs of files it writes, kept as artifacts
    key: str | None = None  # the cache key; None when the result must not be stored
    reuse_steps: bool = True  # False under --no-cache and for forced processes
    spill_threshold: int | None = None  # None: results travel inline (in-process executors)


@dataclass
class ProcessOutcome:
    process: str
    status: ProcessStatus
    result: Any = None
    digest: str | None = None
    duration: float = 0.0
    attempts: int = 0
    iterations: int = 0
    error: str | None = None
    traceback: str | None = None
    reason: str | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)
    cached: bool = False  # stored in the cache by this run


def execute_process(task: ProcessTask) -> ProcessOutcome:
    """Run one process (condition, retries, loop, timeout), store its result, report."""
    started = time.perf_counter()
    outcome = ProcessOutcome(task.process, ProcessStatus.FAILED)
    try:
        with task.function.held() as code:
            _execute(task, code, outcome)
    except BaseException as exc:  # reported as the outcome, never raised
        if raised_by_signal(exc):
            raise  # Ctrl-C (or SIGTERM, SIGHUP) while the process ran here: the run stops
        outcome.status = ProcessStatus.FAILED
        outcome.error = failure_reason(exc)
        outcome.traceback = "".join(traceback.format_exception(exc))
    outcome.duration = time.perf_counter() - started
    return outcome


def failure_reason(exc: BaseException) -> str:
    """What a process's exception says in its record: the error, or how it tried to end
    the program."""
    if isinstance(exc, SystemExit):
        code = "" if exc.code is None else repr(exc.code)
        return f"the process called sys.exit({code})"
    if isinstance(exc, KeyboardInterrupt):
        return f"the process raised {type(exc).__name__} itself"
    return f"{type(exc).__name__}: {exc}"


def _execute(task: ProcessTask, code: LoadedFunction, outcome: ProcessOutcome) -> None:
    kv, objects = task.stores.open()
    state = StepStateManager(kv, objects, loads=code.loads)
    function = code.function
    declared = process_options(function) or ProcessOptions(name=task.process)
    options = declared.with_overrides(task.overrides)

    def new_context() -> StepContext:
        return StepContext(
            run_id=task.run_id,
            project=task.project,
            process_name=task.process,
            project_dir=Path(local_path(task.project_dir)) if task.project_dir else None,
            seed=task.seed,
            params=task.params,
            upstream=task.upstream,
            process_key=task.key,
            reuse_steps=task.reuse_steps,
            state=state,
            resolve=lambda value: hydrate(value, objects, code.loads),
        )

    seed_process(task.seed, task.process)
    if options.condition is not None and not new_context().call(options.condition):
        outcome.status = ProcessStatus.SKIPPED
        outcome.reason = "its condition was false"
        return

    def count(attempt: int) -> None:
        outcome.attempts = attempt

    result, context = run_attempts(new_context, function, options, count)
    encoded = encode_result(result, what=f"process {task.process!r}")
    outcome.digest = encoded.content
    outcome.metrics = list(context.metrics)
    outcome.artifacts = [*context.artifacts, *_outputs(task, objects)]
    outcome.steps = dict(context.step_stats)
    outcome.iterations = context.iteration + 1 if context.in_loop else 1
    ref: PayloadRef | None = None
    if task.key is not None and options.cache:
        entry = state.store(
            task.key,
            task.process,
            encoded,
            run_id=task.run_id,
            metrics=outcome.metrics,
            artifacts=outcome.artifacts,
        )
        ref, outcome.cached = entry.ref, True
    payload = f"runs/{task.run_id}/payloads/{task.process}.pkl"
    if should_spill(encoded, task.spill_threshold):
        outcome.result = ref or spill(encoded, objects, payload)
    elif code.version is not None:  # made by a version of the project: leaves as bytes
        outcome.result = PayloadRef(payload, encoded.size, encoded.digest, encoded.data)
    else:
        outcome.result = result
    outcome.status = ProcessStatus.COMPLETED


def _outputs(task: ProcessTask, objects: ObjectStore) -> list[dict[str, Any]]:
    """The files the process's ``outputs:`` match once it finished, stored as artifacts."""
    if not task.outputs or not task.project_dir:
        return []
    project_dir = Path(local_path(task.project_dir))
    entries = [
        store_file(objects, path, name)
        for path, name in declared_outputs(project_dir, task.outputs)
    ]
    return [{**entry, "process": task.process} for entry in entries]


__all__ = [
    "FunctionRef",
    "LiveStores",
    "ProcessOutcome",
    "ProcessTask",
    "ProcessTimeoutError",
    "StoreHandle",
    "execute_process",
    "failure_reason",
    "local_path",
    "map_project_path",
    "prefer_on_path",
    "seed_process",
    "unmap_project_path",
]
