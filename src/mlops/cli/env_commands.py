"""The commands on what runs are served and run in: ``env list``, ``env prune`` and ``serve``."""

from __future__ import annotations

import json
import os

import click

from mlops.cli.output import echo_table, human_size
from mlops.cli.state import CliState, accept_global_options, pass_state


@click.group("env")
def env_group() -> None:
    """Project environments, built once per spec under .mlops/envs."""


@env_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def env_list_command(state: CliState, as_json: bool) -> None:
    """Show every environment: manager, state, size and the projects using it."""
    from mlops.environment.inventory import list_environments
    from mlops.session.platform import MLPlatform

    platform = MLPlatform(state.workspace())
    used = platform.environments_in_use()
    records = list_environments(platform.workspace.envs_dir)
    if as_json:
        rows = [{**r.to_json(), "used_by": used.get(r.name, [])} for r in records]
        click.echo(json.dumps(rows, indent=2))
        return
    if not records:
        click.echo(f"No environments in {platform.workspace.envs_dir}")
        return
    table = [["NAME", "STATE", "SIZE", "TOOL", "CHANNELS", "USED BY"]]
    for r in records:
        state_text = "ready" if r.complete else "incomplete"
        users = ", ".join(used.get(r.name, [])) or "-"
        table.append([r.name, state_text, human_size(r.size_bytes), r.tool or "-",
                      ", ".join(r.channels) or "-", users])  # fmt: skip
    echo_table(table)


@env_group.command("prune")
@click.option("--all", "everything", is_flag=True, help="Remove every environment.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@pass_state
def env_prune_command(state: CliState, everything: bool, dry_run: bool) -> None:
    """Remove environments no project uses now, and interrupted builds."""
    from mlops.environment.inventory import prune
    from mlops.session.platform import MLPlatform

    platform = MLPlatform(state.workspace())
    keep = set() if everything else set(platform.environments_in_use())
    removed = prune(platform.workspace.envs_dir, keep, everything=everything, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for record in removed:
        click.echo(f"{verb} {record.name} ({human_size(record.size_bytes)})")
    total = human_size(sum(r.size_bytes for r in removed))
    click.echo(f"{verb} {len(removed)} environment(s), {total}.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", help="Require this token (needed off loopback; or $MLOPS_UI_TOKEN).")
@pass_state
def serve_command(state: CliState, host: str, port: int, token: str | None) -> None:
    """Serve the web UI and its JSON API (projects, runs, graph, charts) for this workspace."""
    from mlops.web.serve import serve, settle_token

    settle_token(host, token, os.environ)  # refuse a bad bind before importing the server
    click.echo(f"mlops: serving {state.workspace().root} on http://{host}:{port}/", err=True)
    serve(state.workspace(), host=host, port=port, token=token)


for _command in (env_group, serve_command):
    accept_global_options(_command)


__all__ = ["env_group", "serve_command"]
