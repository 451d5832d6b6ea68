"""``tests/quarantine.yaml``: tests whose failures do not fail the build, for a while.

Each entry names the test id, why it is there, who owns the fix, and when the
entry expires::

    - test: tests/integration/test_x.py::test_y
      reason: races the file watcher on slow disks
      owner: storage
      expires: 2026-12-31

Quarantined tests still run (their outcomes keep feeding the history); a
failure is reported as a non-strict xfail. An expired entry stops the run:
quarantine is a deadline, not a place to forget a test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REQUIRED = ("test", "reason", "owner", "expires")


class QuarantineError(ValueError):
    """The quarantine file is malformed or holds an expired entry."""


@dataclass(frozen=True)
class Entry:
    test: str
    reason: str
    owner: str
    expires: dt.date

    def describe(self) -> str:
        return f"quarantined until {self.expires} ({self.owner}): {self.reason}"


def _entry(raw: Any, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise QuarantineError(f"{where}: expected a mapping with {', '.join(REQUIRED)}")
    missing = [key for key in REQUIRED if not str(raw.get(key) or "").strip()]
    if missing:
        raise QuarantineError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(raw) - set(REQUIRED))
    if unknown:
        raise QuarantineError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(REQUIRED)})"
        )
    expires = raw["expires"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise QuarantineError(
                f"{where}: expires {expires!r} is not a YYYY-MM-DD date"
            ) from None
    if not isinstance(expires, dt.date):
        raise QuarantineError(f"{where}: expires must be a YYYY-MM-DD date")
    return Entry(str(raw["test"]).strip(), str(raw["reason"]), str(raw["owner"]), expires)


def load(path: Path, *, today: dt.date | None = None) -> dict[str, Entry]:
    """The entries by test id; QuarantineError for a bad file or an expired entry."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date like 2026-13-01
        raise QuarantineError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, list):
        raise QuarantineError(f"{path}: expected a list of entries")
    today = today or dt.date.today()
    entries: dict[str, Entry] = {}
    for index, raw in enumerate(data):
        entry = _entry(raw, f"{path} entry {index + 1}")
        if entry.test in entries:
            raise QuarantineError(f"{path} entry {index + 1}: {entry.test} is listed twice")
        if entry.expires < today:
            raise QuarantineError(
                f"{path} entry {index + 1}: the quarantine of {entry.test} expired on "
                f"{entry.expires} ({entry.owner}); fix the test or extend the entry"
            )
        entries[entry.test] = entry
    return entries


__all__ = ["Entry", "QuarantineError", "load"]
