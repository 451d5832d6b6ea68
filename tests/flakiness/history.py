"""Test outcome history and what it says about each test: flaky, broken, or failing in one place.

The history is one JSON file: per test id, its last ``size`` outcomes, each
with the duration, commit, nox session and xdist worker. Several processes
(parallel nox sessions) append to it: :func:`record` takes an exclusive lock
on a sibling ``.lock`` file, re-reads, merges and replaces the file
atomically (mlops' own :mod:`mlops.storage.atomic`), so no session's outcomes
are lost and a reader never sees half a file.

:func:`classify` reads a test's window:

- **broken**: its last ``broken_after`` outcomes all failed. Never a
  quarantine candidate: it needs fixing, not hiding.
- **environment-specific**: within the window, every outcome in some sessions
  failed and every outcome in the others passed ("fails only in conda").
- **flaky**: passes and failures mixed on the same code (the same
  ``commit``, which names the working tree's changes too) with a failure
  rate at or above ``threshold``; or a failure that passed on rerun. A test
  that failed on one state of the code and passes on the next was fixed, not
  flaky.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
PASSED, FAILED, RERUN = "passed", "failed", "rerun"
OUTCOMES = frozenset({PASSED, FAILED, RERUN})


@dataclass(frozen=True)
class Outcome:
    """One run of one test."""

    outcome: str
    duration: float = 0.0
    commit: str = ""
    session: str = "local"
    worker: str = "main"
    at: float = 0.0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(
            outcome=str(data["outcome"]),
            duration=float(data.get("duration", 0.0)),
            commit=str(data.get("commit", "")),
            session=str(data.get("session", "local")),
            worker=str(data.get("worker", "main")),
            at=float(data.get("at", 0.0)),
        )


@dataclass(frozen=True)
class Settings:
    """How much history to keep and how to read it."""

    size: int = 20
    min_runs: int = 3
    threshold: float = 0.1
    broken_after: int = 3


@dataclass
class Verdict:
    test_id: str
    kind: str  # "flaky" | "broken" | "environment" | "stable"
    runs: int
    failure_rate: float
    detail: str = ""
    recent: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ the file


def load(path: Path) -> dict[str, list[Outcome]]:
    """The history at ``path`` (empty when absent); a corrupt file reads as empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}
    tests = data.get("tests", {}) if isinstance(data, dict) else {}
    history: dict[str, list[Outcome]] = {}
    for test_id, entries in tests.items():
        with contextlib.suppress(KeyError, TypeError, ValueError):
            history[str(test_id)] = [Outcome.from_json(e) for e in entries]
    return history


def merge(
    history: Mapping[str, list[Outcome]], new: Mapping[str, Iterable[Outcome]], size: int
) -> dict[str, list[Outcome]]:
    """``history`` with ``new`` appended, each test trimmed to its last ``size`` outcomes."""
    merged = {test_id: list(entries) for test_id, entries in history.items()}
    for test_id, entries in new.items():
        merged[test_id] = [*merged.get(test_id, []), *entries][-size:]
    return merged


def record(path: Path, new: Mapping[str, Iterable[Outcome]], size: int) -> None:
    """Merge ``new`` into the history file under the lock; replace it atomically."""
    # Imported here: reading and reporting need no mlops, only the writing suite does.
    from mlops.storage.atomic import atomic_write_text
    from mlops.storage.file_locks import file_lock

    with file_lock(path.with_name(path.name + ".lock"), what="the flaky-test history"):
        merged = merge(load(path), new, size)
        payload = {
            "version": FORMAT_VERSION,
            "tests": {t: [asdict(o) for o in merged[t]] for t in sorted(merged)},
        }
        atomic_write_text(path, json.dumps(payload, indent=1), durable=False)


# ------------------------------------------------------------------ reading it


def classify(test_id: str, entries: list[Outcome], settings: Settings) -> Verdict:
    window = entries[-settings.size :]
    failures = [e for e in window if e.outcome == FAILED]
    rate = len(failures) / len(window) if window else 0.0
    verdict = Verdict(test_id, "stable", len(window), rate, recent=[e.outcome for e in window])
    last = window[-settings.broken_after :]
    if len(last) == settings.broken_after and all(e.outcome == FAILED for e in last):
        verdict.kind = "broken"
        verdict.detail = f"failed the last {settings.broken_after} runs"
        return verdict
    if any(e.outcome == RERUN for e in window):
        verdict.kind = "flaky"
        verdict.detail = "failed, then passed on rerun"
        return verdict
    if len(window) < settings.min_runs or not failures or len(failures) == len(window):
        return verdict
    by_session: dict[str, set[str]] = {}
    for entry in window:
        by_session.setdefault(entry.session, set()).add(entry.outcome)
    failing = sorted(s for s, seen in by_session.items() if seen == {FAILED})
    mixed = [s for s, seen in by_session.items() if len(seen) > 1]
    by_code: dict[str, set[str]] = {}
    for entry in window:
        by_code.setdefault(entry.commit, set()).add(entry.outcome)
    same_code_mixed = any(len(seen) > 1 for seen in by_code.values())
    if failing and not mixed:
        verdict.kind = "environment"
        verdict.detail = f"fails only in {', '.join(failing)}"
    elif same_code_mixed and rate >= settings.threshold:
        verdict.kind = "flaky"
        verdict.detail = f"failure rate {rate:.0%} over {len(window)} runs"
    return verdict


def verdicts(history: Mapping[str, list[Outcome]], settings: Settings) -> list[Verdict]:
    """Every test that is not stable, worst first (broken, environment, flaky)."""
    order = {"broken": 0, "environment": 1, "flaky": 2}
    found = [classify(t, e, settings) for t, e in history.items()]
    found = [v for v in found if v.kind != "stable"]
    return sorted(found, key=lambda v: (order[v.kind], -v.failure_rate, v.test_id))


__all__ = [
    "FAILED",
    "PASSED",
    "RERUN",
    "Outcome",
    "Settings",
    "Verdict",
    "classify",
    "load",
    "merge",
    "record",
    "verdicts",
]
