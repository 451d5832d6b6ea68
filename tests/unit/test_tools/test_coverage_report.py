"""coverage.md rendering from a coverage.json written with show_contexts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nox_support import coverage_report

REPORT: dict[str, Any] = {
    "totals": {
        "percent_covered": 87.5, "covered_lines": 7, "num_statements": 8,
        "covered_branches": 3, "num_branches": 4,
    },
    "files": {
        "src/mlops/core/workspace.py": {
            "executed_lines": [1, 2, 3],
            "missing_lines": [4],
            "summary": {"num_statements": 4, "missing_lines": 1, "num_branches": 2,
                        "num_partial_branches": 1, "percent_covered": 66.666},
            "contexts": {"1": ["tests-3.11", "tests-3.12|test_x"], "2": ["tests-3.11"],
                         "3": ["pyenv"]},
        },
        "src/mlops/__init__.py": {
            "executed_lines": [1, 2, 3, 4],
            "missing_lines": [],
            "summary": {"num_statements": 4, "missing_lines": 0, "num_branches": 2,
                        "num_partial_branches": 0, "percent_covered": 100.0},
            "contexts": {"1": ["tests-3.11"], "2": ["tests-3.11"], "3": ["tests-3.11"],
                         "4": ["tests-3.11", ""]},
        },
    },
}  # fmt: skip


def test_module_names_strip_src_and_init() -> None:
    assert coverage_report.module_name("src/mlops/core/workspace.py") == "mlops.core.workspace"
    assert coverage_report.module_name("src/mlops/__init__.py") == "mlops"
    assert coverage_report.module_name("src\\mlops\\errors.py") == "mlops.errors"


def test_rows_count_statements_per_session() -> None:
    rows, sessions = coverage_report.module_rows(REPORT)
    assert sessions == ["(no context)", "pyenv", "tests-3.11", "tests-3.12"]
    by_module = {row.module: row for row in rows}
    assert [row.module for row in rows] == ["mlops", "mlops.core.workspace"]
    ws = by_module["mlops.core.workspace"]
    assert ws.by_session == {"tests-3.11": 50.0, "tests-3.12": 25.0, "pyenv": 25.0}
    assert by_module["mlops"].by_session["tests-3.11"] == 100.0


def test_markdown_has_total_verdict_and_both_tables() -> None:
    text = coverage_report.render(REPORT, fail_under=85)
    assert "**Total: 87.5%** (statements and branches) passes the threshold of 85%" in text
    assert "| `mlops.core.workspace` | 4 | 1 | 2 | 1 | 66.7% |" in text
    header = "| module | `(no context)` | `pyenv` | `tests-3.11` | `tests-3.12` |"
    assert header in text
    assert "| `mlops.core.workspace` | - | 25.0% | 50.0% | 25.0% |" in text


def test_modules_without_statements_show_n_a() -> None:
    report = {
        "totals": {},
        "files": {
            "src/mlops/core/__init__.py": {
                "executed_lines": [], "missing_lines": [],
                "summary": {"num_statements": 0, "missing_lines": 0, "percent_covered": 100.0},
                "contexts": {},
            },
            "src/mlops/errors.py": {
                "executed_lines": [1], "missing_lines": [],
                "summary": {"num_statements": 1, "missing_lines": 0, "percent_covered": 100.0},
                "contexts": {"1": ["tests-3.11"]},
            },
        },
    }  # fmt: skip
    assert "| `mlops.core` | n/a |" in coverage_report.render(report, fail_under=85)


def test_below_threshold_the_report_says_it_fails() -> None:
    assert "FAILS the threshold of 90%" in coverage_report.render(REPORT, fail_under=90)


def test_empty_report_renders_without_sessions() -> None:
    text = coverage_report.render({"files": {}, "totals": {}}, fail_under=85)
    assert "Sessions merged: none." in text
    assert "**Total: 0.0%**" in text


def test_the_merge_accounts_for_every_expected_session() -> None:
    account = coverage_report.account_for_sessions(
        ["tests-3.11", "tests-3.12", "tests-3.14", "conda", "e2e"],
        [".coverage.tests-3.11", ".coverage.e2e"],
        {"tests-3.14": "no Python 3.14 here", "conda": "no conda frontend"},
    )
    assert account.merged == ("e2e", "tests-3.11")
    assert account.skipped == {"tests-3.14": "no Python 3.14 here", "conda": "no conda frontend"}
    assert account.missing == ("tests-3.12",)  # failed before its tests: named, not hidden
    text = account.markdown()
    assert "Sessions merged: e2e, tests-3.11." in text
    assert "Skipped: conda (no conda frontend)." in text
    assert "**Missing, so left out of every total: tests-3.12.**" in text


def test_data_beats_a_stale_skip_note() -> None:
    account = coverage_report.account_for_sessions(
        ["conda"], [".coverage.conda"], {"conda": "skipped last week"}
    )
    assert account.merged == ("conda",)
    assert account.skipped == {}
    assert account.missing == ()


@pytest.mark.parametrize(
    ("version", "allowed", "expected"),
    [
        ("3.14", "", False),
        ("3.14", "3.14", True),
        ("3.14", "3.13, 3.14", True),
        ("3.14", "3.13 3.14", True),
        ("3.12", "3.13,3.14", False),
        ("3.12", "all", True),
    ],
    ids=["unset", "exact", "comma-list", "space-list", "other-versions", "all"],
)
def test_allowing_missing_interpreters(version: str, allowed: str, expected: bool) -> None:
    assert coverage_report.allows_missing(version, allowed) is expected


SPECS = {"tests-3.12": "3.12", "tests-3.14": "3.14", "pyenv": "/home/u/.pyenv/shims/python"}


def test_a_missing_interpreter_is_a_skip_off_ci() -> None:
    notes = coverage_report.missing_interpreters(
        ["tests-3.12", "tests-3.14", "pyenv", "e2e"], SPECS, {}, found=lambda spec: spec == "3.12"
    )
    assert sorted(notes) == ["pyenv", "tests-3.14"]
    assert notes["tests-3.14"].startswith("Python 3.14 not found")


def test_on_ci_only_the_allowed_versions_and_pyenv_may_be_missing() -> None:
    environ = {"CI": "true", "MLOPS_ALLOW_MISSING_PYTHONS": "3.14"}
    notes = coverage_report.missing_interpreters(
        ["tests-3.12", "tests-3.14", "pyenv"], SPECS, environ, found=lambda spec: False
    )
    assert sorted(notes) == ["pyenv", "tests-3.14"]


def test_merge_fails_naming_a_silent_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".coverage.tests-3.11").write_bytes(b"")
    reports = tmp_path / ".nox" / "_reports"
    reports.mkdir(parents=True)
    (reports / "e2e.skipped").write_text("no Chromium\n")
    status = coverage_report.main(
        ["--root", str(tmp_path), "--expected", "tests-3.11", "tests-3.12", "e2e",
         "--interpreters", "tests-3.12=3.12"],
        found=lambda spec: True,
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 1
    assert "e2e: skipped, no coverage (no Chromium)" in out
    assert "no coverage from tests-3.12" in err


def test_merge_without_data_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert coverage_report.main(["--root", str(tmp_path), "--expected", "tests-3.11"]) == 1
    assert "run a tests session first" in capsys.readouterr().err


def test_merge_writes_every_report_and_ends_with_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coverage import CoverageData

    module = tmp_path / "pkg" / "mod.py"
    module.parent.mkdir()
    module.write_text("a = 1\nb = 2\nif a:\n    c = 3\n")
    for session, lines in (("tests-3.11", [1, 2]), ("tests-3.12", [1, 2, 3, 4])):
        data = CoverageData(basename=str(tmp_path / f".coverage.{session}"))
        data.set_context(session)
        data.add_lines({str(module): lines})
        data.write()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.coverage.report]\nfail_under = 90\n[tool.coverage.json]\nshow_contexts = true\n"
    )
    (tmp_path / ".nox" / "_reports").mkdir(parents=True)
    (tmp_path / ".nox" / "_reports" / "e2e.skipped").write_text("no Chromium\n")
    monkeypatch.chdir(tmp_path)  # coverage reads its settings and writes its reports here
    expected = ["tests-3.11", "tests-3.12", "e2e"]
    assert coverage_report.main(["--root", str(tmp_path), "--expected", *expected]) == 0
    markdown = (tmp_path / "coverage.md").read_text()
    assert "**Total: 100.0%** (statements and branches) passes the threshold of 90%" in markdown
    assert "| `pkg.mod` | 50.0% | 100.0% |" in markdown
    assert "Skipped: e2e (no Chromium)." in markdown
    assert "## Test health" in markdown
    assert (tmp_path / "htmlcov" / "index.html").is_file()
    assert (tmp_path / "coverage.xml").is_file()
    assert "wrote htmlcov/" in capsys.readouterr().out
    (tmp_path / ".coverage.tests-3.12").unlink()  # the merge kept its inputs: 50% without it
    assert coverage_report.main(["--root", str(tmp_path), "--expected", "tests-3.11"]) == 2
