"""One closing line for a whole matrix run, from each session's JUnit XML.

Each tests session writes ``.nox/_reports/<session>.xml``; this prints a line
per session and then ``matrix: N passed, N failed, N skipped`` so a CI log ends
with the count for every environment together.

Usage: ``python -m nox_support.junit_summary REPORTS_DIR``
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.passed + other.passed, self.failed + other.failed, self.skipped + other.skipped
        )

    def line(self, label: str) -> str:
        return f"{label}: {self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def read_counts(report: Path) -> Counts:
    """Totals of one pytest JUnit file (errors count as failures)."""
    root = ET.parse(report).getroot()  # noqa: S314 - our own pytest output
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = Counts()
    for suite in suites:
        tests = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        total += Counts(tests - failed - skipped, failed, skipped)
    return total


def summarise(reports: Iterable[Path]) -> list[str]:
    lines = []
    total = Counts()
    for report in sorted(reports):
        counts = read_counts(report)
        lines.append(counts.line(f"  {report.stem}"))
        total += counts
    lines.append(total.line("matrix"))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 1:
        print("usage: python -m nox_support.junit_summary REPORTS_DIR", file=sys.stderr)
        return 2
    reports = list(Path(args[0]).glob("*.xml"))
    if not reports:
        print(f"no JUnit reports in {args[0]}: did any tests session run?", file=sys.stderr)
        return 1
    print("\n".join(summarise(reports)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
