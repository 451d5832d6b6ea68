"""A project's past runs: find one by name, compare several, delete one.

Runs are named by id, by a unique prefix of one, or as ``latest`` and
``previous``. :func:`compare` lines up what a run was given and what it
gave: the run's parameters (``run.<name>``), each process's parameters
(``<process>.<name>``, what its cache key covered) and the metrics, each row
marked when the runs differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops.errors import ConfigError
from mlops.storage.interfaces.kv_store import KVStore
from mlops.tracking.experiment_tracker import flat_params
from mlops.tracking.run_records import RUNS_PREFIX, get_run, list_runs
from mlops.tracking.sweep_records import find_metric

RELATIVE_NAMES = ("latest", "previous")


def resolve_run(kv: KVStore, name: str, project: str) -> str:
    """The id of the run ``name`` stands for; a ConfigError when none or several match."""
    runs = [str(r["run_id"]) for r in list_runs(kv)]
    if not runs:
        raise ConfigError(
            f"project {project} has no runs yet", hint=f"run it with `mlops run {project}`"
        )
    if name in RELATIVE_NAMES:
        index = -1 if name == "latest" else -2
        if len(runs) < -index:
            raise ConfigError(f"project {project} has only one run: there is no previous run")
        return runs[index]
    if name in runs:
        return name
    matches = [run for run in runs if run.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError(
            f"run {name!r} of {project} is ambiguous: {len(matches)} runs start with it",
            hint="give more of the id: " + ", ".join(matches[:3]),
        )
    raise ConfigError(
        f"project {project} has no run {name!r}",
        hint=f"list them with `mlops runs {project}` (or use latest / previous)",
    )


def load_run(kv: KVStore, name: str, project: str) -> dict[str, Any]:
    record = get_run(kv, resolve_run(kv, name, project))
    if record is None:  # deleted between the listing and the read
        raise ConfigError(f"project {project} has no run {name!r}")
    return record


def run_row(summary: Mapping[str, Any], metrics: Sequence[str] = ()) -> dict[str, Any]:
    """One line of ``mlops runs``: id, status, start, duration, counts, chosen metrics."""
    counts = summary.get("counts") or {}
    values = summary.get("metrics") or {}
    return {
        "run_id": summary.get("run_id"),
        "status": summary.get("status"),
        "started_at": summary.get("started_at"),
        "duration": summary.get("duration"),
        "ran": counts.get("completed", 0),
        "reused": counts.get("cached", 0),
        "failed": counts.get("failed", 0),
        "metrics": {name: metric_value(values, name) for name in metrics},
        "sweep": (summary.get("sweep") or {}).get("sweep_id"),
    }


def metric_value(values: Mapping[str, Any], name: str) -> Any:
    """A metric by ``process.metric``, or by its name alone when one process gives it."""
    key = find_metric(values, name)
    return values.get(key) if key else None


#: The config's prefix of the parameters every process can take by name.
MODEL_PARAMETERS = "model.parameters."


def param_value(summary: Mapping[str, Any], key: str) -> Any:
    """A run's parameter: a model parameter by its name (``alpha``, ``model.C``) or its config
    key (``model.parameters.alpha``, as a sweep names it); any other key the run was given
    (``--set``, a sweep's point) by its config key. None when the run has no such parameter."""
    params = flat_params(summary.get("params") or {})
    name = key.removeprefix(MODEL_PARAMETERS)
    if name in params:
        return params[name]
    return (summary.get("overrides") or {}).get(key)


def param_names(summary: Mapping[str, Any]) -> list[str]:
    """The names :func:`param_value` reads a run's parameters by: the model parameters by
    name, then the other keys the run was given."""
    names = list(flat_params(summary.get("params") or {}))
    overrides = summary.get("overrides") or {}
    return names + [key for key in overrides if not str(key).startswith(MODEL_PARAMETERS)]


def history(kv: KVStore, metrics: Sequence[str] = (), project: str = "") -> list[dict[str, Any]]:
    """Every run of the project as :func:`run_row` gives it, newest first.

    Each of ``metrics`` must name a metric of some run, by ``process.metric`` or by its
    name alone when one process gives it: a ConfigError names those that exist.
    """
    summaries = list_runs(kv)
    if summaries:
        check_metrics([summary.get("metrics") or {} for summary in summaries], metrics, project)
    return [run_row(summary, metrics) for summary in reversed(summaries)]


def check_metrics(
    recorded: Sequence[Mapping[str, Any]], names: Sequence[str], project: str
) -> None:
    """A ConfigError unless each of ``names`` is one metric of the runs that ``recorded``
    (each run's metrics) describes: a ``process.metric`` key, or a unique metric name."""
    keys = sorted({key for metrics in recorded for key in metrics})
    for name in names:
        if name in keys:
            continue
        found = [key for key in keys if key.rsplit(".", 1)[-1] == name]
        if len(found) > 1:
            raise ConfigError(
                f"metric {name!r} of {project} is ambiguous: {', '.join(found)}",
                hint="name it with its process",
            )
        if not found:
            raise ConfigError(
                f"no run of {project} has a metric {name!r}",
                hint=f"metrics: {', '.join(keys)}" if keys else "its runs have no metrics",
            )


def run_values(record: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What a run was given and what it gave, as ``{"params": {...}, "metrics": {...}}``."""
    params = {f"run.{k}": v for k, v in flat_params(record.get("params") or {}).items()}
    for name, process in (record.get("processes") or {}).items():
        params.update(flat_params(process.get("params") or {}, f"{name}."))
    return {"params": params, "metrics": dict(record.get("metrics") or {})}


@dataclass(frozen=True)
class Comparison:
    """Runs side by side: per section, rows of ``(key, values, differs)``."""

    run_ids: tuple[str, ...]
    rows: dict[str, list[tuple[str, tuple[Any, ...], bool]]]

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": list(self.run_ids),
            **{
                section: [
                    {"key": key, "values": list(values), "differs": differs}
                    for key, values, differs in rows
                ]
                for section, rows in self.rows.items()
            },
        }


_MISSING = None


def compare(records: Sequence[Mapping[str, Any]]) -> Comparison:
    """``records`` side by side; a key a run lacks shows as None (and differs)."""
    values = [run_values(record) for record in records]
    rows: dict[str, list[tuple[str, tuple[Any, ...], bool]]] = {}
    for section in ("params", "metrics"):
        keys = sorted({key for v in values for key in v[section]})
        rows[section] = []
        for key in keys:
            present = [key in v[section] for v in values]
            row = tuple(v[section].get(key, _MISSING) for v in values)
            differs = not all(present) or any(value != row[0] for value in row[1:])
            rows[section].append((key, row, differs))
    return Comparison(tuple(str(r.get("run_id")) for r in records), rows)


def delete_run(kv: KVStore, run_id: str) -> int:
    """Remove a run's records (and its tracking records); how many documents went."""
    keys = [f"{RUNS_PREFIX}{run_id}", *kv.keys(f"{RUNS_PREFIX}{run_id}/")]
    keys += [f"tracking/runs/{run_id}", *kv.keys(f"tracking/runs/{run_id}/")]
    removed = 0
    for key in keys:
        if kv.get(key) is not None:
            kv.delete(key)
            removed += 1
    return removed


__all__ = [
    "MODEL_PARAMETERS",
    "RELATIVE_NAMES",
    "Comparison",
    "check_metrics",
    "compare",
    "delete_run",
    "history",
    "load_run",
    "metric_value",
    "param_names",
    "param_value",
    "resolve_run",
    "run_row",
    "run_values",
]
