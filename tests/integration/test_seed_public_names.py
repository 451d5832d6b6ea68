"""The platform spec's public names, used the way its own test plan uses them.

Each name is imported from where the spec says and exercised for an outcome
(a project on disk, a record, a value), not just for existing.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.projects import ProjectFactory


def test_the_project_commands_work_on_their_own(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    from mlops.main import (
        config_project_command,
        create_project_command,
        delete_project_command,
        list_projects_command,
        run_project_command,
    )

    runner = CliRunner()
    created = runner.invoke(create_project_command, ["seeded"])
    assert created.exit_code == 0, created.output
    assert (tmp_workspace / "projects" / "seeded" / "configs" / "project_config.yaml").is_file()
    listed = runner.invoke(list_projects_command, ["--json"])
    assert [p["id"] for p in json.loads(listed.stdout)] == ["seeded"]
    configured = runner.invoke(config_project_command, ["seeded", "set", "executor.n_workers=2"])
    assert configured.exit_code == 0, configured.output
    assert (
        "n_workers: 2"
        in (tmp_workspace / "projects/seeded/configs/project_config.yaml").read_text()
    )

    make_project("runnable", "from mlops import process\n\n"
                 "@process\ndef one():\n    return 1\n", "one")  # fmt: skip
    ran = runner.invoke(run_project_command, ["runnable", "--local", "-q"])
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.startswith("completed: run ")

    deleted = runner.invoke(delete_project_command, ["seeded", "--force"])
    assert deleted.exit_code == 0, deleted.output
    assert not (tmp_workspace / "projects" / "seeded").exists()


def test_stores_are_created_as_the_spec_calls_them(tmp_workspace: Path) -> None:
    from mlops.storage.factory import KV_FILE, OBJECTS_DIR, create_kv_store, create_object_store

    memory = create_kv_store({"backend": "memory"})
    memory.set("k", {"v": 1})
    assert memory.get("k") == {"v": 1}
    objects = create_object_store({"backend": "local"})
    objects.put("a/b.bin", b"payload")
    assert objects.get("a/b.bin") == b"payload"
    # Without state_dir, both live under the resolved workspace's state folder.
    assert (tmp_workspace / ".mlops" / OBJECTS_DIR / "a" / "b.bin").read_bytes() == b"payload"
    sqlite = create_kv_store(None)
    sqlite.set("k", 2)
    sqlite.close()
    assert (tmp_workspace / ".mlops" / KV_FILE).is_file()


@pytest.mark.parametrize(
    ("module", "names"),
    [("mlops.web.server", ("WORKSPACE_ROOT", "PROJECTS_DIR")),
     ("mlops.cluster.process_runner", ("WORKSPACE_ROOT",))],
    ids=["web-server", "process-runner"],
)  # fmt: skip
def test_workspace_globals_follow_the_environment_after_a_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, names: tuple[str, ...]
) -> None:
    loaded = importlib.import_module(module)
    for workspace in (tmp_path / "first", tmp_path / "second"):
        monkeypatch.setenv("MLOPS_WORKSPACE_DIR", str(workspace))
        loaded = importlib.reload(loaded)
        values = {name: getattr(loaded, name) for name in names}
        assert values["WORKSPACE_ROOT"] == workspace
        if "PROJECTS_DIR" in values:
            assert values["PROJECTS_DIR"] == workspace / "projects"
    assert not (tmp_path / "first").exists()  # reading them creates nothing


def test_setup_environment_returns_the_project_environment(tmp_path: Path) -> None:
    from mlops.environment.setup_env import project_manager
    from mlops.managers.reproducibility_manager import ReproducibilityManager

    manager = project_manager("system", {}, project_dir=tmp_path, envs_dir=tmp_path / "envs")
    environment = ReproducibilityManager().setup_environment(manager)
    assert environment.python_path.exists()
    assert environment.spec_hash == manager.spec.hash_for("system")
