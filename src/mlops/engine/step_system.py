"""``@process``, ``@step`` and the :class:`StepContext` a process runs with.

A *process* is a node of the pipeline graph: a function marked ``@process``
in one of the project's ``src/`` modules. Its arguments are filled by name:

- ``ctx`` / ``context`` (or any argument annotated ``StepContext``): the context;
- the name of an upstream process: that process's result;
- the name of a parameter: its value (``model.parameters`` merged with the
  process's own ``pipeline.processes.<name>.params``).

A *step* is a function marked ``@step`` that a process calls. Inside a run
each call is cached on its own (by its code, its arguments and the calling
process's key), so a long process made of steps resumes step by step; outside
a run it is a plain call.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, overload

from mlops.config.process import ProcessOptions, RunOptions, StepInfo
from mlops.errors import ExecutionError
from mlops.tracking.experiment_tracker import check_metric

if TYPE_CHECKING:
    from mlops.cache.step_state_manager import StepStateManager

P = ParamSpec("P")
R = TypeVar("R")

PROCESS_MARK = "__mlops_process__"
STEP_MARK = "__mlops_step__"
CONTEXT_ARGUMENTS = ("ctx", "context")
_MISSING = object()


# ------------------------------------------------------------------ process options


@dataclass(frozen=True)
class ProcessDefinition:
    """A ``@process`` function and where it can be imported from (for remote workers)."""

    function: Callable[..., Any]
    options: ProcessOptions

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def module(self) -> str:
        return str(self.function.__module__)

    @property
    def qualname(self) -> str:
        return str(self.function.__qualname__)


@overload
def process(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def process(
    *,
    name: str | None = None,
    retries: int = 0,
    retry_backoff: float = 1.0,
    timeout: float | None = None,
    iterations: int | None = None,
    until: Callable[..., bool] | None = None,
    max_iterations: int = 100,
    condition: Callable[..., bool] | None = None,
    cache: bool = True,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def process(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Mark a function as a pipeline process (a graph node).

    ``condition(ctx) -> bool`` runs first; False skips the process (and what
    depends on it). ``iterations=n`` runs it n times; ``until(ctx, result)``
    repeats it until true (at most ``max_iterations``); ``ctx.iteration``
    counts from 0 and ``ctx.previous_result`` holds the last iteration's result.
    """

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        name = options.pop("name", None) or f.__name__
        setattr(f, PROCESS_MARK, ProcessOptions(name=name, **options))
        return f

    return mark(func) if func is not None else mark


def process_options(obj: object) -> ProcessOptions | None:
    """The options ``@process`` attached to ``obj``, or None for any other object."""
    found = getattr(obj, PROCESS_MARK, None)
    return found if isinstance(found, ProcessOptions) else None


# ------------------------------------------------------------------ steps


@overload
def step(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def step(
    *, name: str | None = None, cache: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def step(
    func: Callable[..., Any] | None = None, /, *, name: str | None = None, cache: bool = True
) -> Any:
    """Mark a function as a cached step of the process that calls it."""

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        info = StepInfo(name or f.__name__, f, cache)

        @functools.wraps(f)
        def run_step(*args: Any, **kwargs: Any) -> Any:
            ctx = current_context()
            if ctx is None:
                return f(*args, **kwargs)
            return ctx.run_step(info, args, kwargs)

        setattr(run_step, STEP_MARK, info)
        return run_step

    return wrap(func) if func is not None else wrap


# ------------------------------------------------------------------ the context


class MetricSink(Protocol):
    def __call__(self, point: dict[str, Any]) -> None: ...


_current: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "mlops_step_context", default=None
)


class AttemptAbandoned(BaseException):
    """Raised in an attempt that was given up (it overran its timeout) at its next write.

    A ``BaseException``, so a process's own ``except Exception`` does not swallow it.
    """


def current_context() -> StepContext | None:
    """The context of the process running in this thread, if any."""
    return _current.get()


@dataclass
class StepContext:
    """What a running process can see and do.

    Upstream results may arrive as payload references (large results spilled
    to the object store); ``resolve`` turns one into the value on first use.
    """

    run_id: str
    project: str
    process_name: str
    project_dir: Path | None = None
    seed: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    upstream: Mapping[str, Any] = field(default_factory=dict)
    iteration: int = 0
    in_loop: bool = False
    previous_result: Any = None
    process_key: str | None = None
    reuse_steps: bool = True
    state: StepStateManager | None = None
    resolve: Callable[[Any], Any] = field(default=lambda value: value)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    step_results: dict[str, Any] = field(default_factory=dict)
    step_stats: dict[str, int] = field(default_factory=lambda: {"ran": 0, "reused": 0})
    _hydrated: dict[str, Any] = field(default_factory=dict, repr=False)
    _abandoned: bool = field(default=False, repr=False)

    # -------------------------------------------------------------- abandoned attempts

    def abandon(self) -> None:
        """Give up this attempt: every later metric, step or checkpoint write is refused."""
        self._abandoned = True

    def _check_live(self, action: str) -> None:
        if self._abandoned:
            raise AttemptAbandoned(
                f"process {self.process_name!r}: {action} after its attempt was abandoned"
            )

    # -------------------------------------------------------------- results

    def get_step_result(self, name: str) -> Any:
        """The result of an upstream process or of a step this process already ran."""
        if name in self.step_results:
            return self.step_results[name]
        if name in self.upstream:
            if name not in self._hydrated:
                self._hydrated[name] = self.resolve(self.upstream[name])
            return self._hydrated[name]
        available = sorted({*self.upstream, *self.step_results})
        raise ExecutionError(
            f"process {self.process_name!r} asked for the result of {name!r}, "
            "which is neither an upstream process nor a step it ran",
            hint=(
                f"available: {', '.join(available)}"
                if available
                else "add the process upstream of this one in the pipeline"
            ),
        )

    def get_step_data(self, name: str, key: str | None = None, default: Any = _MISSING) -> Any:
        """``get_step_result(name)``, or one item of it: a mapping key or an attribute."""
        result = self.get_step_result(name)
        if key is None:
            return result
        if isinstance(result, Mapping) and key in result:
            return result[key]
        if not isinstance(result, Mapping) and hasattr(result, key):
            return getattr(result, key)
        if default is not _MISSING:
            return default
        raise ExecutionError(
            f"process {self.process_name!r}: the result of {name!r} has no {key!r}",
            hint="check the key, or pass default=...",
        )

    # -------------------------------------------------------------- metrics

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        """Record a metric; in a loop the step defaults to the iteration."""
        if step is None and self.in_loop:
            step = self.iteration
        metric, number, step = check_metric(name, value, step)
        self._check_live("log_metric")
        self.metrics.append(
            {"name": metric, "value": number, "step": step, "process": self.process_name}
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def log_artifact(self, path: str | Path, name: str | None = None) -> list[dict[str, Any]]:
        """Keep a file, or every file under a folder, as an artifact of this run.

        Stored in the project's object store by content (the same bytes once);
        ``name`` (default: the file or folder name) is how the run lists it. A
        relative ``path`` is relative to the project folder. Returns the entries.
        """
        from mlops.tracking.artifacts import store_artifacts

        self._check_live("log_artifact")
        source = Path(path)
        if not source.is_absolute() and self.project_dir is not None:
            source = self.project_dir / source
        entries = store_artifacts(self._require_state("log_artifact").objects, source, name)
        for entry in entries:
            entry["process"] = self.process_name
        self.artifacts.extend(entries)
        return entries

    # -------------------------------------------------------------- checkpoints

    def _checkpoint_key(self, name: str) -> str:
        owner = self.process_key or self.run_id
        return f"checkpoints/{self.process_name}/{owner}/{name}.pkl"

    def save_checkpoint(self, name: str, value: Any) -> None:
        """Keep ``value`` for a rerun of this process with the same inputs (after a failure)."""
        self._check_live("save_checkpoint")
        self._require_state("save_checkpoint").save_object(self._checkpoint_key(name), value)

    def load_checkpoint(self, name: str, default: Any = None) -> Any:
        """The value saved by ``save_checkpoint`` for these inputs, or ``default``."""
        return self._require_state("load_checkpoint").load_object(
            self._checkpoint_key(name), default
        )

    def _require_state(self, action: str) -> StepStateManager:
        if self.state is None:
            raise ExecutionError(
                f"process {self.process_name!r}: {action} needs a state store, "
                "and this context has none"
            )
        return self.state

    # -------------------------------------------------------------- steps

    def run_step(self, info: StepInfo, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """Run a ``@step`` call, reusing its cached result when its inputs are unchanged."""
        self._check_live(f"step {info.name!r}")
        state = self.state
        if state is None or not info.cache or self.process_key is None:
            result = info.function(*args, **kwargs)
            self.step_stats["ran"] += 1
        else:
            result, reused = state.cached_step(
                self.process_key,
                info,
                args,
                kwargs,
                reuse=self.reuse_steps,
                before_store=lambda: self._check_live(f"step {info.name!r}"),
            )
            self.step_stats["reused" if reused else "ran"] += 1
        self.step_results[info.name] = result
        return result

    @contextmanager
    def activate(self) -> Iterator[StepContext]:
        """Make this the current context (for ``@step`` calls) while the block runs."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)

    # -------------------------------------------------------------- calling the process

    def call(self, function: Callable[..., Any]) -> Any:
        """Call a process function with its arguments filled by name."""
        with self.activate():
            return function(*self.arguments_for(function))

    def arguments_for(self, function: Callable[..., Any]) -> list[Any]:
        missing = unfilled_argument(function, self.upstream, self.params)
        if missing is not None:
            message, hint = unfilled_argument_message(self.process_name, missing)
            raise ExecutionError(message, hint=hint)
        arguments: list[Any] = []
        for parameter in parameters_of(function):
            name = parameter.name
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if is_context_parameter(parameter):
                arguments.append(self)
            elif name in self.upstream:
                arguments.append(self.get_step_result(name))
            elif name in self.params:
                arguments.append(self.params[name])
            else:
                arguments.append(parameter.default)
        return arguments


_signatures: weakref.WeakKeyDictionary[Any, tuple[inspect.Parameter, ...]] = (
    weakref.WeakKeyDictionary()
)


def parameters_of(function: Callable[..., Any]) -> tuple[inspect.Parameter, ...]:
    """``function``'s parameters, read once per function (a run asks several times each)."""
    try:
        return _signatures[function]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable (a builtin): not cached
        return tuple(inspect.signature(function).parameters.values())
    found = tuple(inspect.signature(function).parameters.values())
    _signatures[function] = found
    return found


def unfilled_argument(
    function: Callable[..., Any], upstream: Collection[str], params: Collection[str]
) -> str | None:
    """The first argument of a process that nothing fills (context, upstream, param, default)."""
    for parameter in parameters_of(function):
        filled = (
            parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
            or is_context_parameter(parameter)
            or parameter.name in upstream
            or parameter.name in params
            or parameter.default is not parameter.empty
        )
        if not filled:
            return parameter.name
    return None


def unfilled_argument_message(process_name: str, argument: str) -> tuple[str, str]:
    """The message and hint for :func:`unfilled_argument`'s finding."""
    message = (
        f"process {process_name!r} takes argument {argument!r}, which is not an upstream "
        "process, a parameter or 'ctx'"
    )
    hint = (
        f"add '{argument} {process_name}' to the pipeline, set model.parameters.{argument}, "
        "or give the argument a default"
    )
    return message, hint


def is_context_parameter(parameter: inspect.Parameter) -> bool:
    """Whether a process argument receives the context (by name or annotation)."""
    annotation = parameter.annotation
    if parameter.name in CONTEXT_ARGUMENTS or annotation is StepContext:
        return True
    return isinstance(annotation, str) and annotation.rsplit(".", 1)[-1] == "StepContext"


# ------------------------------------------------------------------ the factory


class StepContextFactory:
    """One context per (run id, process): isolated between runs, reused within one.

    Thread-safe, since the threads executor builds contexts from many threads.
    """

    def __init__(self) -> None:
        self._contexts: dict[tuple[str, str], StepContext] = {}
        self._lock = threading.Lock()

    def get_context(self, run_id: str, process_name: str, **fields: Any) -> StepContext:
        """The context of ``process_name`` in ``run_id``, created on first use."""
        key = (run_id, process_name)
        with self._lock:
            context = self._contexts.get(key)
            if context is None:
                project = str(fields.pop("project", ""))
                context = StepContext(
                    run_id=run_id, project=project, process_name=process_name, **fields
                )
                self._contexts[key] = context
            return context

    def contexts(self, run_id: str) -> dict[str, StepContext]:
        with self._lock:
            return {p: c for (r, p), c in self._contexts.items() if r == run_id}

    def cleanup(self, run_id: str) -> int:
        """Forget every context of ``run_id``; returns how many there were."""
        with self._lock:
            keys = [k for k in self._contexts if k[0] == run_id]
            for key in keys:
                del self._contexts[key]
            return len(keys)

    def __len__(self) -> int:
        return len(self._contexts)


__all__ = [
    "AttemptAbandoned",
    "ProcessDefinition",
    "ProcessOptions",
    "RunOptions",
    "StepContext",
    "StepContextFactory",
    "StepInfo",
    "current_context",
    "is_context_parameter",
    "parameters_of",
    "process",
    "process_options",
    "step",
    "unfilled_argument",
]
