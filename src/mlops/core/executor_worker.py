"""What runs on a worker: one process, from its task to its outcome.

:func:`execute_process` is the only function the executors ship. Its task is
plain, picklable data: where to import the process function from, its
parameters, its upstream results (inline or as payload references) and how to
reach the stores. It never raises: every failure becomes a ``failed`` outcome
with the error and traceback, so one process failing never takes the
scheduler down.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import random
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mlops.core.graph_types import ProcessStatus
from mlops.core.payload_spill import PayloadRef, encode_result, hydrate, should_spill, spill
from mlops.core.process_hashing import hash_bytes
from mlops.core.step_state_manager import StepStateManager
from mlops.core.step_system import ProcessOptions, StepContext, process_options
from mlops.errors import ExecutionError, MlopsError
from mlops.storage.factory import create_kv_store, create_object_store
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore

# ------------------------------------------------------------------ reaching the stores


class StoreHandle(Protocol):
    """How a worker reaches the project's stores."""

    def open(self) -> tuple[KVStore, ObjectStore]: ...


_live_stores: dict[str, tuple[KVStore, ObjectStore]] = {}
_live_lock = threading.Lock()


class LiveStores:
    """Stores handed over by reference, for executors that run tasks in this process.

    Pickling keeps only a token; opening it in another process is an error
    that says which executor to use instead.
    """

    def __init__(self, kv: KVStore, objects: ObjectStore) -> None:
        self.token = uuid.uuid4().hex
        with _live_lock:
            _live_stores[self.token] = (kv, objects)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_LiveStoresToken, (self.token,))

    def open(self) -> tuple[KVStore, ObjectStore]:
        return _open_live(self.token)

    def release(self) -> None:
        with _live_lock:
            _live_stores.pop(self.token, None)


@dataclass(frozen=True)
class _LiveStoresToken:
    token: str

    def open(self) -> tuple[KVStore, ObjectStore]:
        return _open_live(self.token)


def _open_live(token: str) -> tuple[KVStore, ObjectStore]:
    with _live_lock:
        stores = _live_stores.get(token)
    if stores is None:
        raise ExecutionError(
            "this worker cannot reach the run's stores: they live in another process's memory",
            hint="use the sqlite/local stores (the default) or a shared backend with this executor",
        )
    return stores


@dataclass(frozen=True)
class StoreSettings:
    """Store configuration a worker in another process (or host) opens for itself.

    Opened stores are kept per worker process, so a worker running many
    processes of a run connects once.
    """

    kv: Mapping[str, Any] | None
    objects: Mapping[str, Any] | None
    state_dir: str
    namespace: str

    def _cache_key(self) -> str:
        return json.dumps(
            [self.kv, self.objects, self.state_dir, self.namespace], sort_keys=True, default=str
        )

    def open(self) -> tuple[KVStore, ObjectStore]:
        key = self._cache_key()
        with _live_lock:
            stores = _opened_settings.get(key)
            if stores is None:
                state_dir = Path(self.state_dir)
                stores = (
                    create_kv_store(self.kv, state_dir=state_dir, namespace=self.namespace),
                    create_object_store(self.objects, state_dir=state_dir),
                )
                _opened_settings[key] = stores
        return stores


_opened_settings: dict[str, tuple[KVStore, ObjectStore]] = {}


# ------------------------------------------------------------------ importing the function


def prefer_on_path(folder: str) -> None:
    """Put ``folder`` first on ``sys.path``: its modules win over namesakes elsewhere."""
    if sys.path[:1] != [folder]:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
        sys.path.insert(0, folder)


# A worker on another host has the project at another path (a copy the cluster
# uploaded); the driver's paths are translated through these prefixes.
_path_map: dict[str, str] = {}
# Long-lived workers serve many runs: which code each process function was
# imported with, and from which folders project modules were imported.
_imported_code: dict[tuple[str, str], str | None] = {}
_project_roots: set[str] = set()
_import_lock = threading.RLock()


def map_project_path(driver_path: str, local_path: str) -> None:
    """On this worker, read ``driver_path`` (and what is under it) at ``local_path``."""
    with _import_lock:
        _path_map[os.path.normpath(driver_path)] = os.path.normpath(local_path)


def unmap_project_path(driver_path: str) -> None:
    with _import_lock:
        _path_map.pop(os.path.normpath(driver_path), None)


def local_path(path: str) -> str:
    """``path`` as this worker sees it (translated when a copy of its folder is mapped)."""
    normal = os.path.normpath(path)
    with _import_lock:
        for prefix, target in sorted(_path_map.items(), key=lambda item: -len(item[0])):
            if normal == prefix or normal.startswith(prefix + os.sep):
                return target + normal[len(prefix) :]
    return path


def _under(path: str | None, root: str) -> bool:
    return bool(path) and os.path.normpath(str(path)).startswith(root + os.sep)


def _forget_project_modules() -> None:
    """Drop modules imported from any project folder, so the next import reads the new code."""
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if any(_under(origin, root) for root in _project_roots):
            del sys.modules[name]
    importlib.invalidate_caches()


@dataclass(frozen=True)
class FunctionRef:
    """Where a process function is imported from, so any worker can load it.

    ``code`` is the function's code hash: a worker that imported an older
    version of the project (it serves many runs) imports it again.
    """

    module: str
    qualname: str
    source_root: str | None = None
    code: str | None = None

    @classmethod
    def of(
        cls, function: Callable[..., Any], source_root: Path | None, code: str | None = None
    ) -> FunctionRef:
        return cls(function.__module__, function.__qualname__, str(source_root or "") or None, code)

    def load(self) -> Callable[..., Any]:
        with _import_lock:
            self._refresh()
            try:
                target: Any = importlib.import_module(self.module)
                for part in self.qualname.split("."):
                    target = getattr(target, part)
            except (ImportError, AttributeError) as exc:
                raise ExecutionError(
                    f"cannot import {self.module}.{self.qualname} on this worker: {exc}",
                    hint="the project's src/ folder must be reachable from the workers",
                ) from exc
            self._imported()
        if not callable(target):
            raise ExecutionError(f"{self.module}.{self.qualname} is not callable")
        return target  # type: ignore[no-any-return]

    def _root(self) -> str | None:
        return os.path.normpath(local_path(self.source_root)) if self.source_root else None

    def _refresh(self) -> None:
        root = self._root()
        if root is None:
            return
        prefer_on_path(root)
        module = sys.modules.get(self.module)
        origin = getattr(module, "__file__", None) if module is not None else None
        key = (self.module, self.qualname)
        moved = module is not None and origin is not None and not _under(origin, root)
        changed = key in _imported_code and _imported_code[key] != self.code
        if moved or changed:
            _project_roots.add(root)
            _forget_project_modules()
            _imported_code.clear()

    def _imported(self) -> None:
        root = self._root()
        if root is not None:
            _project_roots.add(root)
        _imported_code[(self.module, self.qualname)] = self.code


# ------------------------------------------------------------------ task and outcome


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
    overrides: Mapping[str, Any] = field(default_factory=dict)
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
    steps: dict[str, int] = field(default_factory=dict)
    cached: bool = False  # stored in the cache by this run


class ProcessTimeoutError(TimeoutError):
    """An attempt ran longer than the process's ``timeout`` (retried like any failure)."""


def execute_process(task: ProcessTask) -> ProcessOutcome:
    """Run one process (condition, retries, loop, timeout), store its result, report."""
    started = time.perf_counter()
    outcome = ProcessOutcome(task.process, ProcessStatus.FAILED)
    try:
        _execute(task, outcome)
    except Exception as exc:  # noqa: BLE001 - reported as the outcome, never raised
        outcome.status = ProcessStatus.FAILED
        outcome.error = f"{type(exc).__name__}: {exc}"
        outcome.traceback = "".join(traceback.format_exception(exc))
    outcome.duration = time.perf_counter() - started
    return outcome


def _execute(task: ProcessTask, outcome: ProcessOutcome) -> None:
    kv, objects = task.stores.open()
    state = StepStateManager(kv, objects)
    function = task.function.load()
    declared = process_options(function) or ProcessOptions(name=task.process)
    options = declared.with_overrides(task.overrides)
    context = StepContext(
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
        resolve=lambda value: hydrate(value, objects),
    )
    seed_process(task.seed, task.process)
    if options.condition is not None and not context.call(options.condition):
        outcome.status = ProcessStatus.SKIPPED
        outcome.reason = "its condition was false"
        return
    result = _with_retries(context, function, options, outcome)
    encoded = encode_result(result, what=f"process {task.process!r}")
    outcome.digest = encoded.digest
    outcome.metrics = context.metrics
    outcome.steps = dict(context.step_stats)
    outcome.iterations = context.iteration + 1 if context.in_loop else 1
    ref: PayloadRef | None = None
    if task.key is not None and options.cache:
        entry = state.store(
            task.key, task.process, encoded, run_id=task.run_id, metrics=context.metrics
        )
        ref, outcome.cached = entry.ref, True
    if should_spill(encoded, task.spill_threshold):
        ref = ref or spill(encoded, objects, f"runs/{task.run_id}/payloads/{task.process}.pkl")
        outcome.result = ref
    else:
        outcome.result = result
    outcome.status = ProcessStatus.COMPLETED


def seed_process(seed: int | None, process: str) -> None:
    """Seed the global generators from the project seed and the process name.

    Each process gets its own stream, the same whichever worker runs it and
    in whatever order, on the sequential and processes executors. On the
    threads executor processes running at the same time share these
    generators, so a process that must not depend on scheduling draws from a
    generator of its own (``random.Random(ctx.seed)``,
    ``numpy.random.default_rng(ctx.seed)``).
    """
    if seed is None:
        return
    derived = int(hash_bytes(f"{seed}:{process}".encode())[:8], 16)
    random.seed(derived)
    numpy = sys.modules.get("numpy")  # seeded only if the project uses it already
    if numpy is not None:
        numpy.random.seed(derived)


def _with_retries(
    context: StepContext,
    function: Callable[..., Any],
    options: ProcessOptions,
    outcome: ProcessOutcome,
) -> Any:
    for attempt in range(options.retries + 1):
        outcome.attempts = attempt + 1
        context.metrics.clear()
        context.step_results.clear()
        try:
            return _run_loop(context, function, options)
        except MlopsError:
            raise  # a mistake in the project or config: retrying cannot help
        except Exception:
            if attempt == options.retries:
                raise
            time.sleep(options.retry_backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _run_loop(context: StepContext, function: Callable[..., Any], options: ProcessOptions) -> Any:
    if options.iterations is None and options.until is None:
        return _call(context, function, options)
    limit = options.iterations or options.max_iterations
    context.in_loop = True
    result: Any = None
    for iteration in range(limit):
        context.iteration = iteration
        context.previous_result = result
        result = _call(context, function, options)
        if options.until is not None and options.until(context, result):
            return result
    if options.until is not None:
        raise ExecutionError(
            f"process {options.name!r}: its until-condition was still false "
            f"after {limit} iterations",
            hint="raise max_iterations or check the condition",
        )
    return result


def _call(context: StepContext, function: Callable[..., Any], options: ProcessOptions) -> Any:
    if options.timeout is None:
        return context.call(function)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = context.call(function)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc

    # Python cannot stop a running thread: on timeout the attempt is abandoned
    # (it keeps its daemon thread until it returns) and reported as failed.
    runner = threading.Thread(target=target, name=f"mlops-{options.name}", daemon=True)
    runner.start()
    runner.join(options.timeout)
    if runner.is_alive():
        raise ProcessTimeoutError(f"process {options.name!r} timed out after {options.timeout:g}s")
    if "error" in box:
        raise box["error"]
    return box.get("result")


__all__ = [
    "FunctionRef",
    "LiveStores",
    "ProcessOutcome",
    "ProcessTask",
    "ProcessTimeoutError",
    "StoreHandle",
    "StoreSettings",
    "execute_process",
    "prefer_on_path",
]
