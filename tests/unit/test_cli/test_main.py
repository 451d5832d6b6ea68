from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops import __version__
from mlops.main import main


def test_version_prints_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mlops, version {__version__}"


def test_help_lists_the_workspace_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "workspace" in out
    assert "--workspace" in out


def test_workspace_json_reports_the_env_workspace(
    tmp_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["workspace", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["root"] == str(tmp_workspace.resolve())
    assert info["chosen_by"] == "$MLOPS_WORKSPACE_DIR"
    assert info["projects_dir"] == str(tmp_workspace.resolve() / "projects")
    assert Path(info["mlops_source_root"], "mlops", "main.py").is_file()


def test_workspace_option_overrides_the_env(
    tmp_workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    assert main(["--workspace", str(other), "workspace"]) == 0
    out = capsys.readouterr().out
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["root"] == str(other.resolve())
    assert fields["chosen_by"] == "explicit argument"
    assert not other.exists()


def test_user_error_is_one_line_exit_2_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    before = sorted(tmp_path.rglob("*"))
    code = main(["--workspace", str(blocker), "workspace"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("mlops: error: workspace ")
    assert str(blocker) in lines[0]
    assert "Traceback" not in captured.err
    assert sorted(tmp_path.rglob("*")) == before
    assert blocker.read_text() == "keep me"


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    from mlops.errors import WorkspaceError

    with pytest.raises(WorkspaceError):
        main(["--debug", "--workspace", str(blocker), "workspace"])


@pytest.mark.parametrize(
    "argv",
    [["no-such-command"], ["workspace", "--no-such-flag"]],
    ids=["unknown-command", "unknown-flag"],
)
def test_usage_errors_are_one_line_with_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("mlops: error: No such ")
    assert "--help" in lines[0]
