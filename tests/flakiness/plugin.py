"""The pytest plugin: record outcomes, apply the quarantine, report flaky and broken tests.

- Every run appends each test's outcome (with duration, commit, nox session
  and xdist worker) to the history file (``flaky_history`` in the ini,
  ``--flaky-history`` on the command line). Only the xdist controller (or a
  run without xdist) writes it, once, at the end.
- Tests listed in the quarantine file (``quarantine_file``) still run; their
  failures are non-strict xfails, so they do not fail the build.
  ``--skip-quarantine`` deselects them. An expired or malformed entry is a
  usage error (exit 4) with the entry named. A quarantined test that fails
  still shows its failure, at the end of the run: the xfail would hide the
  very traceback needed to fix it.
- ``--flaky-report`` prints, after the run, the broken, environment-specific
  and flaky tests of the history, the flaky ones not quarantined yet as
  ready-to-paste quarantine entries, and quarantined tests that have been
  stable through the whole window.

Enable it with ``-p flakiness.plugin`` or ``pytest_plugins``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from flakiness import history, quarantine
from flakiness.report import DEFAULT_HISTORY, DEFAULT_QUARANTINE, report_lines

# The tail of a quarantined test's failure printed at the end of the run.
FAILURE_TEXT_LIMIT = 6000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flakiness", "flaky-test history and quarantine")
    group.addoption("--skip-quarantine", action="store_true", help="deselect the quarantined tests")
    group.addoption(
        "--flaky-report", action="store_true",
        help="after the run, report flaky, broken and environment-specific tests",
    )  # fmt: skip
    group.addoption("--flaky-history", metavar="PATH", help="the outcome history file")
    parser.addini("flaky_history", f"outcome history file (default {DEFAULT_HISTORY})")
    parser.addini("flaky_history_size", "outcomes kept per test (default 20)")
    parser.addini("flaky_threshold", "failure rate that makes a mixed test flaky (default 0.1)")
    parser.addini("quarantine_file", f"quarantine list (default {DEFAULT_QUARANTINE})")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Flakiness(config), "flakiness-recorder")


def _ini(config: pytest.Config, name: str, default: str) -> str:
    value = config.getini(name)
    return str(value) if value else default


class Flakiness:
    def __init__(self, config: pytest.Config) -> None:
        root = Path(config.rootpath)
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        given = config.getoption("flaky_history") or _ini(config, "flaky_history", DEFAULT_HISTORY)
        self.history_path = root / given
        self.quarantine_path = root / _ini(config, "quarantine_file", DEFAULT_QUARANTINE)
        try:
            self.settings = history.Settings(
                size=int(_ini(config, "flaky_history_size", "20")),
                threshold=float(_ini(config, "flaky_threshold", "0.1")),
            )
            self.quarantined = quarantine.load(self.quarantine_path)
        except (quarantine.QuarantineError, ValueError) as exc:
            raise pytest.UsageError(str(exc)) from None
        self.outcomes: dict[str, str] = {}
        self.durations: dict[str, float] = {}
        self.workers: dict[str, str] = {}
        self.reruns: set[str] = set()
        self.quarantined_failures: dict[str, str] = {}

    # -------------------------------------------------------------- quarantine

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if not self.quarantined:
            return
        kept, dropped = [], []
        for item in items:
            entry = self.quarantined.get(item.nodeid)
            if entry is None:
                kept.append(item)
            elif config.getoption("skip_quarantine"):
                dropped.append(item)
            else:
                item.add_marker(pytest.mark.xfail(reason=entry.describe(), strict=False))
                kept.append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    # -------------------------------------------------------------- outcomes

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        test_id = report.nodeid
        self.durations[test_id] = self.durations.get(test_id, 0.0) + report.duration
        node = getattr(report, "node", None)
        self.workers[test_id] = getattr(getattr(node, "gateway", None), "id", "main")
        if str(report.outcome) == "rerun":  # pytest-rerunfailures' failed attempts
            self.reruns.add(test_id)
            return
        outcome = self._outcome(report)
        if outcome is None:
            return
        if outcome == history.FAILED and test_id in self.quarantined:
            self.quarantined_failures[test_id] = report.longreprtext[-FAILURE_TEXT_LIMIT:]
        if outcome == history.PASSED and test_id in self.reruns:
            outcome = history.RERUN
        if self.outcomes.get(test_id) != history.FAILED:
            self.outcomes[test_id] = outcome

    def _outcome(self, report: pytest.TestReport) -> str | None:
        if hasattr(report, "wasxfail"):
            # Only a quarantined test's xfail hides a real outcome worth keeping.
            if report.nodeid not in self.quarantined:
                return None
            return history.FAILED if report.skipped else history.PASSED
        if report.failed:
            return history.FAILED
        if report.passed and report.when == "call":
            return history.PASSED
        return None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker or not self.outcomes:
            return
        commit = _commit(Path(self.config.rootpath))
        session_name = os.environ.get("MLOPS_TEST_SESSION", "local")
        now = dt.datetime.now(dt.UTC).timestamp()
        new = {
            test_id: [
                history.Outcome(
                    outcome, round(self.durations.get(test_id, 0.0), 4), commit, session_name,
                    self.workers.get(test_id, "main"), now,
                )
            ]
            for test_id, outcome in self.outcomes.items()
        }  # fmt: skip
        history.record(self.history_path, new, self.settings.size)

    # -------------------------------------------------------------- report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker:
            return
        for test_id, text in self.quarantined_failures.items():
            terminalreporter.write_sep("-", f"quarantined, failed: {test_id}")
            terminalreporter.write_line(text)
        if not self.config.getoption("flaky_report"):
            return
        for line in report_lines(
            history.load(self.history_path), self.settings, self.quarantined, self.history_path
        ):
            terminalreporter.write_line(line)


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _commit(root: Path) -> str:
    """The state of the code: HEAD, plus a digest of uncommitted changes when there are any.

    Outcomes on different states are not compared for flakiness (a fix is not
    a flake), so edits in a working tree count as a state of their own.
    """
    for variable in ("MLOPS_COMMIT", "GITHUB_SHA"):
        if os.environ.get(variable):
            return os.environ[variable][:12]
    head = _git(root, "rev-parse", "--short=12", "HEAD")
    if head is None:
        return ""
    changes = hashlib.sha256(_git(root, "diff", "HEAD", "--no-ext-diff") or b"")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z") or b""
    for name in untracked.split(b"\0"):
        if name:
            changes.update(name)
            with contextlib.suppress(OSError):
                changes.update((root / os.fsdecode(name)).read_bytes())
    dirty = changes.hexdigest() != hashlib.sha256(b"").hexdigest()
    return head.decode().strip() + (f"+{changes.hexdigest()[:8]}" if dirty else "")


__all__ = ["Flakiness"]
