"""Stop signals raised as one exception, and a process's own KeyboardInterrupt told apart."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

from mlops.engine.worker import failure_reason
from mlops.runtime.interrupts import (
    Interrupted,
    exit_status,
    held,
    raised_by_signal,
    received,
    signal_of,
    stop_signals_raise,
)


@pytest.fixture(autouse=True)
def handlers_restored() -> Iterator[None]:
    """The tests set handlers of their own: this process gets its own back after each."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for signum, handler in before.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["int", "term", "hup"]
)
def test_each_stop_signal_raises_an_interruption_that_knows_it(signum: signal.Signals) -> None:
    signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
    with stop_signals_raise(), pytest.raises(Interrupted) as stopped:
        signal.raise_signal(signum)
    assert stopped.value.signum == signum
    assert isinstance(stopped.value, KeyboardInterrupt)  # every Ctrl-C path handles it
    assert signal_of(stopped.value) == signum
    assert exit_status(stopped.value) == 128 + signum


def test_exit_statuses_are_what_a_shell_reports() -> None:
    assert exit_status(KeyboardInterrupt()) == 130
    assert exit_status(Interrupted(signal.SIGTERM)) == 143
    assert exit_status(Interrupted(signal.SIGHUP)) == 129


def test_a_keyboard_interrupt_is_the_signals_only_after_one_came_in_the_main_thread() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with stop_signals_raise():
        assert received() is None
        assert not raised_by_signal(KeyboardInterrupt())  # a process raised it itself
        with pytest.raises(Interrupted) as stopped:
            signal.raise_signal(signal.SIGTERM)
        assert received() == signal.SIGTERM
        assert raised_by_signal(stopped.value)
        assert raised_by_signal(KeyboardInterrupt())  # what it became on its way up
        elsewhere: list[bool] = []
        thread = threading.Thread(
            target=lambda: elsewhere.append(raised_by_signal(KeyboardInterrupt()))
        )
        thread.start()
        thread.join()
        assert elsewhere == [False]  # Python delivers signals to the main thread only
    assert received() is None  # a block starts and ends with none


def test_an_ignored_signal_stays_ignored() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup starts a command
    with stop_signals_raise():
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        signal.raise_signal(signal.SIGHUP)
    assert received() is None


def test_a_handler_set_by_someone_else_still_decides_after_the_signal_is_noted() -> None:
    calls: list[int] = []
    seen: list[signal.Signals | None] = []

    def own(signum: int, frame: FrameType | None) -> None:
        calls.append(signum)
        seen.append(received())

    signal.signal(signal.SIGTERM, own)
    with stop_signals_raise():
        signal.raise_signal(signal.SIGTERM)  # no exception: the other handler's choice
    assert calls == [signal.SIGTERM]
    assert seen == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) is own


def test_blocks_nest_and_only_the_outermost_restores() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with stop_signals_raise():
        installed = signal.getsignal(signal.SIGTERM)
        with stop_signals_raise():
            assert signal.getsignal(signal.SIGTERM) is installed
        assert signal.getsignal(signal.SIGTERM) is installed
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_signal_inside_held_is_raised_when_the_block_ends() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    finished = []

    def finish_once_started() -> None:
        with held():
            signal.raise_signal(signal.SIGTERM)
            finished.append(True)  # not cut short

    with stop_signals_raise(), pytest.raises(Interrupted) as stopped:
        finish_once_started()
    assert finished == [True]
    assert stopped.value.signum == signal.SIGTERM


def test_outside_the_main_thread_nothing_is_installed() -> None:
    outcome: list[object] = []

    def run() -> None:
        with stop_signals_raise():
            outcome.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert outcome == [before]


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (SystemExit(0), "the process called sys.exit(0)"),
        (SystemExit(3), "the process called sys.exit(3)"),
        (SystemExit(), "the process called sys.exit()"),
        (SystemExit("bye"), "the process called sys.exit('bye')"),
        (KeyboardInterrupt(), "the process raised KeyboardInterrupt itself"),
        (ValueError("bad"), "ValueError: bad"),
    ],
    ids=["exit-0", "exit-3", "exit", "exit-message", "kbi", "error"],
)
def test_a_process_that_ends_the_program_says_how_in_its_record(
    exc: BaseException, reason: str
) -> None:
    assert failure_reason(exc) == reason
