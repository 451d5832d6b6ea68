"""A project's sweeps as the web API shows them: one summary each, and one sweep's points.

A sweep's points come best first by its goal, then those without a metric by
index (:func:`~mlops.tracking.sweep_records.ordered_points`, as ``mlops sweeps
show`` lists them); each says which parameters it swept, its metric, status,
why it failed, its rank and whether it is the best, and carries its run's
metrics so any of them can be drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops.tracking.sweep_records import ordered_points


def sweep_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a list of sweeps shows: id, name, spec in brief, status, counts, the best point."""
    spec = record.get("spec") or {}
    points = _points(record)
    counts: dict[str, int] = {"points": len(points)}
    for point in points:
        status = str(point.get("status"))
        counts[status] = counts.get(status, 0) + 1
    best = record.get("best")
    return {
        "sweep_id": record.get("sweep_id"),
        "name": record.get("name"),
        "status": record.get("status"),
        "method": spec.get("method"),
        "metric": spec.get("metric"),
        "goal": spec.get("goal") or "minimize",
        "parameters": list(spec.get("parameters") or {}),
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "duration": record.get("duration"),
        "resumed_from": record.get("resumed_from"),
        "error": record.get("error"),
        "counts": counts,
        "best": _point(best, best_index=best.get("index"), rank=1)
        if isinstance(best, Mapping)
        else None,
        **({"store": record["store"]} if "store" in record else {}),
    }


def sweep_detail(
    record: Mapping[str, Any], runs: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """One sweep: its summary, its spec, and its points in rank order (``runs``: the
    project's run summaries by id, for each point's metrics)."""
    best = record.get("best")
    best_index = best.get("index") if isinstance(best, Mapping) else None
    ordered = ordered_points({**record, "points": _points(record)})
    rank = 0
    points = []
    for point in ordered:
        ranked = isinstance(point.get("metric"), int | float)
        rank += ranked
        run = runs.get(str(point.get("run_id"))) or {}
        points.append(
            {
                **_point(point, best_index=best_index, rank=rank if ranked else None),
                "metrics": dict(run.get("metrics") or {}),
            }
        )
    return {**sweep_summary(record), "spec": dict(record.get("spec") or {}), "points": points}


def _points(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The record's points that are points (a damaged record's others are left out)."""
    points = record.get("points")
    if not isinstance(points, list):
        return []
    return [p for p in points if isinstance(p, Mapping) and isinstance(p.get("index"), int)]


def _point(point: Mapping[str, Any], *, best_index: Any, rank: int | None) -> dict[str, Any]:
    metric = point.get("metric")
    return {
        "index": point.get("index"),
        "run_id": point.get("run_id"),
        "status": point.get("status"),
        "params": dict(point.get("params") or {}),
        "metric": metric if isinstance(metric, int | float) else None,
        "error": point.get("error"),
        "rank": rank,
        "best": best_index is not None and point.get("index") == best_index,
    }


__all__ = ["sweep_detail", "sweep_summary"]
