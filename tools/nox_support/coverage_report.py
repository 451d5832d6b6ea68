"""``coverage.md``: the merged coverage report as markdown, for people and the CI summary.

Built from ``coverage.json`` written with ``show_contexts``: each session runs
under a static coverage context named after it, so the report can say which
environment covered what. The module x session table counts executed
statements per context; coverage.py records contexts per line, not per branch,
so that table is line coverage while the totals include branches.

``python -m nox_support.coverage_report`` is ``nox -s coverage-combine``:
every default session must have left its ``.coverage.<session>`` or a note
saying why it skipped (``.nox/_reports/<session>.skipped``). A session nox
skipped because it found no interpreter leaves no note: one is made here
when the interpreter is still missing, except on CI for a Python that
``MLOPS_ALLOW_MISSING_PYTHONS`` does not name (a list, or ``all``). A session
that left nothing fails the merge by name unless ``--partial`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
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


# ------------------------------------------------------------------ the merge

SKIP_NOTE = ".skipped"


def allows_missing(version: str, allowed: str) -> bool:
    """Whether ``MLOPS_ALLOW_MISSING_PYTHONS`` (``3.14``, ``3.13,3.14``, ``all``) covers it."""
    names = {part.strip() for part in allowed.replace(" ", ",").split(",") if part.strip()}
    return "all" in names or version in names


def missing_interpreters(
    silent: Iterable[str],
    interpreters: Mapping[str, str],
    environ: Mapping[str, str],
    found: Callable[[str], bool],
) -> dict[str, str]:
    """Skip notes for the ``silent`` sessions (no data, no note) whose interpreter is missing.

    ``interpreters`` maps a session to what nox looks for (``3.12``, a path);
    on CI a missing version gets a note only when it is allowed to be missing
    (pyenv's own interpreter always: its session is optional where pyenv is absent).
    """
    on_ci = bool(environ.get("CI", "").strip())
    allowed = environ.get("MLOPS_ALLOW_MISSING_PYTHONS", "")
    notes = {}
    for name in silent:
        spec = interpreters.get(name)
        if spec is None or found(spec):
            continue
        if on_ci and os.sep not in spec and not allows_missing(spec, allowed):
            continue
        notes[name] = f"Python {spec} not found (nox looks on PATH, and at pyenv's PYENV_VERSION)"
    return notes


def _found_by_nox(spec: str) -> bool:
    from python_discovery import get_interpreter  # what nox finds interpreters with

    return get_interpreter(spec) is not None


def _coverage(*args: str) -> int:
    from coverage.cmdline import main as coverage_main

    return coverage_main(list(args)) or 0


def main(argv: Sequence[str] | None = None, found: Callable[[str], bool] = _found_by_nox) -> int:
    parser = argparse.ArgumentParser(prog="python -m nox_support.coverage_report")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--expected", nargs="*", default=[], help="the default run's sessions")
    parser.add_argument("--interpreters", nargs="*", default=[], metavar="SESSION=PYTHON")
    parser.add_argument("--partial", action="store_true", help="merge what there is")
    args = parser.parse_args(argv)
    root, reports = args.root, args.root / ".nox" / "_reports"
    data_files = sorted(p for p in root.glob(".coverage.*") if p.is_file())
    if not data_files:
        print("no .coverage.<session> files at the repository root; run a tests session "
              "first (nox -s tests-3.11) or download the CI coverage artifacts here",
              file=sys.stderr)  # fmt: skip
        return 1
    notes = {p.name.removesuffix(SKIP_NOTE): p.read_text("utf-8").strip()
             for p in reports.glob(f"*{SKIP_NOTE}")}  # fmt: skip
    present = {p.name.removeprefix(".coverage.") for p in data_files}
    silent = [n for n in args.expected if n not in present and n not in notes]
    specs = dict(item.split("=", 1) for item in args.interpreters)
    notes |= missing_interpreters(silent, specs, os.environ, found)
    account = account_for_sessions(args.expected, (p.name for p in data_files), notes)
    for name, reason in account.skipped.items():
        print(f"{name}: skipped, no coverage ({reason})")
    if account.missing and not args.partial:
        print(f"no coverage from {', '.join(account.missing)}: not run, or broken before its "
              "tests; a total without them would not be the matrix's. Run them "
              "(nox -s NAME), or merge what there is: nox -s coverage-combine -- --partial",
              file=sys.stderr)  # fmt: skip
        return 1
    combined = str(root / ".coverage")
    Path(combined).unlink(missing_ok=True)
    if status := _coverage("combine", "--keep", f"--data-file={combined}", *map(str, data_files)):
        return status
    # A report combines the data files beside its own again, and deletes them unless kept.
    kept = ("--keep-combined", f"--data-file={combined}")
    for kind in ("html", "xml", "json"):  # each would enforce fail_under; only `report` should
        if status := _coverage(kind, "--fail-under=0", "--quiet", *kept):
            return status
    with (root / "pyproject.toml").open("rb") as handle:
        fail_under = float(tomllib.load(handle)["tool"]["coverage"]["report"]["fail_under"])
    from nox_support import test_health

    health = test_health.render(root)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "health.md").write_text(health, encoding="utf-8")
    report = json.loads((root / "coverage.json").read_text(encoding="utf-8"))
    markdown = f"{render(report, fail_under)}\n{account.markdown()}\n{health}"
    (root / "coverage.md").write_text(markdown, encoding="utf-8")
    print("wrote htmlcov/, coverage.xml, coverage.json, coverage.md (with the test health)")
    return _coverage("report", *kept)


if __name__ == "__main__":
    raise SystemExit(main())
