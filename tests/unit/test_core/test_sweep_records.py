"""A sweep's points in rank order, and a sweep named by id, prefix or ``latest``."""

from __future__ import annotations

from typing import Any

import pytest

from mlops.tracking.sweep_records import matching_sweeps, ordered_points


def point(index: int, metric: float | None, status: str = "completed") -> dict[str, Any]:
    return {"index": index, "metric": metric, "status": status}


@pytest.mark.parametrize(
    ("goal", "order"),
    [("minimize", [2, 0, 1, 3]), ("maximize", [0, 2, 1, 3])],
    ids=["minimize", "maximize"],
)
def test_points_are_best_first_and_those_without_a_metric_last_by_index(
    goal: str, order: list[int]
) -> None:
    record = {
        "spec": {"goal": goal},
        "points": [
            point(3, None, "failed"),
            point(0, 0.9),
            point(1, None, "failed"),
            point(2, 0.1),
        ],
    }

    assert [p["index"] for p in ordered_points(record)] == order


SWEEPS = [{"sweep_id": "sweep-b2"}, {"sweep_id": "sweep-b"}, {"sweep_id": "sweep-a1"}]


@pytest.mark.parametrize(
    ("wanted", "found"),
    [("latest", ["sweep-b2"]), ("sweep-a", ["sweep-a1"]), ("sweep-b", ["sweep-b"]),
     ("sweep-", ["sweep-b2", "sweep-b", "sweep-a1"]), ("nope", [])],
    ids=["latest", "unique-prefix", "exact-beats-prefix", "ambiguous", "unknown"],
)  # fmt: skip
def test_a_sweep_is_named_by_latest_its_id_or_a_prefix(wanted: str, found: list[str]) -> None:
    assert [s["sweep_id"] for s in matching_sweeps(SWEEPS, wanted)] == found


def test_latest_names_nothing_when_there_are_no_sweeps() -> None:
    assert matching_sweeps([], "latest") == []
