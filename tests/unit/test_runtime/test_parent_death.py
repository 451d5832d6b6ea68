"""What a parent passes to a child that must end with it, and what the child reads."""

from __future__ import annotations

import os
import signal

import pytest

from mlops.runtime import parent_death
from mlops.runtime.parent_death import PARENT_VARIABLE, adopt, child_environment


def test_the_child_environment_names_this_process_and_the_signal() -> None:
    env = child_environment({"PATH": "/bin"}, signal.SIGTERM)
    assert env == {"PATH": "/bin", PARENT_VARIABLE: f"{os.getpid()}:{int(signal.SIGTERM)}"}


def test_adopt_takes_the_variable_away_so_grandchildren_never_see_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[int, int]] = []
    monkeypatch.setattr(parent_death, "die_with_parent", lambda p, s: asked.append((p, s)) or True)
    environ = {PARENT_VARIABLE: f"{os.getppid()}:{int(signal.SIGKILL)}", "HOME": "/h"}
    assert adopt(environ)
    assert asked == [(os.getppid(), signal.SIGKILL)]
    assert environ == {"HOME": "/h"}


@pytest.mark.parametrize(
    "value", ["", "12", "x:9", "12:9:1", "12:999"], ids=["empty", "no-signal", "text", "3", "sig"]
)
def test_a_value_this_module_did_not_write_is_ignored(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parent_death, "die_with_parent", lambda p, s: pytest.fail("asked"))
    environ = {PARENT_VARIABLE: value}
    assert not adopt(environ)
    assert environ == {}


def test_a_process_never_adopts_itself_while_it_starts_its_own_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parent_death, "die_with_parent", lambda p, s: pytest.fail("asked"))
    assert not adopt(child_environment({}, signal.SIGKILL))
    with parent_death.children_die_with_this_process(signal.SIGKILL):
        assert os.environ[PARENT_VARIABLE] == f"{os.getpid()}:{int(signal.SIGKILL)}"
    assert PARENT_VARIABLE not in os.environ
