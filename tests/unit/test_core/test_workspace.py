from __future__ import annotations

from pathlib import Path

import pytest

from mlops.errors import ExitCode, WorkspaceError
from mlops.runtime.workspace import (
    STATE_DIR_NAME,
    WORKSPACE_ENV_VAR,
    RootSource,
    Workspace,
    get_projects_root,
    get_workspace_root,
    infer_source_root,
)


def test_workspace_root_uses_the_env_var_set_by_the_fixture(tmp_workspace: Path) -> None:
    assert get_workspace_root() == tmp_workspace.resolve()
    assert get_projects_root() == tmp_workspace.resolve() / "projects"


def test_explicit_argument_wins_over_env_and_cwd(tmp_path: Path) -> None:
    env = {WORKSPACE_ENV_VAR: str(tmp_path / "from-env")}
    ws = Workspace.resolve(tmp_path / "explicit", environ=env, cwd=tmp_path)
    assert ws.root == (tmp_path / "explicit").resolve()
    assert ws.source is RootSource.EXPLICIT


def test_env_var_wins_over_cwd_and_relative_values_resolve_against_cwd(tmp_path: Path) -> None:
    ws = Workspace.resolve(environ={WORKSPACE_ENV_VAR: "rel/ws"}, cwd=tmp_path)
    assert ws.root == (tmp_path / "rel" / "ws").resolve()
    assert ws.source is RootSource.ENVIRONMENT


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "spaces"])
def test_blank_env_var_and_blank_argument_fall_back_to_cwd(tmp_path: Path, blank: str) -> None:
    ws = Workspace.resolve(blank, environ={WORKSPACE_ENV_VAR: blank}, cwd=tmp_path)
    assert ws.root == tmp_path.resolve()
    assert ws.source is RootSource.CWD


def test_nearest_folder_with_state_dir_is_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / STATE_DIR_NAME).mkdir()
    nested = tmp_path / "projects" / "demo" / "src"
    nested.mkdir(parents=True)
    ws = Workspace.resolve(environ={}, cwd=nested)
    assert ws.root == tmp_path.resolve()
    assert ws.source is RootSource.MARKER


def test_without_marker_the_cwd_is_the_workspace(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    ws = Workspace.resolve(environ={}, cwd=nested)
    assert (ws.root, ws.source) == (nested.resolve(), RootSource.CWD)


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    ws = Workspace.resolve("~/ws", environ={}, cwd=Path("/"))
    assert ws.root == (tmp_path / "ws").resolve()


@pytest.mark.parametrize("given_by", ["explicit", "env"], ids=["explicit", "env"])
def test_a_file_as_workspace_is_refused_with_its_path_and_origin(
    tmp_path: Path, given_by: str
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    explicit = blocker if given_by == "explicit" else None
    environ = {} if given_by == "explicit" else {WORKSPACE_ENV_VAR: str(blocker)}
    with pytest.raises(WorkspaceError) as info:
        Workspace.resolve(explicit, environ=environ, cwd=tmp_path)
    message = str(info.value)
    assert str(blocker) in message
    assert ("--workspace" if given_by == "explicit" else WORKSPACE_ENV_VAR) in message
    assert info.value.exit_code == ExitCode.USAGE
    assert blocker.read_text() == "x"


def test_resolution_creates_nothing_and_ensure_creates_the_layout(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "new", environ={}, cwd=tmp_path)
    assert not ws.root.exists()
    assert ws.ensure() is ws
    assert ws.projects_dir.is_dir()
    assert ws.state_dir.is_dir()
    assert ws.envs_dir == ws.state_dir / "envs"
    assert ws.cache_dir == ws.state_dir / "cache"
    assert ws.project_dir("demo") == ws.root / "projects" / "demo"
    ws.ensure()  # idempotent
    assert sorted(p.name for p in ws.root.iterdir()) == [".mlops", "projects"]


def test_ensure_refuses_a_file_where_a_folder_belongs(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path, environ={}, cwd=tmp_path)
    (tmp_path / "projects").write_text("in the way")
    with pytest.raises(WorkspaceError, match="projects exists but is not a directory"):
        ws.ensure()
    assert not ws.state_dir.exists()


def test_source_root_holds_the_imported_package() -> None:
    root = infer_source_root()
    assert (root / "mlops" / "__init__.py").is_file()
    assert (root / "mlops" / "runtime" / "workspace.py").is_file()
