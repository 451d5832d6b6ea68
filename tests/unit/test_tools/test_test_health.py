"""The test-health report: mock counts from syntax trees, coverage by area, slowest tests."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from nox_support import test_health

MOCKING = """
    import os
    import subprocess
    from unittest import mock
    from unittest.mock import MagicMock, patch

    import mlops.engine.executors as executors
    from mlops.storage import factory

    # patch("in.a.comment") does not count
    @patch("subprocess.run")
    def test_a(run, monkeypatch):
        monkeypatch.setattr(factory, "create_kv_store", MagicMock())
        monkeypatch.setattr(os, "cpu_count", lambda: 1)
        monkeypatch.setattr("mlops.session.platform.MLPlatform.load", None)
        with mock.patch.object(subprocess, "Popen"):
            pass
        tracker = object()
        monkeypatch.setattr(tracker, "log", None)
        monkeypatch.setenv("A", "1")
        patch = Path("patch.yaml")  # a variable named patch is not a mock
        patch.write_text("x")
"""


def write_tests(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "tests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_mock_uses_are_counted_from_code_and_targets_resolved_through_imports(
    tmp_path: Path,
) -> None:
    files = {
        "unit/test_mocking.py": MOCKING,
        "unit/test_clean.py": "x = 1\n",
        "fixtures/helpers.py": "from unittest.mock import Mock\nMock()\n",  # not a test file
    }
    root = write_tests(tmp_path, files)
    uses = {u.path: u for u in test_health.mock_uses(root / "tests")}
    assert sorted(uses) == ["tests/unit/test_clean.py", "tests/unit/test_mocking.py"]
    mocking = uses["tests/unit/test_mocking.py"]
    assert (mocking.patches, mocking.mock_objects, mocking.setattrs) == (2, 1, 4)
    # mlops targets (by string or through an import) and the local object are not "outside".
    assert sorted(mocking.outside) == ["os.cpu_count", "subprocess.Popen", "subprocess.run"]
    assert uses["tests/unit/test_clean.py"].total == 0

    lines = test_health.mock_lines(list(uses.values()))
    assert lines[2].startswith("1 of 2 test files use mocks (50.0%; it misses the target")
    assert "| `tests/unit/test_mocking.py` | 2 | 1 | 4 | `os.cpu_count`, `subprocess.Popen`, " in (
        "\n".join(lines)
    )


def test_coverage_is_summed_per_area_with_targets() -> None:
    def entry(lines: int, covered: int, branches: int = 0, hit: int = 0) -> dict[str, object]:
        return {"summary": {"num_statements": lines, "covered_lines": covered,
                            "num_branches": branches, "covered_branches": hit}}  # fmt: skip

    report = {"files": {
        "src/mlops/core/a.py": entry(80, 72, 20, 18), "src/mlops/core/b.py": entry(100, 100),
        "src/mlops/web/server.py": entry(10, 5), "src/mlops/platform.py": entry(50, 50),
        "src/mlops/storage/x.py": entry(100, 80),
    }}  # fmt: skip
    found = {a.name: round(a.percent, 1) for a in test_health.areas(report)}
    assert found == {"mlops (top-level modules)": 100.0, "mlops.core": 95.0,
                     "mlops.storage": 80.0, "mlops.web": 50.0}  # fmt: skip
    text = "\n".join(test_health.coverage_lines(report))
    assert "| `mlops.core` | 95.0% | 90% | ok |" in text
    assert "| `mlops.storage` | 80.0% | 90% | **below** |" in text
    assert "| `mlops.web` | 50.0% | - |  |" in text


def test_slowest_tests_come_from_every_sessions_junit(tmp_path: Path) -> None:
    for session, (fast, slow) in {"tests-3.11": (0.5, 3.0), "pyenv": (0.1, 9.5)}.items():
        (tmp_path / f"{session}.xml").write_text(
            '<testsuites><testsuite name="pytest">'
            f'<testcase classname="tests.unit.test_a" name="test_fast" time="{fast}"/>'
            f'<testcase classname="tests.e2e.test_b.TestGroup" name="test_slow[x]" time="{slow}"/>'
            "</testsuite></testsuites>"
        )
    found = test_health.timings(sorted(tmp_path.glob("*.xml")))
    assert [(t.test, t.session, t.seconds) for t in found[:2]] == [
        ("tests/e2e/test_b.py::TestGroup::test_slow[x]", "pyenv", 9.5),
        ("tests/e2e/test_b.py::TestGroup::test_slow[x]", "tests-3.11", 3.0),
    ]
    assert test_health.slowest_lines(found, count=1)[-1] == (
        "| `tests/e2e/test_b.py::TestGroup::test_slow[x]` | pyenv | 9.50 |"
    )


def test_missing_inputs_are_said_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tests(tmp_path, {"test_x.py": "def test_x():\n    pass\n"})
    assert test_health.main(["--root", str(root), "--output", str(tmp_path / "h.md")]) == 0
    text = (tmp_path / "h.md").read_text()
    assert "0 of 1 test files use mocks (0.0%; it meets the target of under 30%)" in text
    assert "No coverage.json: run `nox -s coverage-combine`" in text
    assert "No JUnit reports in .nox/_reports" in text
    assert "No outcome history at" in text
    assert capsys.readouterr().out == text
    assert test_health.main(["--root", str(tmp_path / "nowhere")]) == 2


def test_flaky_section_reads_history_and_quarantine(tmp_path: Path) -> None:
    root = write_tests(tmp_path, {"test_x.py": ""})
    history = root / ".nox" / "flaky-history.json"
    history.parent.mkdir()
    runs = [{"outcome": o, "commit": "c1"} for o in ["passed", "failed", "passed", "failed"]]
    history.write_text(json.dumps({"version": 1, "tests": {"tests/test_x.py::t": runs}}))
    text = "\n".join(test_health.flaky_lines(history, root / "tests" / "quarantine.yaml"))
    assert "FLAKY: 1" in text
    assert "tests/test_x.py::t: failure rate 50% over 4 runs" in text
    (root / "tests" / "quarantine.yaml").write_text("- test: x\n")
    assert "is invalid:" in "\n".join(
        test_health.flaky_lines(history, root / "tests" / "quarantine.yaml")
    )
