"""What ``mlops run`` prints: live table on a terminal, lines otherwise, quiet verdicts."""

from __future__ import annotations

import io
import warnings

from rich.console import Console

from mlops.cli.progress import BuildProgress, RunDisplay
from mlops.cli.running import warnings_as_lines
from mlops.session.platform import PipelineWarning
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.status import ProcessStatus

RECORD = {"status": "failed", "run_id": "r1", "project": "demo", "duration": 1.5}


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=120, color_system=None), buffer


def updates(display: RunDisplay) -> None:
    display.update(ProcessRecord("load", status=ProcessStatus.RUNNING))
    display.update(ProcessRecord("load", status=ProcessStatus.COMPLETED, duration=0.25))
    display.update(ProcessRecord("train", status=ProcessStatus.CACHED, reason="reused: same"))
    display.update(ProcessRecord("eval", status=ProcessStatus.FAILED, error="ValueError: x",
                                 attempts=3))  # fmt: skip
    display.update(ProcessRecord("report", status=ProcessStatus.SKIPPED,
                                 reason="skipped: upstream 'eval' failed"))  # fmt: skip


def test_lines_without_a_terminal() -> None:
    out, buffer = console(terminal=False)
    display = RunDisplay(out, ["load", "train", "eval", "report"])
    with display:
        updates(display)
    display.summary(RECORD)
    lines = buffer.getvalue().splitlines()
    assert lines[0].split() == ["ran", "load", "250ms"]
    assert lines[1].split() == ["reused", "train"]  # reasons only with --explain
    assert lines[2].split()[:2] == ["failed", "eval"]
    assert "ValueError: x" in lines[2]
    assert "upstream 'eval' failed" in lines[3]
    assert lines[4] == ("failed: run r1 of demo (1 ran, 1 reused, 1 failed, 1 skipped) in 1.50s")


def test_live_table_on_a_terminal_then_the_final_table() -> None:
    out, buffer = console(terminal=True)
    display = RunDisplay(out, ["load", "train", "eval", "report"], explain=True)
    with display:
        updates(display)
    display.summary(RECORD)
    text = buffer.getvalue()
    assert "attempts" in text
    # The live table is redrawn with cursor movements; the final table follows it.
    final = [line.rsplit("\x1b[2K", 1)[-1] for line in text.splitlines()[-6:]]
    assert final[0].split()[:2] == ["process", "status"]
    assert "reused: same" in final[2]
    assert final[3].split()[:3] == ["eval", "failed", "3"]
    assert final[-1].startswith("failed: run r1 of demo")


def test_quiet_prints_only_the_verdict() -> None:
    out, buffer = console(terminal=True)
    display = RunDisplay(out, ["load"], quiet=True)
    with display:
        display.update(ProcessRecord("load", status=ProcessStatus.COMPLETED, duration=2.0))
    display.summary({**RECORD, "status": "completed"})
    assert buffer.getvalue().splitlines() == ["completed: run r1 of demo (1 ran) in 1.50s"]


def test_warnings_become_one_line_each() -> None:
    stream = io.StringIO()
    with warnings_as_lines(stream):
        warnings.warn("first\n  problem", PipelineWarning, stacklevel=1)
        warnings.warn("second", PipelineWarning, stacklevel=1)
    assert stream.getvalue().splitlines() == [
        "mlops: warning: first problem",
        "mlops: warning: second",
    ]


def test_other_libraries_warnings_are_theirs_and_their_deprecations_are_left_out() -> None:
    stream = io.StringIO()
    library = "/env/lib/python3.11/site-packages/mlflow/store/db.py"
    with warnings_as_lines(stream):
        for category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
            warnings.warn_explicit("old api", category, library, 1, module="mlflow.store.db")
        warnings.warn_explicit("did not converge", UserWarning, library, 2, module="mlflow.x")
    assert stream.getvalue().splitlines() == ["warning (mlflow): did not converge"]


def test_a_large_run_lists_the_notable_processes_and_says_where_the_rest_are() -> None:
    out, buffer = console(terminal=True)
    names = [f"p{i}" for i in range(500)]
    display = RunDisplay(out, names)
    with display:
        for name in names[:-1]:
            display.update(ProcessRecord(name, status=ProcessStatus.RUNNING))
            display.update(ProcessRecord(name, status=ProcessStatus.COMPLETED, duration=0.01))
        display.update(ProcessRecord("p499", status=ProcessStatus.FAILED, error="ValueError: y"))
    display.summary({**RECORD, "status": "failed"})
    final = [line.rsplit("\x1b[2K", 1)[-1] for line in buffer.getvalue().splitlines()[-4:]]
    assert final[0].split()[:2] == ["process", "status"]
    assert final[1].split()[:2] == ["p499", "failed"]
    assert final[2] == "499 more; `mlops runs demo show r1` lists every process"
    assert final[3] == "failed: run r1 of demo (499 ran, 1 failed) in 1.50s"


def test_the_live_view_shows_the_running_and_the_latest_finished_with_counts() -> None:
    out, buffer = console(terminal=False)
    names = [f"p{i}" for i in range(100)]
    display = RunDisplay(out, names, live=False, quiet=True)
    for name in names[:90]:
        display.update(ProcessRecord(name, status=ProcessStatus.COMPLETED, duration=0.01))
    for name in names[90:93]:
        display.update(ProcessRecord(name, status=ProcessStatus.RUNNING))
    out.print(display._view())
    rows = [line.split() for line in buffer.getvalue().splitlines()]
    assert rows[0][:2] == ["process", "status"]
    # The last five finished, then the running ones; never the whole graph.
    assert [row[0] for row in rows[1:-1]] == [f"p{i}" for i in range(85, 93)]
    assert " ".join(rows[-1]) == "7 pending, 90 ran, 3 running"


def test_a_record_sent_again_after_it_changed_is_counted_once() -> None:
    out, _ = console(terminal=False)
    display = RunDisplay(out, ["load", "train"], quiet=True)
    record = ProcessRecord("load", status=ProcessStatus.RUNNING)
    display.update(record)
    record.status = ProcessStatus.COMPLETED  # the engine updates its record in place
    display.update(record)
    out.print(display._view())
    assert "1 pending, 1 ran" in out.file.getvalue()  # type: ignore[attr-defined]


def test_a_build_prints_its_steps_and_shows_installer_output_live_on_a_terminal() -> None:
    out, buffer = console(terminal=True)
    progress = BuildProgress(out)
    progress.step("installing with uv: six")
    progress.output("Resolved 1 package in 3ms")
    progress.output("Installed 1 package in 2ms")
    progress.close()
    text = buffer.getvalue()
    assert text.splitlines()[0] == "mlops: installing with uv: six"
    assert "  Installed 1 package in 2ms" in text  # the latest line, drawn live...
    assert text.endswith("\x1b[1A\x1b[2K")  # ...and erased once the build is done


def test_without_a_terminal_a_build_prints_its_steps_alone() -> None:
    out, buffer = console(terminal=False)
    progress = BuildProgress(out)
    progress.step("creating /envs/venv-1")
    progress.output("Resolved 1 package in 3ms")
    progress.close()
    assert buffer.getvalue() == "mlops: creating /envs/venv-1\n"
