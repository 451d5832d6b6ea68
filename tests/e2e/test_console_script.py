"""The installed ``mlops`` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _mlops_script() -> Path:
    script = Path(sys.executable).parent / ("mlops.exe" if os.name == "nt" else "mlops")
    if not script.exists():
        pytest.skip(f"no mlops console script beside {sys.executable} (package not installed)")
    return script


def test_console_script_reports_the_workspace(tmp_path: Path) -> None:
    env = {**os.environ, "MLOPS_WORKSPACE_DIR": str(tmp_path / "ws")}
    done = subprocess.run(
        [str(_mlops_script()), "workspace", "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["root"] == str((tmp_path / "ws").resolve())


def test_console_script_error_is_one_line_with_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = subprocess.run(
        [str(_mlops_script()), "--workspace", str(blocker), "workspace"],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "is a file, not a directory" in done.stderr


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlops.main", "--version"],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.startswith("mlops, version ")
