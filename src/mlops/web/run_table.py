"""The runs table of the web API: chosen parameter and metric columns, sorted on request.

A column is a parameter (``param:alpha``, ``param:model.parameters.alpha``) or a
metric (``metric:r2``, ``metric:evaluate.r2``), read as ``mlops runs`` reads them
(:func:`~mlops.tracking.run_history.param_value`, :func:`~mlops.tracking.run_history.metric_value`).
The table is sorted before it is cut into pages, so a page is a slice of the
whole order; runs without the sorted value come last in either direction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops.errors import ConfigError
from mlops.reporting.kv_utils import check_part
from mlops.tracking.run_history import metric_value, param_names, param_value

#: The run's own fields the table sorts by, besides its chosen columns.
FIELDS = ("started_at", "run_id", "status", "duration")
#: At most this many chosen columns of each kind.
MAX_COLUMNS = 20


@dataclass(frozen=True)
class Columns:
    """The chosen columns: parameter names and metric names, in the order given."""

    params: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()

    @classmethod
    def checked(cls, params: Sequence[str], metrics: Sequence[str]) -> Columns:
        """The columns asked for; a ConfigError naming a bad name or too many columns."""
        for names, kind in ((params, "parameter"), (metrics, "metric")):
            if len(names) > MAX_COLUMNS:
                raise ConfigError(f"{len(names)} {kind} columns asked for: at most {MAX_COLUMNS}")
            for name in names:
                check_part(name, kind)
        return cls(tuple(dict.fromkeys(params)), tuple(dict.fromkeys(metrics)))

    def of(self, run: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        values = run.get("metrics") or {}
        return {
            "params": {name: param_value(run, name) for name in self.params},
            "metrics": {name: metric_value(values, name) for name in self.metrics},
        }


def check_sort(sort: str) -> tuple[str, str]:
    """``sort`` as (kind, name): ``("field", "started_at")``, ``("param", "alpha")``, ..."""
    kind, colon, name = sort.partition(":")
    if not colon and sort in FIELDS:
        return "field", sort
    if colon and kind in ("param", "metric") and name:
        return kind, check_part(name, kind if kind == "metric" else "parameter")
    raise ConfigError(
        f"cannot sort runs by {sort!r}",
        hint=f"sort by one of {', '.join(FIELDS)}, param:NAME or metric:NAME",
    )


def sorted_runs(
    runs: Sequence[Mapping[str, Any]], sort: tuple[str, str], *, descending: bool
) -> list[Mapping[str, Any]]:
    """``runs`` (newest first) ordered by ``sort``; those without its value last, newest
    first; equal values keep the newest first."""
    kind, name = sort

    def value(run: Mapping[str, Any]) -> Any:
        if kind == "param":
            return param_value(run, name)
        if kind == "metric":
            return metric_value(run.get("metrics") or {}, name)
        return run.get(name)

    found = [(run, value(run)) for run in runs]
    present = [(run, v) for run, v in found if not _missing(v)]
    ordered = sorted(present, key=lambda pair: _order_key(pair[1]), reverse=descending)
    return [run for run, _ in ordered] + [run for run, v in found if _missing(v)]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _order_key(value: Any) -> tuple[int, Any]:
    """Numbers by value, then text, then anything else by its JSON text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0, float(value)
    if isinstance(value, str):
        return 1, value
    return 2, json.dumps(value, sort_keys=True, default=str)


def sweep_of(run: Mapping[str, Any]) -> str | None:
    """The id of the sweep the run is a point of, if any."""
    sweep = run.get("sweep")
    return str(sweep.get("sweep_id")) if isinstance(sweep, Mapping) else None


def available(runs: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Every parameter and metric name these runs have, for choosing columns."""
    params: dict[str, None] = {}
    metrics: set[str] = set()
    for run in runs:
        params.update(dict.fromkeys(param_names(run)))
        metrics.update(str(key) for key in run.get("metrics") or {})
    return {"params": sorted(params), "metrics": sorted(metrics)}


__all__ = ["FIELDS", "MAX_COLUMNS", "Columns", "available", "check_sort", "sorted_runs", "sweep_of"]
