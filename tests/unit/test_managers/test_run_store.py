"""The runs' store of a project, opened from its config's storage.kv alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.errors import ConfigError, ProjectError
from mlops.managers.run_store import open_runs_store
from mlops.runtime.workspace import Workspace
from mlops.storage.backends.memory import MemoryKVStore
from mlops.storage.backends.sqlite_kv import SqliteKVStore


def project(tmp_path: Path, config: str) -> Workspace:
    workspace = Workspace.resolve(tmp_path / "ws")
    folder = workspace.projects_dir / "demo" / "configs"
    folder.mkdir(parents=True)
    (folder / "project_config.yaml").write_text(config)
    return workspace


def test_the_default_is_the_workspace_sqlite_file_even_when_other_sections_are_wrong(
    tmp_path: Path,
) -> None:
    # `model:` is missing and `executor` is misspelt: a run would stop; the history still opens.
    workspace = project(tmp_path, "exekutor: {type: threads}\n")
    kv = open_runs_store(workspace, "demo")
    try:
        assert isinstance(kv, SqliteKVStore)
        assert kv.path == workspace.state_dir / "kv.sqlite3"
        assert kv.namespace == "demo"
    finally:
        kv.close()


def test_a_configured_store_is_checked_as_a_run_checks_it(tmp_path: Path) -> None:
    kv = open_runs_store(project(tmp_path, "storage:\n  kv: {backend: mem}\n"), "demo")
    assert isinstance(kv, MemoryKVStore)
    workspace = project(tmp_path / "b", "storage:\n  kv: {backend: redis, urll: x}\n")
    with pytest.raises(ConfigError) as caught:
        open_runs_store(workspace, "demo")
    assert caught.value.one_line() == "storage.kv.urll: unknown key (did you mean 'url'?)"


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [("missing", ProjectError, "no project 'missing' in workspace"),
     ("../up", ProjectError, "invalid project id '../up'")],
    ids=["missing", "traversal"],
)  # fmt: skip
def test_a_project_that_is_not_there_is_one_line_and_writes_nothing(
    tmp_path: Path, name: str, error: type[Exception], message: str
) -> None:
    workspace = project(tmp_path, "model: {name: demo}\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(error, match=message):
        open_runs_store(workspace, name)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
