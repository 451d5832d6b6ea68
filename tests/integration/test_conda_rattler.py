"""Conda environments with no conda binary: the rattler frontend against a local channel.

Real packages, a real solve, a real conda prefix (``conda-meta/``, a relocated
interpreter): only the channel is local, built from this machine's Python.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fixtures.cli import run_mlops
from fixtures.conda_channel import local_conda_channel  # noqa: F401 - a fixture
from fixtures.extras import require
from fixtures.projects import ProjectFactory
from mlops.environment.base import EnvironmentSpec
from mlops.environment.conda_manager import CondaManager
from mlops.errors import EnvSetupError

pytestmark = pytest.mark.slow

require("rattler", reason="the conda extra (py-rattler) is not installed")
require("rattler_build", reason="py-rattler-build (the dev extra) builds the local channel")

PIPELINE = """
from mlops.core.step_system import process

@process
def where():
    import sys
    return sys.prefix
"""


def _manager(envs: Path, project: Path, channel: Path, *dependencies: str) -> CondaManager:
    spec = EnvironmentSpec(
        options={"channels": [str(channel)], "dependencies": list(dependencies)},
        settings={"frontends": "rattler"},
        project_dir=project,
    )
    return CondaManager(spec, envs, environ=dict(os.environ))


def _prefix_of(python: Path) -> dict[str, Any]:
    probe = "import json, sys; print(json.dumps({'prefix': sys.prefix, 'version': sys.version}))"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_conda_env_is_built_from_a_local_channel_and_found_again(
    tmp_path: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    envs, project = tmp_path / "envs", tmp_path / "project"
    manager = _manager(envs, project, local_conda_channel, "python", "pip")
    assert manager.frontend().name == "rattler"
    environment = manager.ensure()
    assert environment.created
    assert environment.tool
    installed = sorted(p.name for p in (manager.path / "conda-meta").glob("*.json"))
    assert [name.split("-")[0] for name in installed] == ["pip", "python"]
    assert Path(_prefix_of(environment.python_path)["prefix"]) == manager.path
    again = _manager(envs, project, local_conda_channel, "python", "pip")
    assert again.path == manager.path
    assert not again.ensure().created


def test_a_failed_solve_says_what_is_missing_and_leaves_nothing(
    tmp_path: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    manager = _manager(
        tmp_path / "envs", tmp_path / "project", local_conda_channel, "python", "no-such-package"
    )
    refused = r"rattler could not create the environment: .*no-such-package"
    with pytest.raises(EnvSetupError, match=refused):
        manager.ensure()
    assert not manager.path.exists()


def test_mlops_run_builds_the_conda_env_once_and_runs_inside_it(
    make_project: ProjectFactory,
    tmp_workspace: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    conda = {"frontends": "rattler", "channels": [str(local_conda_channel)],
             "dependencies": ["python", "pip"]}  # fmt: skip
    make_project("condaproj", PIPELINE, {"where": []}, extra={"environment": {"conda": conda}})
    first = run_mlops(tmp_workspace, "run", "condaproj", timeout=900)
    assert first.returncode == 0, first.stderr
    envs = tmp_workspace / ".mlops" / "envs"
    (prefix,) = [p for p in envs.iterdir() if p.name.startswith("conda-")]
    assert (prefix / "conda-meta").is_dir()
    assert f"running in {prefix} (built in " in first.stderr
    shown = run_mlops(tmp_workspace, "runs", "condaproj", "show", "latest", "--json")
    record = json.loads(shown.stdout)
    assert Path(record["environment"]["executable"]).parent.parent == prefix
    second = run_mlops(tmp_workspace, "run", "condaproj", timeout=300)
    assert second.returncode == 0, second.stderr
    assert f"running in {prefix} (reused)" in second.stderr
