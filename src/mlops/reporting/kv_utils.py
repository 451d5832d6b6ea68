"""Chart and metric records in a project's KV store.

The store is already namespaced by project (``MLPlatform.open_stores``);
inside it, every record of a run sits under that run:

- ``charts/<run id>/<chart>``: one chart's record (kind, status, where its
  image is or its data, the error when it failed), written by the renderer;
- the metrics of a run are those its processes logged, kept in the run record
  (``runs/<run id>/processes/<name>``); :func:`run_metrics` reshapes them as
  ``{process: {metric: [{"step": s, "value": v}, ...]}}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlops.errors import ConfigError
from mlops.storage.interfaces.kv_store import KVStore
from mlops.tracking.run_records import get_run

CHARTS_PREFIX = "charts/"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_part(value: str, what: str) -> str:
    """``value`` when it is safe as one key segment (a run id, a chart name)."""
    if not _SAFE.match(str(value)) or ".." in str(value):
        raise ConfigError(
            f"{what} {value!r} is not a valid id",
            hint="use letters, digits, '.', '_' and '-' (at most 128, no '..')",
        )
    return value


def chart_key(run_id: str, name: str) -> str:
    return f"{CHARTS_PREFIX}{check_part(run_id, 'run')}/{check_part(name, 'chart')}"


def put_chart_record(kv: KVStore, run_id: str, record: Mapping[str, Any]) -> None:
    """Store ``record`` (it has a ``name``) as the run's chart of that name."""
    kv.set(chart_key(run_id, str(record["name"])), dict(record))


def get_chart_record(kv: KVStore, run_id: str, name: str) -> dict[str, Any] | None:
    value = kv.get(chart_key(run_id, name))
    return value if isinstance(value, dict) else None


def list_chart_records(kv: KVStore, run_id: str) -> list[dict[str, Any]]:
    """The run's chart records, by name."""
    prefix = f"{CHARTS_PREFIX}{check_part(run_id, 'run')}/"
    records = [kv.get(key) for key in sorted(kv.keys(prefix))]
    return [r for r in records if isinstance(r, dict)]


def delete_chart_records(kv: KVStore, run_id: str) -> int:
    prefix = f"{CHARTS_PREFIX}{check_part(run_id, 'run')}/"
    keys = kv.keys(prefix)
    for key in keys:
        kv.delete(key)
    return len(keys)


def run_metrics(kv: KVStore, run_id: str) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every metric the run's processes logged, by process and name, in step order."""
    record = get_run(kv, check_part(run_id, "run"))
    return metrics_of(record or {})


def metrics_of(record: Mapping[str, Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The metrics of an assembled run record (see :func:`run_metrics`)."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for process, entry in (record.get("processes") or {}).items():
        for point in (entry or {}).get("metrics") or []:
            series = found.setdefault(str(process), {}).setdefault(str(point.get("name")), [])
            series.append({"step": point.get("step"), "value": point.get("value")})
    for by_name in found.values():
        for series in by_name.values():
            series.sort(key=lambda p: (p["step"] is None, p["step"] or 0))
    return found


__all__ = [
    "CHARTS_PREFIX",
    "chart_key",
    "check_part",
    "delete_chart_records",
    "get_chart_record",
    "list_chart_records",
    "metrics_of",
    "put_chart_record",
    "run_metrics",
]
