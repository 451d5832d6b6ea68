"""One process's attempts: retries, loops, timeouts and seeding, each attempt on a fresh context.

An attempt that fails is retried (after ``retry_backoff`` seconds, doubled
each time) with a new :class:`~mlops.engine.step_system.StepContext`, so
nothing an earlier attempt logged, checkpointed or stepped reaches the
outcome. An attempt that overruns its ``timeout`` is stopped: its thread gets an
exception at its next Python instruction (on every executor, each attempt
runs on a thread of its own). A thread blocked inside C code (a long
``sleep``, a native library call) sees it only when that call returns, so
the attempt is also abandoned: its context refuses every later write, and
the retry starts clean whatever the old thread does in between.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import Any

from mlops.cache.process_hashing import hash_bytes
from mlops.engine.seeding import seed_generators
from mlops.engine.step_system import AttemptAbandoned, ProcessOptions, StepContext
from mlops.errors import ExecutionError, MlopsError


class ProcessTimeoutError(TimeoutError):
    """An attempt ran longer than the process's ``timeout`` (retried like any failure)."""


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
    seed_generators(derived)  # NumPy and PyTorch too, now or when the process imports them


def run_attempts(
    new_context: Callable[[], StepContext],
    function: Callable[..., Any],
    options: ProcessOptions,
    on_attempt: Callable[[int], None],
) -> tuple[Any, StepContext]:
    """The result of the first attempt that succeeds, and that attempt's context.

    ``on_attempt(n)`` is told each attempt's number before it starts; the
    last attempt's error is raised when every one failed. An attempt that tries
    to end the program (``sys.exit``, ``KeyboardInterrupt``) is not retried: it
    asked to stop, and a signal's interruption must stop the run at once.
    """
    for attempt in range(options.retries + 1):
        on_attempt(attempt + 1)
        context = new_context()
        try:
            return _run_loop(context, function, options), context
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


#: How long a timed-out attempt's thread is given to stop before the retry starts.
STOP_GRACE = 1.0


def interrupt(thread: threading.Thread, error: type[BaseException]) -> bool:
    """Raise ``error`` in ``thread`` at its next Python instruction; False when it had ended."""
    if thread.ident is None or not thread.is_alive():
        return False
    set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    changed = set_async_exc(ctypes.c_ulong(thread.ident), ctypes.py_object(error))
    if changed > 1:  # pragma: no cover - an identifier shared by two states: undo
        set_async_exc(ctypes.c_ulong(thread.ident), None)
        return False
    return bool(changed)


def _call(context: StepContext, function: Callable[..., Any], options: ProcessOptions) -> Any:
    if options.timeout is None:
        return context.call(function)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = context.call(function)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc

    runner = threading.Thread(target=target, name=f"mlops-{options.name}", daemon=True)
    runner.start()
    runner.join(options.timeout)
    if runner.is_alive():
        context.abandon()  # whatever it does until it stops, nothing it writes is kept
        interrupt(runner, AttemptAbandoned)
        runner.join(min(options.timeout, STOP_GRACE))
        raise ProcessTimeoutError(f"process {options.name!r} timed out after {options.timeout:g}s")
    if "error" in box:
        raise box["error"]
    return box.get("result")


__all__ = ["ProcessTimeoutError", "interrupt", "run_attempts", "seed_process"]
