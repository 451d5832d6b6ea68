"""Concurrent writers lose nothing: creates of different projects, sets on one project."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlops.managers.project_manager import ProjectManager
from mlops.runtime.workspace import Workspace

pytestmark = pytest.mark.slow

CREATE = textwrap.dedent(
    """
    import sys
    from mlops.runtime.workspace import Workspace
    from mlops.managers.project_manager import ProjectManager

    manager = ProjectManager(Workspace.resolve(sys.argv[1]))
    for name in sys.argv[2:]:
        manager.create(name)
    """
)
SET = textwrap.dedent(
    """
    import sys
    from mlops.runtime.workspace import Workspace
    from mlops.managers.project_manager import ProjectManager

    manager = ProjectManager(Workspace.resolve(sys.argv[1]))
    worker = sys.argv[2]
    for i in range(15):
        manager.config_set("shared", [f"model.parameters.w{worker}_{i}={i}"])
    """
)


def _run_all(commands: list[list[str]]) -> None:
    procs = [subprocess.Popen(c, stderr=subprocess.PIPE) for c in commands]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()


def test_concurrent_creates_of_different_projects_all_land_in_the_index(tmp_path: Path) -> None:
    names = [[f"p{w}-{i}" for i in range(5)] for w in range(4)]
    _run_all([[sys.executable, "-c", CREATE, str(tmp_path), *group] for group in names])
    expected = sorted(n for group in names for n in group)
    index = json.loads((tmp_path / ".mlops" / "projects.json").read_text())
    assert sorted(index["projects"]) == expected
    assert [p.id for p in ProjectManager(Workspace.resolve(tmp_path)).list()] == expected


def test_concurrent_config_sets_on_one_project_lose_nothing(tmp_path: Path) -> None:
    manager = ProjectManager(Workspace.resolve(tmp_path))
    manager.create("shared")
    _run_all([[sys.executable, "-c", SET, str(tmp_path), str(w)] for w in range(4)])
    params = manager.config_get("shared", "model.parameters")
    written = {key: value for key, value in params.items() if key.startswith("w")}
    assert written == {f"w{w}_{i}": i for w in range(4) for i in range(15)}
