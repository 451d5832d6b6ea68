"""The flaky-test plugin under pytest-xdist: workers run the tests, only the controller writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SUITE = """
def test_one():
    pass

def test_two():
    assert False

def test_three():
    pass
"""


def test_under_xdist_only_the_controller_writes_one_outcome_per_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nflaky_history = history.json\n")
    pytester.makepyfile(test_suite=SUITE)
    tools = Path(__file__).resolve().parents[2] / "tools"
    monkeypatch.setenv("PYTHONPATH", str(tools))  # the workers import the plugin too
    pytester.runpytest_subprocess("-p", "flakiness.plugin", "-p", "no:randomly", "-n", "2")

    tests = json.loads((pytester.path / "history.json").read_text())["tests"]
    assert sorted(tests) == [f"test_suite.py::test_{n}" for n in ("one", "three", "two")]
    assert all(len(entries) == 1 for entries in tests.values())
    assert {e[0]["worker"] for e in tests.values()} <= {"gw0", "gw1"}
    assert tests["test_suite.py::test_two"][0]["outcome"] == "failed"
