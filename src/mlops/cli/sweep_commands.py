"""``mlops sweep``: many settings of a project in one command; ``mlops sweeps``: their records.

A sweep is a command of its own rather than ``mlops run --sweep``: it takes
options a run does not (the parameters and how they are searched), and it
answers with a table of points and the best one, where a run answers with one
run's processes. Each point is still an ordinary run: ``mlops runs``, ``runs
show`` and ``runs compare`` read it as any other.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from mlops.cli.options import request_options
from mlops.cli.output import echo_table
from mlops.cli.state import CliState, accept_global_options, pass_state
from mlops.errors import ExitCode

#: The sweep's own options: the parameters and how they are searched.
SPEC_OPTIONS = ("method", "metric", "goal", "parallel", "max_runs", "seed")


@click.command("sweep")
@click.argument("name")
@click.argument("sweep", required=False)
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="Sweep KEY over these values (YAML, comma-separated); repeatable.",
)
@click.option(
    "--param",
    "spaces",
    multiple=True,
    metavar="KEY=SPACE",
    help="Sweep KEY over a space, as YAML: {low: 0.001, high: 0.1, log: true}, "
    "{low: 2, high: 8, step: 2}, {choice: [a, b]}; repeatable.",
)
@click.option(
    "--method", type=click.Choice(["grid", "random", "optuna"]), help="How points are chosen."
)
@click.option("--metric", metavar="NAME", help="The metric that ranks points (process.metric).")
@click.option(
    "--goal", type=click.Choice(["minimize", "maximize"]), help="Rank by lowest or highest."
)
@click.option("--parallel", type=click.IntRange(min=1), help="Points in flight at once.")
@click.option("--max-runs", type=click.IntRange(min=1), help="Most points (random, optuna: drawn).")
@click.option(
    "--seed", type=int, help="The random and optuna draws' seed (default: the project's)."
)
@request_options("sweep")
@pass_state
def sweep_command(state: CliState, /, *, name: str, sweep: str | None, **options: Any) -> int:
    """Run project NAME over many settings: SWEEP of its config's sweeps:, or --grid/--param.

    The points run as one graph: a process whose inputs are the same for several
    points runs once; at most --parallel points run at a time, on the executor
    or cluster a run would use. Each point is an ordinary run, grouped under the
    sweep's record (`mlops sweeps NAME show ID`). Exit status: 0 every point
    completed, 1 some failed (the others went on), 2 a usage or config error.
    """
    grids: tuple[str, ...] = options.pop("grids")
    spaces: tuple[str, ...] = options.pop("spaces")
    settings = {key: options.pop(key) for key in SPEC_OPTIONS}
    request = state.request(name, **options)
    from mlops.cli.running import run_in_project_environment
    from mlops.session.platform import MLPlatform

    platform = MLPlatform(state.workspace())
    project = platform.load_project(name, request.overrides)
    if not request.local:
        argv = ["sweep", name, *([sweep] if sweep else []), *_spec_argv(grids, spaces, settings)]
        child = [*argv, *request.to_argv(), "--local"]
        status = run_in_project_environment(platform, project, child, verbosity=request.verbosity)
        if status is not None:
            return status
    from mlops.config.sweeps import sweep_spec
    from mlops.session.sweeping import run_sweep

    spec = sweep_spec(project.config.sweeps, sweep, grids=grids, spaces=spaces, settings=settings)
    quiet = request.verbosity < 0
    shown = _PointLines(spec.metric, quiet=quiet)
    report = run_sweep(
        request,
        spec,
        name=sweep,
        projects=platform.projects,
        plugins=platform.plugins,
        on_point=shown,
    )
    if not quiet:
        _echo_points(report.record)
    click.echo(_verdict(report.record, name))
    if report.failed:
        for point in report.record["points"]:
            if point.get("error"):
                click.echo(
                    f"mlops: point #{point['index']} ({_params(point)}): {point['error']}", err=True
                )
        return int(ExitCode.RUN_FAILED)
    return int(ExitCode.OK)


def _spec_argv(
    grids: Sequence[str], spaces: Sequence[str], settings: Mapping[str, Any]
) -> list[str]:
    """The sweep's own options, as given, for the same command in the project's environment."""
    argv = [arg for text in grids for arg in ("--grid", text)]
    argv += [arg for text in spaces for arg in ("--param", text)]
    for key, value in settings.items():
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    return argv


class _PointLines:
    """One line per point as it ends: its values, status, metric and what ran."""

    def __init__(self, metric: str | None, *, quiet: bool) -> None:
        self.metric, self.quiet, self.ended = metric, quiet, 0

    def __call__(self, ended: Any, total: int) -> None:
        self.ended += 1
        if self.quiet:
            return
        record = ended.report.record
        counts = record.get("counts") or {}
        value = f"  {self.metric}={ended.metric:.6g}" if ended.metric is not None else ""
        shown = ", ".join(f"{k.rsplit('.', 1)[-1]}={v!r}" for k, v in ended.point.values.items())
        click.echo(
            f"point {self.ended}/{total} #{ended.point.index} ({shown}): "
            f"{record.get('status')}{value}  ran {counts.get('completed', 0)}, "
            f"reused {counts.get('cached', 0)}  run {record.get('run_id')}"
        )
        sys.stdout.flush()


def _params(point: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k.rsplit('.', 1)[-1]}={v!r}" for k, v in (point.get("params") or {}).items()
    )


def _ordered(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Points best first by the goal; those without a metric after, by index."""
    from mlops.tracking.sweep_records import ordered_points

    return ordered_points(record)


def _echo_points(record: Mapping[str, Any]) -> None:
    spec = record.get("spec") or {}
    metric = spec.get("metric")
    keys = list(spec.get("parameters") or {})
    best = (record.get("best") or {}).get("index")
    header = [
        "",
        "point",
        *[k.rsplit(".", 1)[-1] for k in keys],
        *([metric] if metric else []),
        "status",
        "run",
    ]
    rows = [header]
    for point in _ordered(record):
        params = point.get("params") or {}
        value = point.get("metric")
        rows.append(
            [
                "*" if point["index"] == best else "",
                f"#{point['index']}",
                *[_text(params.get(k)) for k in keys],
                *([_text(value)] if metric else []),
                str(point.get("status")),
                str(point.get("run_id")),
            ]
        )
    echo_table(rows)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "-" if value is None else str(value)


def _verdict(record: Mapping[str, Any], project: str) -> str:
    points = record.get("points") or []
    failed = [p for p in points if p.get("status") != "completed"]
    status = str(record.get("status")).replace("_", " ")
    line = f"{status}: sweep {record['sweep_id']} of {project}: {len(points)} points"
    if failed:
        numbers = ", ".join(f"#{p['index']}" for p in failed)
        line += f", {len(failed)} failed ({numbers})"
    best = record.get("best")
    metric = (record.get("spec") or {}).get("metric")
    if best and metric:
        line += f"; best #{best['index']} {metric}={_text(best.get('metric'))} ({_params(best)})"
    return line


@click.command("sweeps")
@click.argument("name")
@click.argument("action", required=False, type=click.Choice(["show"]))
@click.argument("sweep_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def sweeps_command(
    state: CliState, /, *, name: str, action: str | None, sweep_id: str | None, as_json: bool
) -> None:
    """Project NAME's sweeps, newest first; or `show ID`: its points, best first."""
    from mlops.managers.run_store import open_runs_store
    from mlops.tracking.sweep_records import list_sweeps

    if action == "show" and not sweep_id:
        raise click.UsageError(f"expected: mlops sweeps {name} show ID")
    kv = open_runs_store(state.workspace(), name)
    try:
        sweeps = list(reversed(list_sweeps(kv)))
        if action is None:
            if as_json:
                click.echo(json.dumps(sweeps, indent=2))
                return
            _echo_sweeps(sweeps, name)
            return
        record = _resolve(sweeps, str(sweep_id), name)
        if as_json:
            click.echo(json.dumps({**record, "points": list(_ordered(record))}, indent=2))
            return
        click.echo(_verdict(record, name))
        _echo_points(record)
    finally:
        kv.close()


def _echo_sweeps(sweeps: Sequence[Mapping[str, Any]], project: str) -> None:
    if not sweeps:
        click.echo(f"No sweeps of {project} yet (run one with `mlops sweep {project} ...`).")
        return
    rows = [["sweep", "name", "method", "status", "started", "points", "best"]]
    for sweep in sweeps:
        spec = sweep.get("spec") or {}
        best = sweep.get("best") or {}
        shown = f"{spec.get('metric')}={_text(best.get('metric'))}" if best else "-"
        rows.append(
            [
                str(sweep["sweep_id"]),
                str(sweep.get("name") or "-"),
                str(spec.get("method")),
                str(sweep.get("status")),
                str(sweep.get("started_at") or "-")[:19],
                str(len(sweep.get("points") or [])),
                shown,
            ]
        )
    echo_table(rows)


def _resolve(sweeps: Sequence[Mapping[str, Any]], wanted: str, project: str) -> Mapping[str, Any]:
    """A sweep by its id, a unique prefix of it, or ``latest``."""
    from mlops.errors import ConfigError
    from mlops.tracking.sweep_records import matching_sweeps

    matches = matching_sweeps(sweeps, wanted)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError(f"sweep {wanted!r} of {project} is ambiguous: {len(matches)} match")
    raise ConfigError(
        f"project {project} has no sweep {wanted!r}",
        hint=f"list them with `mlops sweeps {project}`",
    )


accept_global_options(sweep_command)
accept_global_options(sweeps_command)


__all__ = ["sweep_command", "sweeps_command"]
