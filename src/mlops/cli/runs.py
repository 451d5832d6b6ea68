"""``mlops runs NAME [show RUN | compare RUN RUN... | delete RUN]``: a project's past runs.

Runs are named by id, a unique prefix of one, ``latest`` or ``previous``.
Every listing takes ``--json``; what is compared is what each run was given
(the run's parameters, each process's parameters) and what it gave (metrics).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from mlops.cli.output import echo_table
from mlops.cli.state import CliState, accept_global_options, can_prompt, pass_state
from mlops.errors import ProjectError

if TYPE_CHECKING:
    from mlops.storage.interfaces.kv_store import KVStore


@contextmanager
def _project_runs(state: CliState, name: str) -> Iterator[KVStore]:
    """The KV store holding project ``name``'s runs, closed afterwards."""
    from mlops.managers.run_store import open_runs_store

    kv = open_runs_store(state.workspace(), name)
    try:
        yield kv
    finally:
        kv.close()


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


RUN_ACTIONS = ("show", "compare", "delete")


@click.command("runs")
@click.argument("name")
@click.argument("action", required=False, type=click.Choice(RUN_ACTIONS))
@click.argument("runs", nargs=-1)
@click.option(
    "--metric", "metrics", multiple=True, metavar="NAME", help="List this metric (repeatable)."
)
@click.option("--sweep", "sweep_id", metavar="ID", help="Only the runs of this sweep's points.")
@click.option("--changed", is_flag=True, help="compare: only the rows where the runs differ.")
@click.option("--force", "-f", is_flag=True, help="delete: without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def runs_command(  # noqa: PLR0913 - click passes each of the command's options by name
    state: CliState,
    *,
    name: str,
    action: str | None,
    runs: tuple[str, ...],
    metrics: tuple[str, ...],
    sweep_id: str | None,
    changed: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Project NAME's runs, newest first; or `show RUN`, `compare RUN RUN...`, `delete RUN`.

    A run is named by its id, a unique prefix of it, `latest` or `previous`.
    `compare` puts the runs' parameters (the run's, and each process's) and
    metrics side by side and marks with * the rows where they differ.
    """
    expected = {None: 0, "show": 1, "delete": 1}.get(action)
    if expected is not None and len(runs) != expected:
        usage = f"mlops runs {name} {action} RUN" if action else f"mlops runs {name}"
        raise click.UsageError(f"expected: {usage}")
    if action == "compare" and len(runs) < 2:
        raise click.UsageError("compare needs two runs or more (e.g. latest previous)")
    with _project_runs(state, name) as kv:
        if action is None:
            _list(kv, name, metrics, as_json, sweep_id)
        elif action == "show":
            _show(kv, name, runs[0], as_json)
        elif action == "compare":
            _compare(kv, name, runs, changed=changed, as_json=as_json)
        else:
            _delete(kv, name, runs[0], force=force)


def _list(
    kv: KVStore, name: str, metrics: Sequence[str], as_json: bool, sweep_id: str | None = None
) -> None:
    from mlops.tracking.run_history import history

    rows = history(kv, metrics, name)
    if sweep_id is not None:
        rows = [row for row in rows if str(row.get("sweep") or "").startswith(sweep_id)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"No runs of {name} yet (run it with `mlops run {name}`).")
        return
    header = ["run", "status", "started", "duration", "ran", "reused", "failed", *metrics]
    table = [header]
    for row in rows:
        table.append([
            str(row["run_id"]), str(row["status"]), str(row["started_at"] or "-")[:19],
            _duration(row["duration"]), str(row["ran"]), str(row["reused"]), str(row["failed"]),
            *(_text(row["metrics"][m]) for m in metrics),
        ])  # fmt: skip
    echo_table(table)


def _show(kv: KVStore, name: str, run: str, as_json: bool) -> None:
    from mlops.runtime.param_changes import leaf_values
    from mlops.tracking.run_history import load_run

    record = load_run(kv, run, name)
    if as_json:
        click.echo(json.dumps(record, indent=2, default=str))
        return
    overrides = record.get("overrides") or {}
    for key, value in {
        "run": record.get("run_id"),
        "status": record.get("status"),
        "started": record.get("started_at"),
        "duration": _duration(record.get("duration")),
        "executor": record.get("executor"),
        "overrides": ", ".join(f"{k}={_text(v)}" for k, v in overrides.items()) or "-",
    }.items():
        click.echo(f"{key:<10}{value if isinstance(value, str) else _text(value)}")
    table = [["process", "status", "duration", "params", "why"]]
    for process, document in (record.get("processes") or {}).items():
        params = leaf_values(document.get("params") or {})  # nested ones by their leaves
        shown = ", ".join(f"{k}={_text(v)}" for k, v in params.items()) or "-"
        table.append([
            process, str(document.get("status")), _duration(document.get("duration")),
            shown, str(document.get("reason") or document.get("error") or ""),
        ])  # fmt: skip
    click.echo("")
    echo_table(table)
    for title, values in (
        ("params", leaf_values(record.get("params") or {})),
        ("metrics", record.get("metrics")),
    ):
        if values:
            click.echo("")
            echo_table([[title, "value"], *([k, _text(v)] for k, v in sorted(values.items()))])


def _compare(kv: KVStore, name: str, runs: Sequence[str], *, changed: bool, as_json: bool) -> None:
    from mlops.tracking.run_history import compare, load_run

    comparison = compare([load_run(kv, run, name) for run in runs])
    if as_json:
        click.echo(json.dumps(comparison.to_json(), indent=2, default=str))
        return
    table = [["", "", *comparison.run_ids]]
    for section, rows in comparison.rows.items():
        for key, values, differs in rows:
            if changed and not differs:
                continue
            table.append(["*" if differs else "", f"{section}: {key}", *map(_text, values)])
    if len(table) == 1:
        click.echo("The runs have the same parameters and metrics.")
        return
    echo_table(table)


def _delete(kv: KVStore, name: str, run: str, *, force: bool) -> None:
    from mlops.tracking.run_history import delete_run, resolve_run

    run_id = resolve_run(kv, run, name)
    if not force:
        if not can_prompt():
            raise ProjectError(
                f"not deleting run {run_id} of {name} without confirmation (no terminal to ask on)",
                hint="pass --force to delete without asking",
            )
        if not click.confirm(f"Delete run {run_id} of {name}?", default=False):
            click.echo("Nothing deleted.")
            return
    delete_run(kv, run_id)
    click.echo(f"Deleted run {run_id} of {name}")


accept_global_options(runs_command)


__all__ = ["RUN_ACTIONS", "runs_command"]
