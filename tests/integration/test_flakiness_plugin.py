"""The flaky-test plugin, run for real in inner pytest sessions: alone and under xdist."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

# A test that fails on every other run (a counter file beside it), one that
# always passes, and one that always fails.
SUITE = """
from pathlib import Path

def test_alternating():
    counter = Path(__file__).with_name("count.txt")
    runs = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(runs + 1))
    assert runs % 2 == 0, "odd run"

def test_stable():
    pass

def test_broken():
    raise AssertionError("always")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini("[pytest]\nflaky_history = history.json\nquarantine_file = quarantine.yaml\n")
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("MLOPS_TEST_SESSION", "tests-3.11")
    monkeypatch.setenv("MLOPS_COMMIT", "abc123")
    return pytester


def run(suite: pytest.Pytester, *args: str) -> pytest.RunResult:
    return suite.runpytest("-p", "flakiness.plugin", "-p", "no:randomly", *args)


def stored(suite: pytest.Pytester) -> dict[str, Any]:
    tests: dict[str, Any] = json.loads((suite.path / "history.json").read_text())["tests"]
    return tests


def test_each_run_appends_every_tests_outcome_with_where_it_ran(suite: pytest.Pytester) -> None:
    for _ in range(2):
        run(suite)

    tests = stored(suite)
    assert [e["outcome"] for e in tests["test_suite.py::test_alternating"]] == ["passed", "failed"]
    assert [e["outcome"] for e in tests["test_suite.py::test_broken"]] == ["failed", "failed"]
    entry = tests["test_suite.py::test_stable"][-1]
    assert (entry["session"], entry["commit"], entry["worker"]) == ("tests-3.11", "abc123", "main")
    assert entry["duration"] >= 0


def test_the_report_names_flaky_broken_and_candidates(suite: pytest.Pytester) -> None:
    for _ in range(3):
        run(suite)
    result = run(suite, "--flaky-report")

    result.stdout.fnmatch_lines(
        [
            "BROKEN (fix them; never quarantined): 1",
            "  test_suite.py::test_broken: failed the last 3 runs",
            "FLAKY: 1",
            "  test_suite.py::test_alternating: failure rate 50% over 4 runs",
            "    recent: passed failed passed failed",
            "QUARANTINE CANDIDATES: 1",
            "  - test: test_suite.py::test_alternating",
        ]
    )
    assert "test_stable" not in result.stdout.str()


def test_a_failure_only_in_one_session_is_named_not_called_flaky(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(
        test_env="import os\n\ndef test_env():\n"
        "    assert os.environ['MLOPS_TEST_SESSION'] != 'conda'\n"
    )
    for session in ("tests-3.11", "conda", "tests-3.12", "conda"):
        monkeypatch.setenv("MLOPS_TEST_SESSION", session)
        run(suite, "test_env.py")
    result = run(suite, "test_env.py", "--flaky-report")

    result.stdout.fnmatch_lines(
        ["FAILING IN ONE ENVIRONMENT: 1", "  test_env.py::test_env: fails only in conda"]
    )
    result.stdout.fnmatch_lines(["FLAKY: 0", "QUARANTINE CANDIDATES: 0"])


def test_a_pass_on_rerun_is_flaky_at_once(suite: pytest.Pytester) -> None:
    run(suite, "-k", "alternating")  # passes
    run(suite, "--reruns", "1", "-k", "alternating")  # fails, then passes on rerun
    result = run(suite, "-k", "stable", "--flaky-report")

    recorded = [e["outcome"] for e in stored(suite)["test_suite.py::test_alternating"]]
    assert recorded == ["passed", "rerun"]
    result.stdout.fnmatch_lines(
        ["FLAKY: 1", "  test_suite.py::test_alternating: failed, then passed on rerun"]
    )


def write_quarantine(suite: pytest.Pytester, test: str, expires: dt.date, **extra: str) -> None:
    entry = {"test": test, "reason": "races", "owner": "storage", "expires": str(expires), **extra}
    lines = ["- " + "\n  ".join(f"{k}: {v}" for k, v in entry.items() if v)]
    (suite.path / "quarantine.yaml").write_text("\n".join(lines) + "\n")


def test_a_quarantined_failure_does_not_fail_the_build_but_is_recorded(
    suite: pytest.Pytester,
) -> None:
    later = dt.date.today() + dt.timedelta(days=7)
    write_quarantine(suite, "test_suite.py::test_broken", later)

    result = run(suite, "-k", "broken or stable", "-rx")

    assert result.ret == 0
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines([f"*quarantined until {later} (storage): races*"])
    assert stored(suite)["test_suite.py::test_broken"][-1]["outcome"] == "failed"
    # The xfail does not hide the failure needed to find the cause.
    result.stdout.fnmatch_lines(
        ["*quarantined, failed: test_suite.py::test_broken*", "*AssertionError: always*"]
    )

    skipped = run(suite, "-k", "broken or stable", "--skip-quarantine")
    skipped.assert_outcomes(passed=1, deselected=2)  # -k drops alternating; quarantine, broken


def test_an_expired_or_incomplete_entry_stops_the_run_with_the_entry_named(
    suite: pytest.Pytester,
) -> None:
    write_quarantine(suite, "test_suite.py::test_broken", dt.date(2020, 1, 2))
    expired = run(suite)
    assert expired.ret == pytest.ExitCode.USAGE_ERROR
    expired.stderr.fnmatch_lines(["*test_suite.py::test_broken expired on 2020-01-02 (storage)*"])

    write_quarantine(suite, "test_suite.py::test_broken", dt.date(2099, 1, 1), owner="")
    incomplete = run(suite)
    assert incomplete.ret == pytest.ExitCode.USAGE_ERROR
    incomplete.stderr.fnmatch_lines(["*quarantine.yaml entry 1: missing owner*"])


# ------------------------------------------------------------------ under xdist

XDIST_SUITE = """
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
    pytester.makepyfile(test_suite=XDIST_SUITE)
    tests_dir = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("PYTHONPATH", str(tests_dir))  # the workers import the plugin too
    pytester.runpytest_subprocess("-p", "flakiness.plugin", "-p", "no:randomly", "-n", "2")

    tests = json.loads((pytester.path / "history.json").read_text())["tests"]
    assert sorted(tests) == [f"test_suite.py::test_{n}" for n in ("one", "three", "two")]
    assert all(len(entries) == 1 for entries in tests.values())
    assert {e[0]["worker"] for e in tests.values()} <= {"gw0", "gw1"}
    assert tests["test_suite.py::test_two"][0]["outcome"] == "failed"
