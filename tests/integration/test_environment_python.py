"""A project asking for a Python mlops cannot run in is refused when its config is read:
one line naming the Pythons mlops runs in, exit 2, nothing built."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.cli import run_mlops


@pytest.mark.parametrize(
    ("manager", "python"), [("venv", "2.7"), ("pyenv", "3.10.4"), ("conda", "==3.8")]
)
def test_an_old_python_is_one_line_before_anything_is_built(
    tmp_path: Path, manager: str, python: str
) -> None:
    workspace = tmp_path / "ws"
    assert run_mlops(workspace, "create", "old").returncode == 0
    config = workspace / "projects" / "old" / "configs" / "project_config.yaml"
    text = config.read_text()
    config.write_text(text.replace("  system: {}", f"  {manager}: {{python: '{python}'}}"))
    for argv in (("run", "old"), ("config", "old", "validate")):
        done = run_mlops(workspace, *argv)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert f"environment.{manager}.python: Python {python} is older than mlops supports" in (
            lines[0]
        )
        assert "Python 3.11 or newer" in lines[0]
    envs = workspace / ".mlops" / "envs"
    assert not envs.exists() or not any(envs.iterdir())
