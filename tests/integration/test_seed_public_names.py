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
from mlops._moved import MOVED


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


def test_the_public_face_gives_what_users_write() -> None:
    import mlops
    from mlops import StepContext, load_result, process
    from mlops.engine.step_system import StepContext as InEngine
    from mlops.session.results import load_result as in_session

    assert StepContext is InEngine
    assert load_result is in_session
    assert callable(process)
    assert set(mlops.__all__) - {"__version__"} == set(mlops._PUBLIC)
    for name in mlops._PUBLIC:
        assert getattr(mlops, name) is not None, name


def test_importing_mlops_imports_no_layer_of_it() -> None:
    """A project's process module imports mlops; the engine, pydantic and Dask come
    with the first name it uses, not with the package."""
    import subprocess
    import sys

    probe = (
        "import sys, mlops\n"
        "print(sorted(m for m in sys.modules if m.startswith(('mlops.', 'pydantic', 'dask'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['mlops._moved']"


@pytest.mark.parametrize("old", sorted(MOVED))
def test_every_earlier_module_path_imports_the_moved_module_with_a_warning(old: str) -> None:
    import sys
    import warnings

    for name in [n for n in sys.modules if n == old or n.startswith(f"{old}.")]:
        del sys.modules[name]  # a previous test may have imported it under this name
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        earlier = importlib.import_module(old)
    assert earlier is importlib.import_module(MOVED[old])
    assert earlier.__spec__ is not None
    assert earlier.__spec__.name == MOVED[old]  # the real spec, not the alias's
    assert any(
        issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message) for w in caught
    )


def test_a_module_split_in_two_keeps_every_name() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mlops.core.graph_types import PipelineGraph, ProcessStatus, RunStatus
    from mlops.config.graph import PipelineGraph as Graph
    from mlops.tracking.status import ProcessStatus as Status

    assert PipelineGraph is Graph
    assert ProcessStatus is Status
    assert RunStatus.COMPLETED.value == "completed"


def test_a_class_is_the_same_by_its_earlier_and_its_new_path() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mlops.core.step_system import StepContext as Earlier
        from mlops.platform import MLPlatform as EarlierPlatform
        from mlops.storage.adapters.memory import MemoryKVStore as EarlierStore
    from mlops import MLPlatform, StepContext
    from mlops.storage.backends.memory import MemoryKVStore

    assert Earlier is StepContext
    assert EarlierPlatform is MLPlatform
    assert EarlierStore is MemoryKVStore
