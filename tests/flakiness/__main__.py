"""``python -m flakiness [HISTORY] [--quarantine FILE]``: the flaky report without running tests."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from flakiness import history, quarantine
from flakiness.report import DEFAULT_HISTORY, DEFAULT_QUARANTINE, report_lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flakiness", description=__doc__)
    parser.add_argument("history", nargs="?", type=Path, default=Path(DEFAULT_HISTORY))
    parser.add_argument("--quarantine", type=Path, default=Path(DEFAULT_QUARANTINE))
    args = parser.parse_args(argv)
    try:
        quarantined = quarantine.load(args.quarantine)
    except quarantine.QuarantineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tests = history.load(args.history)
    for line in report_lines(tests, history.Settings(), quarantined, args.history):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
