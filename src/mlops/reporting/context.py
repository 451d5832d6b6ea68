"""What a chart function sees: one finished run's metrics, parameters and results."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.cache.step_state_manager import StepStateManager
from mlops.errors import ConfigError
from mlops.reporting.kv_utils import metrics_of
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore


@dataclass
class ChartContext:
    """A run, read back for a chart: ``metrics``, ``params``, ``result(process)``.

    ``parameters`` are the chart's own (``reporting.charts[].parameters``).
    A static chart may call :meth:`save_figure` itself instead of returning
    the figure.
    """

    project_id: str
    run_id: str
    record: Mapping[str, Any]
    kv: KVStore
    objects: ObjectStore
    params: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    chart_name: str | None = None
    saved: list[bytes] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """``{process: {metric: [{"step": s, "value": v}, ...]}}``."""
        return metrics_of(self.record)

    def series(self, process: str, metric: str) -> list[tuple[Any, float]]:
        """``(step, value)`` pairs of one metric (empty when it was never logged)."""
        points = self.metrics.get(process, {}).get(metric, [])
        return [(p["step"], float(p["value"])) for p in points]

    def final(self, process: str, metric: str, default: float | None = None) -> float | None:
        """The last logged value of a metric."""
        points = self.series(process, metric)
        return points[-1][1] if points else default

    @property
    def processes(self) -> dict[str, Mapping[str, Any]]:
        return dict(self.record.get("processes") or {})

    def result(self, process: str) -> Any:
        """A process's result, read from the cache (it must have been stored)."""
        entry = self.processes.get(process)
        if entry is None:
            raise ConfigError(
                f"chart {self.chart_name or '?'}: run {self.run_id} has no process {process!r}",
                hint=f"processes: {', '.join(self.processes) or 'none'}",
            )
        state = StepStateManager(self.kv, self.objects)
        cached = state.lookup(str(entry.get("key") or ""))
        if cached is None:
            raise ConfigError(
                f"chart {self.chart_name or '?'}: the result of {process!r} in run "
                f"{self.run_id} is not stored",
                hint="it did not finish, or caching is off for it",
            )
        return state.load(cached)

    def save_figure(self, figure: Any, *, dpi: int = 100) -> None:
        """Keep a matplotlib figure as this chart's PNG."""
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        self.saved.append(buffer.getvalue())

    def output_dir(self, project_dir: Path) -> Path:
        return project_dir / "outputs" / "charts" / self.run_id


__all__ = ["ChartContext"]
