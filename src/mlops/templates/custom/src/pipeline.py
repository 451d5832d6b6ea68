"""The ${project_id} pipeline: load measurements, describe them, fit a line, report.

Each ``@process`` is a node of the graph declared in configs/project_config.yaml.
Arguments are filled by name: ``ctx`` is the run context, an upstream process's
name is its result, anything else is a parameter from the config. ``@step``
functions are cached one call at a time inside the process that calls them.
"""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

from mlops import StepContext, process, step

Row = dict[str, float]


@step
def read_rows(path: str) -> list[Row]:
    with Path(path).open(newline="", encoding="utf-8") as stream:
        return [{"x": float(r["x"]), "y": float(r["y"])} for r in csv.DictReader(stream)]


@step
def drop_outliers(rows: list[Row], z: float) -> list[Row]:
    """Keep rows whose y is within ``z`` standard deviations of the median."""
    ys = [r["y"] for r in rows]
    centre, spread = statistics.median(ys), statistics.pstdev(ys) or 1.0
    return [r for r in rows if abs(r["y"] - centre) <= z * spread]


@process
def load(ctx: StepContext, data_file: str, outlier_z: float) -> list[Row]:
    rows = read_rows(str(Path(ctx.project_dir or ".") / data_file))
    kept = drop_outliers(rows, outlier_z)
    ctx.log_metrics({"rows": len(rows), "outliers_dropped": len(rows) - len(kept)})
    return kept


@process
def stats(ctx: StepContext, load: list[Row]) -> dict[str, float]:
    xs, ys = [r["x"] for r in load], [r["y"] for r in load]
    summary = {
        "n": float(len(load)),
        "mean_x": statistics.fmean(xs),
        "mean_y": statistics.fmean(ys),
        "stdev_y": statistics.stdev(ys),
        "correlation": statistics.correlation(xs, ys),
    }
    ctx.log_metric("correlation", summary["correlation"])
    return summary


@process
def fit(ctx: StepContext, load: list[Row], learning_rate: float, epochs: int) -> dict[str, float]:
    """Least squares by gradient descent on standardised x, logging the loss as it goes."""
    xs = [r["x"] for r in load]
    centre, scale = statistics.fmean(xs), statistics.pstdev(xs) or 1.0
    points = [((r["x"] - centre) / scale, r["y"]) for r in load]
    weight = bias = 0.0
    for epoch in range(epochs):
        errors = [weight * x + bias - y for x, y in points]
        gradient = math.fsum(e * x for e, (x, _) in zip(errors, points, strict=True))
        weight -= learning_rate * 2 * gradient / len(points)
        bias -= learning_rate * 2 * math.fsum(errors) / len(points)
        if epoch % 50 == 0 or epoch == epochs - 1:
            ctx.log_metric("mse", math.fsum(e * e for e in errors) / len(points), step=epoch)
    slope = weight / scale
    intercept = bias - slope * centre
    return {"slope": slope, "intercept": intercept, "mse": _mse(load, slope, intercept)}


def _mse(rows: list[Row], slope: float, intercept: float) -> float:
    return math.fsum((slope * r["x"] + intercept - r["y"]) ** 2 for r in rows) / len(rows)


@process
def report(ctx: StepContext, stats: dict[str, float], fit: dict[str, float]) -> str:
    """Write outputs/report.md and return its text."""
    text = "\n".join(
        [
            "# ${project_id}",
            "",
            f"- rows used: {stats['n']:.0f}",
            f"- correlation: {stats['correlation']:.3f}",
            f"- fitted line: y = {fit['slope']:.3f} x + {fit['intercept']:.3f}",
            f"- mean squared error: {fit['mse']:.3f}",
            "",
        ]
    )
    out = Path(ctx.project_dir or ".") / "outputs" / "report.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    ctx.log_metric("r_squared", 1 - fit["mse"] / stats["stdev_y"] ** 2)
    return text
