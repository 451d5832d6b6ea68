"""The signals that stop a run (SIGINT, SIGTERM, SIGHUP), all raised as one exception.

Python turns SIGINT into ``KeyboardInterrupt``; SIGTERM and SIGHUP end the
process at once by default, which would leave its run ``running`` and its
launcher's child going on alone. Inside :func:`stop_signals_raise` (in the main
thread, where Python runs signal handlers) each of the three raises
:class:`Interrupted`, a ``KeyboardInterrupt`` that knows its signal: every
place that stops a run in order on Ctrl-C does so for all three, and the
command ends with 128 + the signal number, as a shell reports it.

The handler also notes that a signal came (:func:`received`). That is how a
``KeyboardInterrupt`` that a process raises itself (a failed process) is told
apart from the one a signal raises in the middle of a process's code on the
sequential executor (the run stops): only the second comes after a signal, in
the main thread.

A signal set to be ignored stays ignored (``nohup`` ignores SIGHUP, a script's
background job SIGINT), and a handler someone else installed in Python is
called as before, after the signal is noted.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

#: The signals that stop a run, in the order a person sends them.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_Handler = Callable[[int, FrameType | None], Any] | int | None


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived: the run stops in order, as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        self.signum = signal.Signals(signum)
        super().__init__(self.signum.name)


class _State:
    """What the handlers share with the code they interrupt (main thread only)."""

    def __init__(self) -> None:
        self.depth = 0  # nested blocks: only the outermost installs and restores
        self.received: list[signal.Signals] = []
        self.holding = 0  # inside held(): signals are noted, raised at the end


_state = _State()


def signal_of(exc: BaseException) -> signal.Signals:
    """The signal behind an interruption: its own, or SIGINT for a plain ``KeyboardInterrupt``."""
    return exc.signum if isinstance(exc, Interrupted) else signal.SIGINT


def exit_status(exc: BaseException) -> int:
    """128 + the signal's number, as shells report a process a signal ended (130 for Ctrl-C)."""
    return 128 + int(signal_of(exc))


def received() -> signal.Signals | None:
    """The first stop signal since the outermost :func:`stop_signals_raise` began, if any."""
    return _state.received[0] if _state.received else None


def raised_by_signal(exc: BaseException) -> bool:
    """``exc`` is how a stop signal reached this thread, not something a process raised.

    Python raises a signal's exception in the main thread only, so a
    ``KeyboardInterrupt`` on any other thread (a worker's) is the process's own.
    """
    return (
        isinstance(exc, KeyboardInterrupt)
        and threading.current_thread() is threading.main_thread()
        and received() is not None
    )


def _handler(previous: _Handler) -> Callable[[int, FrameType | None], None]:
    # A handler someone else set in Python decides what the signal does; Python's
    # own (SIGINT's KeyboardInterrupt, the others' default: the end) is replaced.
    delegate = None
    if callable(previous) and previous is not signal.default_int_handler:
        delegate = previous

    def handle(signum: int, frame: FrameType | None) -> None:
        _state.received.append(signal.Signals(signum))
        if _state.holding:
            return
        if delegate is not None:
            delegate(signum, frame)
            return
        raise Interrupted(signum)

    return handle


@contextlib.contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Inside the block, SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted`.

    Re-entrant; outside the main thread (where no handler can be set, and no
    signal is delivered) it changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _state.depth:
        _state.depth += 1
        try:
            yield
        finally:
            _state.depth -= 1
        return
    previous: dict[signal.Signals, _Handler] = {}
    _state.received.clear()
    _state.depth = 1
    try:
        for signum in STOP_SIGNALS:
            handler = signal.getsignal(signum)
            if handler in (signal.SIG_IGN, None):
                continue  # ignored on purpose (nohup, a background job), or set outside Python
            previous[signum] = handler
            signal.signal(signum, _handler(handler))
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state.depth = 0
        _state.received.clear()


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Inside the block a stop signal is noted; the first one is raised when it ends.

    For code that must finish once started: starting a child whose handle is
    needed to stop it, or writing the record of an interruption.
    """
    before = len(_state.received)
    _state.holding += 1
    try:
        yield
    finally:
        _state.holding -= 1
    if not _state.holding and len(_state.received) > before and _state.depth:
        raise Interrupted(_state.received[before])


__all__ = [
    "STOP_SIGNALS",
    "Interrupted",
    "exit_status",
    "held",
    "raised_by_signal",
    "received",
    "signal_of",
    "stop_signals_raise",
]
