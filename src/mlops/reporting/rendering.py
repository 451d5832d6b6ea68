"""Render a finished run's charts: after the run, or ``mlops charts render NAME``.

:func:`render_charts` renders every chart ``reporting.charts`` names, each
on its own: a chart that fails is recorded as failed (with its error) and
warned about; the others still render, and the run's status is unchanged.

- A static chart's PNG is an artifact of the run: stored in the object store
  by its content (``object_key`` and ``uri`` in its record) and written to
  ``outputs/charts/<run id>/<name>.png`` in the project (``cache_path``),
  which the web UI serves first.
- A dynamic chart's data is checked (a mapping with a ``series`` list, JSON
  only) and kept in its record.
- A chart whose inputs did not change is not drawn again: its key covers its
  code, its parameters, and every process's cache key and metrics in the run
  (what a chart can read), so a fully cached run reuses the earlier render
  (``reused_from`` in its record) and writes no new file.

Matplotlib draws with the Agg backend: no display, same pixels everywhere.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.cache.process_hashing import code_hash, stable_hash
from mlops.config.schema import ChartConfig
from mlops.errors import ConfigError, MlopsError
from mlops.reporting.context import ChartContext
from mlops.reporting.kv_utils import check_part, put_chart_record
from mlops.reporting.registry import ChartRegistry, ChartSpec, load_entrypoint
from mlops.runtime.clock import utc_now
from mlops.storage.atomic import atomic_writer
from mlops.storage.interfaces.kv_store import KVStore
from mlops.storage.interfaces.object_store import ObjectStore
from mlops.tracking.artifacts import store_file


class ChartWarning(UserWarning):
    """A chart could not be rendered; the run and the other charts are unaffected."""


def chart_spec_for(config: ChartConfig, registry: ChartRegistry) -> ChartSpec:
    """The chart a config entry names (its ``entrypoint``, else its ``name``)."""
    if config.entrypoint:
        return load_entrypoint(config.entrypoint, config.type, config.name)
    spec = registry.get(config.name)
    if "type" in config.model_fields_set and config.type != spec.kind:
        raise ConfigError(
            f"reporting.charts.{config.name}.type: the chart is {spec.kind}, "
            f"the config says {config.type}",
            hint="remove type: (the decorator says it) or make them agree",
        )
    return spec


@dataclass(frozen=True)
class ChartJob:
    """What the charts of one run are drawn from: its record, parameters and stores."""

    project_id: str
    project_dir: Path
    record: Mapping[str, Any]
    kv: KVStore
    objects: ObjectStore
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return str(self.record["run_id"])


def render_charts(
    job: ChartJob,
    charts: Sequence[ChartConfig],
    registry: ChartRegistry,
    *,
    reuse: bool = True,
) -> list[dict[str, Any]]:
    """Render ``charts`` for the run; returns (and stores) one record per chart.

    With ``reuse``, a chart whose inputs match an earlier render is that render.
    """
    project_id, project_dir, run_id = job.project_id, job.project_dir, job.run_id
    record, kv, objects, params = job.record, job.kv, job.objects, job.params
    check_part(run_id, "run")
    outcomes = []
    for config in charts:
        check_part(config.name, "chart")
        context = ChartContext(
            project_id, run_id, record, kv, objects, params or {}, config.parameters, config.name
        )
        key = _chart_input_key(config, registry, record, params or {})
        record_of_chart = _reused(kv, objects, key, run_id) if key and reuse else None
        if record_of_chart is None:
            # Here, not up front: a run whose charts are all reused imports no matplotlib.
            _use_agg()
            record_of_chart = _render_one(config, registry, context, project_dir)
            if key and record_of_chart["status"] == "rendered":
                kv.set(f"{CHART_CACHE_PREFIX}{key}", record_of_chart)
        put_chart_record(kv, run_id, record_of_chart)
        outcomes.append(record_of_chart)
    return outcomes


CHART_CACHE_PREFIX = "charts/inputs/"


def _chart_input_key(
    config: ChartConfig, registry: ChartRegistry, record: Mapping[str, Any], params: Any
) -> str | None:
    """What the chart can read, hashed; None when it cannot be (it then always renders)."""
    try:
        spec = chart_spec_for(config, registry)
        processes = record.get("processes") or {}
        inputs = {
            name: [document.get("key"), document.get("metrics")]
            for name, document in processes.items()
        }
        return stable_hash(
            [code_hash(spec.function), spec.kind, dict(config.parameters), dict(params), inputs]
        )
    except MlopsError:  # a chart that cannot be found or hashed is rendered (and reported)
        return None


def _reused(kv: KVStore, objects: ObjectStore, key: str, run_id: str) -> dict[str, Any] | None:
    earlier = kv.get(f"{CHART_CACHE_PREFIX}{key}")
    if not isinstance(earlier, dict):
        return None
    stored = earlier.get("object_key")
    if stored and not objects.exists(str(stored)):
        return None  # its image is gone: draw it again
    return {
        **earlier,
        "run_id": run_id,
        "reused_from": earlier.get("reused_from") or earlier.get("run_id"),
    }


def _render_one(
    config: ChartConfig, registry: ChartRegistry, context: ChartContext, project_dir: Path
) -> dict[str, Any]:
    run_id, objects = context.run_id, context.objects
    base: dict[str, Any] = {
        "name": config.name,
        "kind": config.type,
        "title": config.name.replace("_", " "),
        "run_id": run_id,
        "created_at": utc_now("seconds"),
    }
    try:
        spec = chart_spec_for(config, registry)
        base.update(kind=spec.kind, title=spec.label)
        result = spec.function(context)
        if spec.kind == "dynamic":
            return {**base, "status": "rendered", "data": _dynamic_data(result, config.name)}
        png = _png(context, result, config.name)
        cache = context.output_dir(project_dir) / f"{config.name}.png"
        with atomic_writer(cache, durable=False) as handle:
            handle.write(png)
        artifact = store_file(objects, cache, f"charts/{config.name}.png")
        return {
            **base,
            "status": "rendered",
            "object_key": artifact["key"],
            "uri": objects.uri(artifact["key"]),
            "cache_path": str(cache),
            "bytes": len(png),
            "artifact": artifact,
        }
    except Exception as exc:  # noqa: BLE001 - one chart failing never fails the others
        message = exc.one_line() if isinstance(exc, MlopsError) else f"{type(exc).__name__}: {exc}"
        warnings.warn(
            f"chart {config.name!r} of run {run_id}: {message}", ChartWarning, stacklevel=2
        )
        return {**base, "status": "failed", "error": message}


def _use_agg() -> None:
    try:
        import matplotlib
    except ImportError:
        return
    matplotlib.use("Agg", force=True)


def _png(context: ChartContext, result: Any, name: str) -> bytes:
    if result is not None and hasattr(result, "savefig"):
        context.save_figure(result)
        _close(result)
    if not context.saved:
        raise ConfigError(
            f"chart {name!r} returned {type(result).__name__}, not a figure",
            hint="return a matplotlib Figure, or call ctx.save_figure(fig)",
        )
    return context.saved[-1]


def _close(figure: Any) -> None:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        return
    plt.close(figure)


def _dynamic_data(result: Any, name: str) -> dict[str, Any]:
    if not isinstance(result, Mapping) or not isinstance(result.get("series"), list):
        raise ConfigError(
            f"dynamic chart {name!r} returned {type(result).__name__}",
            hint='return {"series": [{"name": ..., "points": [[x, y], ...]}], ...}',
        )
    for index, series in enumerate(result["series"]):
        if not isinstance(series, Mapping) or not isinstance(series.get("points"), list):
            raise ConfigError(
                f"dynamic chart {name!r}: series[{index}] needs a 'points' list of [x, y]"
            )
    try:
        data: dict[str, Any] = json.loads(json.dumps(dict(result), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"dynamic chart {name!r}: its data is not plain JSON: {exc}") from exc
    return data


__all__ = ["CHART_CACHE_PREFIX", "ChartJob", "ChartWarning", "chart_spec_for", "render_charts"]
