"""The matrix's closing line, from per-session JUnit files."""

from __future__ import annotations

from pathlib import Path

import pytest

from nox_support import junit_summary


def _report(path: Path, tests: int, failures: int, errors: int, skipped: int) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites>'
        f'<testsuite name="pytest" errors="{errors}" failures="{failures}" '
        f'skipped="{skipped}" tests="{tests}" time="1.0"/></testsuites>'
    )
    return path


def test_counts_treat_errors_as_failures(tmp_path: Path) -> None:
    counts = junit_summary.read_counts(_report(tmp_path / "a.xml", 10, 1, 2, 3))
    assert counts == junit_summary.Counts(passed=4, failed=3, skipped=3)


def test_bare_testsuite_root_is_read_too(tmp_path: Path) -> None:
    report = tmp_path / "b.xml"
    report.write_text('<testsuite tests="2" failures="0" errors="0" skipped="1"/>')
    assert junit_summary.read_counts(report) == junit_summary.Counts(1, 0, 1)


def test_summary_lists_sessions_then_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(tmp_path / "tests-3.12.xml", 5, 0, 0, 1)
    _report(tmp_path / "tests-3.11.xml", 5, 1, 0, 0)
    assert junit_summary.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "  tests-3.11: 4 passed, 1 failed, 0 skipped",
        "  tests-3.12: 4 passed, 0 failed, 1 skipped",
        "matrix: 8 passed, 1 failed, 1 skipped",
    ]


def test_no_reports_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert junit_summary.main([str(tmp_path)]) == 1
    assert "no JUnit reports" in capsys.readouterr().err
    assert junit_summary.main([]) == 2
