"""Run options are declared once, on the request's fields: the command line is made from
them, and a request's own argv asks for it again."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import click
import pytest

from mlops.cli.run_commands import job_run_command, run_command
from mlops.runtime.request import CommandOption, RunRequest

COMMANDS = {"run": run_command, "job": job_run_command}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_declared_option_is_on_its_command_and_nothing_else_is_a_field(command: str) -> None:
    # The global options (--debug, -v, -q) fold into the state, not the command's values.
    options = [p for p in COMMANDS[command].params if isinstance(p, click.Option)]
    params = {p.name: p for p in options if p.expose_value}
    declared = dict(RunRequest.options(command))
    for name, option in declared.items():
        assert name in params, f"{option.flag} is declared for {command} but not offered"
        assert option.flag in params[name].opts
    # The project is the request's subject: NAME for `run`, --project for a batch job.
    fields = {f.name for f in dataclasses.fields(RunRequest)} - {"project"}
    offered = {name for name in params if name in fields}
    assert offered == set(declared), "a request field given on the command line undeclared"


def test_each_declared_option_names_its_kind_and_help() -> None:
    for entry in dataclasses.fields(RunRequest):
        option = entry.metadata.get("option")
        if option is None:
            continue
        assert isinstance(option, CommandOption)
        assert option.flag.startswith("--")
        assert option.help.strip()


def _parsed(command: str, argv: list[str]) -> dict[str, Any]:
    context = COMMANDS[command].make_context(command, argv)
    fields = {f.name for f in dataclasses.fields(RunRequest)}
    return {k: v for k, v in context.params.items() if k in fields}


REQUESTS = [
    RunRequest("demo"),
    RunRequest("demo", from_process="train", use_cache=False, explain=True),
    RunRequest("demo", only="evaluate", executor="processes", n_workers=3, local=True),
    RunRequest("demo", cluster="ansible", scheduler="tcp://10.0.0.1:8786"),
    RunRequest(
        "demo",
        overrides={
            "model.parameters.lr": 0.3,
            "model.parameters.name": 'it\'s "quoted"',
            "model.parameters.start": dt.date(2020, 1, 1),
            "model.parameters.grid": [1, {"a": None}],
            "model.parameters.big": float("inf"),
        },
    ),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=[str(i) for i in range(len(REQUESTS))])
def test_a_requests_argv_asks_for_the_same_request(request_: RunRequest) -> None:
    argv = [request_.project, *request_.to_argv()]
    again = RunRequest(request_.project, **_parsed("run", argv))
    assert again == request_


def test_global_options_come_after_the_declared_ones() -> None:
    request = RunRequest("demo", only="x", verbosity=2, debug=True)
    assert request.to_argv() == ["--only", "x", "-v", "-v", "--debug"]
    assert RunRequest("demo", verbosity=-1).to_argv() == ["-q"]
