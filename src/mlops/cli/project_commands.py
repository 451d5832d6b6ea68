"""The commands on projects and the workspace: ``workspace``, ``create``, ``list``, ``info``,
``delete`` and ``config``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mlops import __version__
from mlops.cli.output import echo_info, echo_table
from mlops.cli.state import CliState, accept_global_options, can_prompt, pass_state
from mlops.errors import ExitCode, ProjectError
from mlops.runtime.workspace import infer_source_root


@click.command("workspace")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def workspace_command(state: CliState, as_json: bool) -> None:
    """Show where the workspace is and how it was chosen."""
    ws = state.workspace()
    info = {
        "root": str(ws.root),
        "chosen_by": ws.source.value,
        "projects_dir": str(ws.projects_dir),
        "state_dir": str(ws.state_dir),
        "mlops_source_root": str(infer_source_root()),
        "mlops_version": __version__,
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    width = max(len(key) for key in info)
    for key, value in info.items():
        click.echo(f"{key.ljust(width)}  {value}")


@click.command("create")
@click.argument("name")
@click.option(
    "--template",
    "-t",
    default=None,
    help="Template to start from (an unknown name lists the installed ones); "
    "default: a minimal project.",
)
@pass_state
def create_command(state: CliState, name: str, template: str | None) -> None:
    """Create project NAME in the workspace."""
    info = state.projects().create(name, template=template)
    click.echo(f"Created project {info.id} at {info.path}")


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def list_command(state: CliState, as_json: bool) -> None:
    """List the workspace's projects."""
    projects = state.projects().list()
    if as_json:
        click.echo(json.dumps([p.to_json() for p in projects], indent=2))
        return
    if not projects:
        click.echo(
            f"No projects in {state.workspace().root} (create one with `mlops create NAME`)."
        )
        return
    header = ("PROJECT", "FRAMEWORK", "TEMPLATE", "CREATED", "CONFIG")
    rows = [
        (p.id, p.framework or "-", p.template or "-", p.created_at or "-",
         "valid" if p.valid else "invalid")
        for p in projects
    ]  # fmt: skip
    echo_table([list(header), *(list(r) for r in rows)])


@click.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_state
def info_command(state: CliState, name: str, as_json: bool) -> None:
    """Show a project's location, framework, template and whether its config is valid."""
    echo_info(state.projects().info(name), as_json)


@click.command("delete")
@click.argument("name")
@click.option("--force", "-f", is_flag=True, help="Delete without asking.")
@pass_state
def delete_command(state: CliState, name: str, force: bool) -> None:
    """Delete project NAME and everything in its folder."""
    manager = state.projects()
    if not force and not can_prompt():
        manager.require(name, config=False)
        raise ProjectError(
            f"not deleting project {name!r} without confirmation (no terminal to ask on)",
            hint="pass --force to delete without asking",
        )
    if manager.delete(name, force=force, confirm=lambda q: click.confirm(q, default=False)):
        click.echo(f"Deleted project {name}")
    else:
        click.echo("Nothing deleted.")


CONFIG_ACTIONS = ("show", "get", "set", "validate")


@click.command("config")
@click.argument("name")
@click.argument("action", required=False, type=click.Choice(CONFIG_ACTIONS))
@click.argument("args", nargs=-1)
@click.option(
    "--file",
    "merge_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Merge this YAML file into the config.",
)
@click.option(
    "--local",
    is_flag=True,
    help="validate: check the code in this interpreter, not the project's environment.",
)
@pass_state
def config_command(
    state: CliState,
    *,
    name: str,
    action: str | None,
    args: tuple[str, ...],
    merge_file: Path | None,
    local: bool,
) -> int:
    """Show, query or edit a project's config.

    \b
    mlops config NAME                     show the file
    mlops config NAME get model.name      one value
    mlops config NAME set a.b=1 c=[x, y]  edit (values are YAML; comments are kept)
    mlops config NAME --file patch.yaml   merge a YAML file
    mlops config NAME validate            check it as a run does (config, graph,
                                          and the code: processes and arguments)
    """
    manager = state.projects()
    if merge_file is not None:
        if action is not None:
            raise click.UsageError("--file cannot be combined with an action")
        manager.config_merge(name, merge_file)
        click.echo(f"Merged {merge_file} into {name}'s config")
        return int(ExitCode.OK)
    action = action or "show"
    expected_args = {"show": (0, 0), "get": (1, 1), "set": (1, None), "validate": (0, 0)}[action]
    low, high = expected_args
    if len(args) < low or (high is not None and len(args) > high):
        usage = {"show": "", "get": " KEY", "set": " KEY=VALUE ...", "validate": ""}[action]
        raise click.UsageError(f"usage: mlops config NAME {action}{usage}")
    if action == "show":
        click.echo(manager.config_text(name), nl=False)
    elif action == "get":
        value = manager.config_get(name, args[0])
        if isinstance(value, dict | list):
            from mlops.config.schema import dump_yaml

            click.echo(dump_yaml(value).rstrip())
        else:
            click.echo(
                "null"
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else value
            )
    elif action == "set":
        manager.config_set(name, args)
        click.echo(f"Updated {name}: {', '.join(a.partition('=')[0] for a in args)}")
    else:
        from mlops.cli.running import validate_project

        return validate_project(state.workspace(), name, local=local, verbosity=state.verbosity)
    return int(ExitCode.OK)


for _command in (
    workspace_command,
    create_command,
    list_command,
    info_command,
    delete_command,
    config_command,
):
    accept_global_options(_command)


__all__ = [
    "config_command",
    "create_command",
    "delete_command",
    "info_command",
    "list_command",
    "workspace_command",
]
