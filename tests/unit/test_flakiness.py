"""The flaky-test history file, classification, quarantine file and report command.

The plugin itself, run in inner pytest sessions, is tested in
``tests/integration/test_flakiness_plugin.py``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flakiness import history, quarantine

# ------------------------------------------------------------------ the history file itself


def test_parallel_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "history.json"

    def writer(index: int) -> None:
        for step in range(20):
            outcome = history.Outcome(history.PASSED, session=f"s{index}", at=step)
            history.record(path, {f"t{index}": [outcome], "shared": [outcome]}, size=1000)

    # Each thread opens the lock file itself, so flock serialises them as it
    # would separate nox sessions.
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    loaded = history.load(path)
    assert [len(loaded[f"t{i}"]) for i in range(4)] == [20, 20, 20, 20]
    assert len(loaded["shared"]) == 80
    assert not list(tmp_path.glob("*.tmp"))


def test_history_keeps_the_last_size_outcomes_and_survives_a_corrupt_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.json"
    path.write_text("{not json")
    assert history.load(path) == {}
    for step in range(5):
        history.record(path, {"t": [history.Outcome(history.PASSED, at=step)]}, size=3)
    assert [o.at for o in history.load(path)["t"]] == [2, 3, 4]


def outcomes(*names: str, session: str = "s", commit: str = "") -> list[history.Outcome]:
    return [history.Outcome(name, session=session, commit=commit) for name in names]


@pytest.mark.parametrize(
    ("entries", "kind"),
    [
        (outcomes("passed", "passed", "passed"), "stable"),
        (outcomes("passed", "failed"), "stable"),  # fewer than min_runs
        (outcomes(*["passed"] * 19, "failed"), "stable"),  # 5% is under the threshold
        (outcomes(*["passed"] * 8, "failed", "passed"), "flaky"),  # 10%
        (outcomes("passed", "failed", "failed", "failed"), "broken"),
        (outcomes("failed", "failed", "passed"), "flaky"),
        (outcomes("passed", "rerun"), "flaky"),
        (outcomes("failed", "failed", session="conda") + outcomes("passed"), "environment"),
        # Failed on one state of the code, passes on the next: fixed, not flaky.
        (outcomes("failed", "failed", commit="a1") + outcomes("passed", commit="a1+9f"), "stable"),
        (outcomes("failed", "passed", commit="a1") + outcomes("passed", commit="b2"), "flaky"),
    ],
    ids=[
        "stable",
        "too-few",
        "rare",
        "threshold",
        "broken",
        "recovering",
        "rerun",
        "env",
        "fixed",
        "same-code",
    ],
)
def test_classification(entries: list[history.Outcome], kind: str) -> None:
    assert history.classify("t", entries, history.Settings()).kind == kind


def test_quarantine_file_errors_are_one_line_with_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("- test: a\n  reason: r\n  owner: o\n  expires: 2026-13-01\n")
    with pytest.raises(quarantine.QuarantineError, match=r"q.yaml: not valid YAML \(month"):
        quarantine.load(path)
    path.write_text("- {test: a, reason: r, owner: o, expires: 'soon'}\n")
    with pytest.raises(quarantine.QuarantineError, match=r"entry 1: expires 'soon' is not a"):
        quarantine.load(path)
    path.write_text("- {test: a, reason: r, owner: o, expires: 2030-01-01, until: x}\n")
    with pytest.raises(quarantine.QuarantineError, match="unknown key 'until'"):
        quarantine.load(path)
    path.write_text("test: a\n")
    with pytest.raises(quarantine.QuarantineError, match="a list of entries"):
        quarantine.load(path)
    assert quarantine.load(tmp_path / "absent.yaml") == {}


def test_the_report_command_reads_the_history_without_running_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flakiness.__main__ import main

    path = tmp_path / "history.json"
    history.record(path, {"t::flaky": outcomes("passed", "failed", "passed", "failed")}, size=20)
    (tmp_path / "q.yaml").write_text("[]\n")

    assert main([str(path), "--quarantine", str(tmp_path / "q.yaml")]) == 0
    assert "  t::flaky: failure rate 50% over 4 runs" in capsys.readouterr().out

    (tmp_path / "q.yaml").write_text("- test: t::flaky\n")
    assert main([str(path), "--quarantine", str(tmp_path / "q.yaml")]) == 2
    assert "missing reason, owner, expires" in capsys.readouterr().err
