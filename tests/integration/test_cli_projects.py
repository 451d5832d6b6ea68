"""The project commands end to end: the real console script, and click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.cli import run_mlops as _mlops
from mlops.main import cli


def test_lifecycle_through_the_console_script(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    created = _mlops(ws, "create", "demo")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("Created project demo at ")
    edited = _mlops(ws, "config", "demo", "set", "model.parameters.lr=0.01", "model.version=2.1")
    assert edited.returncode == 0, edited.stderr
    assert _mlops(ws, "config", "demo", "get", "model.parameters.lr").stdout.strip() == "0.01"
    assert _mlops(ws, "config", "demo", "get", "model.version").stdout.strip() == "2.1"
    listed = json.loads(_mlops(ws, "list", "--json").stdout)
    assert [p["id"] for p in listed] == ["demo"]
    info = json.loads(_mlops(ws, "info", "demo", "--json").stdout)
    assert info["valid"] is True
    assert info["framework"] == "custom"
    # A new project runs as created: one example process, reading a parameter.
    validated = _mlops(ws, "config", "demo", "validate")
    assert validated.returncode == 0, validated.stderr
    ran = _mlops(ws, "run", "demo", "--local", "--set", "model.parameters.greeting=hi")
    assert ran.returncode == 0, ran.stderr
    assert "(1 ran)" in ran.stdout
    deleted = _mlops(ws, "delete", "demo", "--force")
    assert deleted.returncode == 0
    assert _mlops(ws, "list").stdout.startswith("No projects in ")


def test_runner_lifecycle_and_human_output(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--workspace", str(tmp_path)]
    assert runner.invoke(cli, [*base, "create", "alpha"]).exit_code == 0
    assert runner.invoke(cli, [*base, "create", "beta"]).exit_code == 0
    table = runner.invoke(cli, [*base, "list"]).output.splitlines()
    assert table[0].split() == ["PROJECT", "FRAMEWORK", "TEMPLATE", "CREATED", "CONFIG"]
    assert [line.split()[0] for line in table[1:]] == ["alpha", "beta"]
    info = runner.invoke(cli, [*base, "info", "alpha"]).output
    assert "config     valid" in info
    shown = runner.invoke(cli, [*base, "config", "alpha"]).output
    assert shown.startswith("# Project alpha.")
    merged = tmp_path / "patch.yaml"
    merged.write_text("executor:\n  n_workers: 3\n")
    assert runner.invoke(cli, [*base, "config", "alpha", "--file", str(merged)]).exit_code == 0
    got = runner.invoke(cli, [*base, "config", "alpha", "get", "executor"]).output
    assert got.strip() == "n_workers: 3"


def test_delete_asks_on_a_terminal_and_a_no_keeps_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    base = ["--workspace", str(tmp_path)]
    runner.invoke(cli, [*base, "create", "keep"])
    monkeypatch.setattr("mlops.cli.project_commands.can_prompt", lambda: True)
    result = runner.invoke(cli, [*base, "delete", "keep"], input="n\n")
    assert "Delete project 'keep'" in result.output
    assert "Nothing deleted." in result.output
    assert (tmp_path / "projects" / "keep").is_dir()
    result = runner.invoke(cli, [*base, "delete", "keep"], input="y\n")
    assert "Deleted project keep" in result.output
    assert not (tmp_path / "projects" / "keep").exists()
