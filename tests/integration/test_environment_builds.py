"""What a project environment's build says and leaves: a Python mlops cannot run in is
refused when the config is read (one line, exit 2, nothing built); a failed build leaves
no lock file; `config validate` says why it builds before it does."""

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
        assert (
            f"environment.{manager}.python: Python {python} is older than mlops supports"
            in (lines[0])
        )
        assert "Python 3.11 or newer" in lines[0]
    envs = workspace / ".mlops" / "envs"
    assert not envs.exists() or not any(envs.iterdir())


def _project(tmp_path: Path, environment: str) -> Path:
    workspace = tmp_path / "ws"
    assert run_mlops(workspace, "create", "demo").returncode == 0
    config = workspace / "projects" / "demo" / "configs" / "project_config.yaml"
    config.write_text(config.read_text().replace("  system: {}", f"  {environment}"))
    return workspace


def test_a_failed_build_leaves_no_lock_file_and_nothing_to_prune(tmp_path: Path) -> None:
    workspace = _project(tmp_path, "venv: {requirements: [./no-such-folder]}")
    done = run_mlops(workspace, "run", "demo", timeout=600)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    envs = workspace / ".mlops" / "envs"
    left = sorted(p.relative_to(envs).as_posix() for p in envs.rglob("*")) if envs.exists() else []
    assert left in ([], [".locks"]), left
    pruned = run_mlops(workspace, "env", "prune", "--dry-run")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.strip() == "Would remove 0 environment(s), 0 B."


def test_config_validate_says_why_it_builds_the_environment(tmp_path: Path) -> None:
    workspace = _project(tmp_path, "venv: {}")
    done = run_mlops(workspace, "config", "demo", "validate", timeout=600)
    assert done.returncode == 0, done.stderr
    first = done.stderr.splitlines()[0]
    assert first == (
        "mlops: building the venv environment for demo (to check the code in it; "
        "--local checks in this interpreter instead)"
    )
    again = run_mlops(workspace, "config", "demo", "validate", timeout=600)
    assert again.returncode == 0, again.stderr
    assert "building" not in again.stderr
