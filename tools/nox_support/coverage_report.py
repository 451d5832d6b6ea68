"""``coverage.md``: the merged coverage report as markdown, for people and the CI summary.

Built from ``coverage.json`` written with ``show_contexts``: each session runs
under a static coverage context named after it, so the report can say which
environment covered what. The module x session table counts executed
statements per context; coverage.py records contexts per line, not per branch,
so that table is line coverage while the totals include branches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

NO_CONTEXT = "(no context)"


@dataclass(frozen=True)
class ModuleRow:
    module: str
    statements: int
    missing: int
    branches: int
    partial: int
    percent: float
    by_session: Mapping[str, float]


def module_name(path: str) -> str:
    """``src/mlops/core/workspace.py`` -> ``mlops.core.workspace``."""
    parts = list(PurePosixPath(path.replace("\\", "/")).with_suffix("").parts)
    if "src" in parts:
        parts = parts[parts.index("src") + 1 :]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def session_of(context: str) -> str:
    """The static part of a coverage context (``static|dynamic`` when dynamic contexts are on)."""
    static = context.split("|", 1)[0]
    return static or NO_CONTEXT


def _sessions_per_line(contexts: Mapping[str, Iterable[str]]) -> dict[int, set[str]]:
    return {int(line): {session_of(c) for c in ctxs} for line, ctxs in contexts.items()}


def module_rows(report: Mapping[str, Any]) -> tuple[list[ModuleRow], list[str]]:
    """One row per measured file, and every session seen, in name order."""
    rows: list[ModuleRow] = []
    sessions: set[str] = set()
    for path, data in sorted(report.get("files", {}).items(), key=lambda kv: module_name(kv[0])):
        summary = data["summary"]
        statements = int(summary["num_statements"])
        executable = set(data.get("executed_lines", [])) | set(data.get("missing_lines", []))
        per_line = _sessions_per_line(data.get("contexts", {}))
        file_sessions = {s for ss in per_line.values() for s in ss}
        sessions |= file_sessions
        by_session = {
            session: 100.0
            * sum(1 for line in executable if session in per_line.get(line, set()))
            / max(statements, 1)
            for session in file_sessions
        }
        rows.append(
            ModuleRow(
                module=module_name(path),
                statements=statements,
                missing=int(summary["missing_lines"]),
                branches=int(summary.get("num_branches", 0)),
                partial=int(summary.get("num_partial_branches", 0)),
                percent=float(summary["percent_covered"]),
                by_session=by_session,
            )
        )
    return rows, sorted(sessions)


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _session_cell(row: ModuleRow, session: str) -> str:
    if row.statements == 0:
        return "n/a"
    return _pct(row.by_session[session]) if session in row.by_session else "-"


def render(report: Mapping[str, Any], fail_under: float) -> str:
    """The whole ``coverage.md`` text."""
    totals = report.get("totals", {})
    total = float(totals.get("percent_covered", 0.0))
    rows, sessions = module_rows(report)
    verdict = "passes" if total >= fail_under else "FAILS"
    lines = [
        "# Coverage",
        "",
        (
            f"**Total: {_pct(total)}** (statements and branches) {verdict} the threshold of "
            f"{fail_under:g}%. Statements {totals.get('covered_lines', 0)}/"
            f"{totals.get('num_statements', 0)}, branches {totals.get('covered_branches', 0)}/"
            f"{totals.get('num_branches', 0)}."
        ),
        "",
        f"Sessions merged: {', '.join(f'`{s}`' for s in sessions) or 'none'}.",
        "",
        "## Per module",
        "",
        "| module | statements | missing | branches | partial | cover |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| `{r.module}` | {r.statements} | {r.missing} | {r.branches} | {r.partial} "
        f"| {_pct(r.percent)} |"
        for r in rows
    ]
    lines += [
        "",
        "## Module x session",
        "",
        (
            "Statements each session executed (line coverage; `-`: the session never "
            "imported the module; `n/a`: nothing to execute)."
        ),
        "",
        "| module | " + " | ".join(f"`{s}`" for s in sessions) + " |",
        "| --- | " + " | ".join("---:" for _ in sessions) + " |",
    ]
    for row in rows:
        cells = [_session_cell(row, s) for s in sessions]
        lines.append(f"| `{row.module}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SessionAccount:
    """Which sessions a merge holds, which skipped (and why), which left nothing."""

    merged: tuple[str, ...]
    skipped: Mapping[str, str]
    missing: tuple[str, ...]

    def markdown(self) -> str:
        lines = [f"Sessions merged: {', '.join(self.merged) or 'none'}."]
        lines += [f"Skipped: {name} ({reason})." for name, reason in self.skipped.items()]
        if self.missing:
            lines.append(f"**Missing, so left out of every total: {', '.join(self.missing)}.**")
        return "\n\n".join(lines) + "\n"


def account_for_sessions(
    expected: Iterable[str], data_files: Iterable[str], skip_notes: Mapping[str, str]
) -> SessionAccount:
    """Sort the ``expected`` sessions by what they left: a ``.coverage.<name>`` data file
    (merged), a skip note (skipped, with its reason), or nothing (missing).

    A session that ran and failed still leaves its data; one that left nothing did
    not run or broke before its tests did, and a total without it would not say so.
    """
    present = {name.removeprefix(".coverage.") for name in data_files}
    merged = tuple(sorted(present))
    skipped = {n: skip_notes[n] for n in expected if n not in present and n in skip_notes}
    missing = tuple(n for n in expected if n not in present and n not in skip_notes)
    return SessionAccount(merged, skipped, missing)
