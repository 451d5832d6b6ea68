"""A run's options on the command line, made from their one declaration.

Each field of :class:`~mlops.runtime.request.RunRequest` that a command line
gives carries a :class:`~mlops.runtime.request.CommandOption`; the click
options of ``mlops run`` and ``mlops job run`` are made from those here, and
the values click parses are the request's fields by name. Adding a run option
is adding a field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from mlops.runtime.request import CommandOption, RunRequest

F = TypeVar("F", bound=Callable[..., Any])


def request_options(command: str) -> Callable[[F], F]:
    """Give ``command`` (``run``, ``job``) the options its request fields declare."""

    def decorate(function: F) -> F:
        for name, option in reversed(RunRequest.options(command)):
            function = _click_option(name, option)(function)
        return function

    return decorate


def _click_option(name: str, option: CommandOption) -> Callable[[F], F]:
    common: dict[str, Any] = {"help": option.help, "metavar": option.metavar}
    if option.kind == "switch":
        return click.option(option.flag, name, is_flag=True, default=False, help=option.help)
    if option.kind == "negated switch":
        return click.option(
            option.flag, name, is_flag=True, flag_value=False, default=True, help=option.help
        )
    if option.kind == "assignments":
        return click.option(option.flag, name, multiple=True, callback=_assignments, **common)
    kind: click.ParamType[Any] | None = None
    if option.choices is not None:
        kind = click.Choice(option.choices)
        common.pop("metavar")
    elif option.minimum is not None:
        kind = click.IntRange(min=option.minimum)
    return click.option(option.flag, name, type=kind, **common)


def _assignments(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as ``{dotted key: value}`` (values are YAML)."""
    if not values:
        return {}  # without importing the config machinery
    from mlops.managers.project_manager import parse_assignment

    return dict(parse_assignment(text) for text in values)


__all__ = ["request_options"]
