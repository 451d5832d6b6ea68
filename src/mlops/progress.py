"""What ``mlops run`` prints: live progress per process and a summary table.

On a terminal a live table shows each process's state as it changes. Without
a terminal (CI, a pipe) each process gets one line when it finishes, so logs
stay readable. ``quiet`` prints only the final line and errors.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from mlops.core.dask_networkx_executor import ProcessRecord
from mlops.core.graph_types import ProcessStatus

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


class RunDisplay:
    """Receives process updates from the run (from any thread) and renders them."""

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
        self._lock = threading.Lock()
        use_live = console.is_terminal if live is None else live
        self._live = (
            Live(self._table(), console=console, transient=True, refresh_per_second=8)
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
            self.records[record.name] = record
            if self._live is not None:
                self._live.update(self._table())
            elif not self.quiet and record.status is not ProcessStatus.RUNNING:
                line = Text(f"  {LABELS[record.status]:<8}", style=STYLES[record.status])
                line.append(f" {record.name}")
                if record.status is ProcessStatus.COMPLETED:
                    line.append(f"  {_seconds(record.duration)}", style="dim")
                note = _note(record, self.explain)
                if note:
                    line.append(f"  {note}", style="dim")
                self.console.print(line, highlight=False)

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for column in ("process", "status", "time", "attempts", "note"):
            table.add_column(column)
        for record in self.records.values():
            table.add_row(
                record.name,
                Text(LABELS[record.status], style=STYLES[record.status]),
                _seconds(record.duration) if record.status is ProcessStatus.COMPLETED else "",
                str(record.attempts) if record.attempts > 1 else "",
                _note(record, self.explain),
            )
        return table

    def summary(self, report: Mapping[str, Any]) -> None:
        """The final table (unless quiet) and the one-line verdict."""
        if not self.quiet and self._live is not None:
            self.console.print(self._table())
        counts: dict[str, int] = {}
        for record in self.records.values():
            label = LABELS[record.status]
            counts[label] = counts.get(label, 0) + 1
        parts = ", ".join(f"{n} {label}" for label, n in counts.items())
        status = str(report.get("status"))
        style = "green" if status == "completed" else "bold red"
        duration = report.get("duration") or 0.0
        line = Text(f"{status}", style=style)
        line.append(f": run {report.get('run_id')} of {report.get('project')} ")
        line.append(f"({parts}) in {_seconds(float(duration))}")
        self.console.print(line, highlight=False)


__all__ = ["RunDisplay"]
