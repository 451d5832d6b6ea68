"""What ``mlops run`` prints: live progress per process and a summary table.

On a terminal a live table shows each process's state as it changes. Without
a terminal (CI, a pipe) each process gets one line when it finishes, so logs
stay readable. ``quiet`` prints only the final line and errors.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.status import ProcessStatus

STYLES: Mapping[ProcessStatus, str] = {
    ProcessStatus.PENDING: "dim",
    ProcessStatus.RUNNING: "yellow",
    ProcessStatus.COMPLETED: "green",
    ProcessStatus.CACHED: "cyan",
    ProcessStatus.FAILED: "bold red",
    ProcessStatus.SKIPPED: "magenta",
    ProcessStatus.INTERRUPTED: "bold yellow",
}
LABELS: Mapping[ProcessStatus, str] = {
    ProcessStatus.PENDING: "pending",
    ProcessStatus.RUNNING: "running",
    ProcessStatus.COMPLETED: "ran",
    ProcessStatus.CACHED: "reused",
    ProcessStatus.FAILED: "failed",
    ProcessStatus.SKIPPED: "skipped",
    ProcessStatus.INTERRUPTED: "interrupted",
}


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s"


def _note(record: ProcessRecord, explain: bool) -> str:
    if record.status is ProcessStatus.FAILED:
        return record.error or "failed"
    if explain or record.status is ProcessStatus.SKIPPED:
        return record.reason or ""
    return ""


#: The final table lists every process up to this many; beyond, the notable ones.
FULL_TABLE_LIMIT = 40
#: The live view shows the running processes and this many of the latest finished.
RECENT = 5
#: At most this many running processes are listed live (the rest are counted).
RUNNING_SHOWN = 20
NOTABLE = (ProcessStatus.FAILED, ProcessStatus.INTERRUPTED, ProcessStatus.SKIPPED)


class RunDisplay:
    """Receives process updates from the run (from any thread) and renders them.

    An update costs O(1) whatever the graph's size: it replaces one record and
    moves one count. The live view is built only when Rich redraws it (8 times
    a second), from the running processes, the last few finished and the counts,
    so a 5,000-process run draws as fast as a 5-process one.
    """

    def __init__(
        self,
        console: Console,
        order: list[str],
        *,
        quiet: bool = False,
        explain: bool = False,
        live: bool | None = None,
    ) -> None:
        self.console = console
        self.quiet = quiet
        self.explain = explain
        self.records = {name: ProcessRecord(name) for name in order}
        self._statuses = dict.fromkeys(order, ProcessStatus.PENDING)
        self._counts: dict[ProcessStatus, int] = {ProcessStatus.PENDING: len(self.records)}
        self._running: dict[str, None] = {}  # insertion-ordered set
        self._recent: deque[str] = deque(maxlen=RECENT)
        self._lock = threading.Lock()
        use_live = console.is_terminal if live is None else live
        self._live = (
            Live(
                console=console,
                transient=True,
                refresh_per_second=8,
                get_renderable=self._view,
            )
            if use_live and not quiet
            else None
        )

    def __enter__(self) -> RunDisplay:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()

    def update(self, record: ProcessRecord) -> None:
        with self._lock:
            self._record(record)
            if self._live is None and not self.quiet and record.status is not ProcessStatus.RUNNING:
                line = self._line(record)
                if self.console.color_system is None:
                    # Without colour a line is its text: written directly, it costs a
                    # tenth of rendering it (which a 5,000-process log notices).
                    self.console.file.write(line.plain + "\n")
                    self.console.file.flush()
                else:
                    self.console.print(line, highlight=False)

    def _record(self, record: ProcessRecord) -> None:
        # The engine may send the same record object again, changed: the status
        # counted for a name is kept apart from the record.
        previous = self._statuses.get(record.name)
        if previous is not None:
            self._counts[previous] -= 1
        self._counts[record.status] = self._counts.get(record.status, 0) + 1
        self._statuses[record.name] = record.status
        self.records[record.name] = record
        if record.status is ProcessStatus.RUNNING:
            self._running[record.name] = None
        else:
            self._running.pop(record.name, None)
            if record.status is not ProcessStatus.PENDING:
                self._recent.append(record.name)

    def _line(self, record: ProcessRecord) -> Text:
        line = Text(f"  {LABELS[record.status]:<8}", style=STYLES[record.status])
        line.append(f" {record.name}")
        if record.status is ProcessStatus.COMPLETED:
            line.append(f"  {_seconds(record.duration)}", style="dim")
        note = _note(record, self.explain)
        if note:
            line.append(f"  {note}", style="dim")
        return line

    def _counts_text(self) -> str:
        return ", ".join(f"{n} {LABELS[status]}" for status, n in self._counts.items() if n)

    def _view(self) -> Group:
        """The live view: counts, the running processes, the latest finished."""
        with self._lock:
            running = list(itertools.islice(self._running, RUNNING_SHOWN))
            hidden = len(self._running) - len(running)
            recent = [name for name in self._recent if name not in self._running]
            shown = [self.records[name] for name in (*recent, *running)]
            counts = self._counts_text()
        parts: list[Any] = [self._table(shown)]
        if hidden:
            parts.append(Text(f"  ... and {hidden} more running", style="dim"))
        parts.append(Text(counts, style="dim"))
        return Group(*parts)

    def _table(self, records: Iterable[ProcessRecord]) -> Table:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for column in ("process", "status", "time", "attempts", "note"):
            table.add_column(column)
        for record in records:
            table.add_row(
                record.name,
                Text(LABELS[record.status], style=STYLES[record.status]),
                _seconds(record.duration) if record.status is ProcessStatus.COMPLETED else "",
                str(record.attempts) if record.attempts > 1 else "",
                _note(record, self.explain),
            )
        return table

    def summary(self, report: Mapping[str, Any]) -> None:
        """The final table (unless quiet) and the one-line verdict.

        Up to ``FULL_TABLE_LIMIT`` processes the table lists them all; a larger
        run lists the failed, interrupted and skipped ones and says where the
        whole list is (``mlops runs PROJECT show RUN``).
        """
        if not self.quiet and self._live is not None:
            records = list(self.records.values())
            if len(records) <= FULL_TABLE_LIMIT:
                self.console.print(self._table(records))
            else:
                notable = [r for r in records if r.status in NOTABLE][:FULL_TABLE_LIMIT]
                if notable:
                    self.console.print(self._table(notable))
                project = report.get("project") or "PROJECT"
                self.console.print(
                    Text(
                        f"{len(records) - len(notable)} more; `mlops runs {project} show "
                        f"{report.get('run_id')}` lists every process",
                        style="dim",
                    ),
                    highlight=False,
                )
        counts: dict[str, int] = {}
        for state, n in self._counts.items():
            if n:
                counts[LABELS[state]] = counts.get(LABELS[state], 0) + n
        parts = ", ".join(f"{n} {label}" for label, n in counts.items())
        status = str(report.get("status"))
        style = "green" if status == "completed" else "bold red"
        duration = report.get("duration") or 0.0
        line = Text(f"{status}", style=style)
        line.append(f": run {report.get('run_id')} of {report.get('project')} ")
        line.append(f"({parts}) in {_seconds(float(duration))}")
        self.console.print(line, highlight=False)


class BuildProgress:
    """An environment build as it goes: a line per step, and on a terminal a live line.

    Steps ("creating ...", "installing with uv: ...") are printed as lines,
    terminal or not, so a log shows what took the time. On a terminal the
    installer's latest output (what it resolves, downloads, installs) is shown
    on one transient line under them, replaced as each line comes.
    """

    def __init__(self, console: Console, *, live: bool | None = None) -> None:
        self.console = console
        self.live = console.is_terminal if live is None else live
        self._lock = threading.Lock()
        self._status: Live | None = None

    def step(self, text: str) -> None:
        with self._lock:
            self.console.print(Text(f"mlops: {text}"), highlight=False, soft_wrap=True)

    def output(self, line: str) -> None:
        """One line of installer output: shown live on a terminal, else left to the log."""
        if not self.live:
            return
        shown = Text(f"  {' '.join(line.split())}", style="dim", no_wrap=True, overflow="ellipsis")
        with self._lock:
            if self._status is None:
                self._status = Live(shown, console=self.console, transient=True)
                self._status.start()
            else:
                self._status.update(shown)

    def close(self) -> None:
        with self._lock:
            if self._status is not None:
                self._status.stop()
                self._status = None


__all__ = ["BuildProgress", "RunDisplay"]
