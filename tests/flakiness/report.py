"""The flaky report: what the history says, grouped, with quarantine candidates to paste."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flakiness import history, quarantine

DEFAULT_HISTORY = ".nox/flaky-history.json"
DEFAULT_QUARANTINE = "tests/quarantine.yaml"
CANDIDATE_DAYS = 30


def report_lines(
    tests: dict[str, list[history.Outcome]],
    settings: history.Settings,
    quarantined: dict[str, quarantine.Entry],
    path: Path,
) -> list[str]:
    found = history.verdicts(tests, settings)
    lines = [
        "",
        f"flaky report: {len(tests)} tests in {path} (last {settings.size} runs each)",
    ]
    titles = {
        "broken": "BROKEN (fix them; never quarantined)",
        "environment": "FAILING IN ONE ENVIRONMENT",
        "flaky": "FLAKY",
    }
    for kind, title in titles.items():
        group = [v for v in found if v.kind == kind]
        lines.append(f"{title}: {len(group)}")
        for verdict in group:
            mark = " [quarantined]" if verdict.test_id in quarantined else ""
            lines.append(f"  {verdict.test_id}{mark}: {verdict.detail}")
            lines.append(f"    recent: {' '.join(verdict.recent[-10:])}")
    candidates = [v for v in found if v.kind == "flaky" and v.test_id not in quarantined]
    lines.append(f"QUARANTINE CANDIDATES: {len(candidates)}")
    expires = dt.date.today() + dt.timedelta(days=CANDIDATE_DAYS)
    for verdict in candidates:
        lines += [
            f"  - test: {verdict.test_id}",
            f"    reason: {verdict.detail}",
            "    owner: <who fixes it>",
            f"    expires: {expires}",
        ]
    unstable = {v.test_id for v in found}
    recovered = [t for t in sorted(quarantined) if t in tests and t not in unstable]
    lines.append(f"QUARANTINED: {len(quarantined)} ({len(recovered)} stable in the window)")
    for test_id in sorted(quarantined):
        if test_id not in tests:
            state = "no runs recorded"
        else:
            state = "stable: can leave quarantine" if test_id in recovered else "still unstable"
        entry = quarantined[test_id]
        lines.append(f"  {test_id}: {entry.describe()}; {state}")
    return lines


__all__ = ["CANDIDATE_DAYS", "DEFAULT_HISTORY", "DEFAULT_QUARANTINE", "report_lines"]
