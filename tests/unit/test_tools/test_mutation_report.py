"""The mutation report: kill rates per module from mutmut's .meta files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nox_support import mutation_report


def write_meta(root: Path, module: str, codes: dict[str, int | None]) -> None:
    meta = root / f"{module}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes, "durations_by_key": {}}))


@pytest.fixture
def mutants(tmp_path: Path) -> Path:
    root = tmp_path / "mutants"
    # a.py: 3 killed, 1 timeout, 1 survived -> 80%; b.py: 1 killed, 1 no tests, 1 unchecked -> 50%
    write_meta(root, "src/pkg/a.py", {
        "pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 1, "pkg.a.x_g__mutmut_1": 3,
        "pkg.a.x_g__mutmut_2": 36, "pkg.a.x_g__mutmut_3": 0,
    })  # fmt: skip
    write_meta(root, "src/pkg/b.py", {"pkg.b.x_h__mutmut_1": 1, "pkg.b.x_h__mutmut_2": 33,
                                       "pkg.b.x_h__mutmut_3": None})  # fmt: skip
    write_meta(root, "src/pkg/c.py", {})  # nothing mutated there
    return root


def test_rates_per_module_and_overall(mutants: Path) -> None:
    scores = mutation_report.load_scores(mutants)
    assert [s.path for s in scores] == ["src/pkg/a.py", "src/pkg/b.py"]
    assert [round(s.rate, 1) for s in scores] == [80.0, 50.0]
    overall = mutation_report.total(scores)
    assert (overall.detected, overall.survived) == (5, 2)
    assert overall.outcomes["not checked"] == 1
    assert sorted(overall.survivors) == ["pkg.a.x_g__mutmut_3", "pkg.b.x_h__mutmut_2"]


def test_the_report_and_exit_status_follow_the_target(
    mutants: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "report.md"
    assert mutation_report.main([str(mutants), "--fail-under", "70", "--output", str(output)]) == 0
    text = output.read_text()
    assert "Kill rate **71.4%** (5 of 7 mutants detected); it meets the 70% target." in text
    assert "| `src/pkg/a.py` | 5 | 3 | 1 | 1 | 0 | 80.0% |" in text
    assert "- `pkg.b.x_h`: 1" in text
    assert capsys.readouterr().out.strip() == text.strip()
    assert mutation_report.main([str(mutants), "--fail-under", "80"]) == 1
    assert "is below the 80% target" in capsys.readouterr().out


def test_no_results_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert mutation_report.main([str(tmp_path)]) == 2
    assert "run mutmut first" in capsys.readouterr().err
