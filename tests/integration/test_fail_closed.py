"""Kinds of input that once crashed mlops or reached outside the workspace.

Legal YAML that no Python value can be built from, values YAML has and JSON has
not, and a project folder that is a link to somewhere else. Each kind is
refused in one line with exit status 2 and nothing changed on disk, or, where
the input is a value a config may rightly hold, accepted and recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops.main import main

# Legal YAML whose values Python refuses to build, and the phrase each error names.
UNBUILDABLE = [
    ("float-word", "    x: !!float abc\n", "14:8: invalid YAML: cannot read this value"),
    ("int-word", "    x: !!int abc\n", "invalid literal for int() with base 10: 'abc'"),
    ("bad-timestamp", "    x: !!timestamp 2020-13-45\n", "month must be in 1..12"),
    ("list-as-key", "    ? [[a]]\n    : 1\n", "cannot read this value (unhashable type"),
    ("huge-integer", "    x: " + "1" * 5000 + "\n", "an integer of more than 4,300 digits"),
]  # fmt: skip

CONFIG = """\
reproducibility:
  random_seed: 42
  experiment_tracking:
    backend: local
environment:
  system: {}
model:
  name: NAME
  framework: custom
  parameters:
    pipeline:
      process_adjlist: hello
    greeting: hello
"""
PIPELINE = """\
from mlops import process


@process
def hello(greeting):
    return type(greeting).__name__
"""


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder (None) under ``root``: lock files included."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() and not p.is_symlink() else None
        for p in sorted(root.rglob("*"))
    }


def _project(workspace: Path, name: str, extra: str = "") -> Path:
    assert main(["--workspace", str(workspace), "create", name]) == 0
    project = workspace / "projects" / name
    (project / "configs" / "project_config.yaml").write_text(
        CONFIG.replace("NAME", name) + extra, encoding="utf-8"
    )
    (project / "src" / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    return project


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    _project(ws, "good")
    for name, text, _ in UNBUILDABLE:
        _project(ws, name, text)
    return ws


def _one_error_line(captured: pytest.CaptureResult[str]) -> str:
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("mlops: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


COMMANDS = [
    ("validate", ["config", "{name}", "validate", "--local"]),
    ("run", ["run", "{name}", "--local"]),
    ("get", ["config", "{name}", "get", "model"]),
    ("set", ["config", "{name}", "set", "model.version=2"]),
    ("runs", ["runs", "{name}"]),
    ("info", ["info", "{name}", "--json"]),
]


@pytest.mark.parametrize(("command", "argv"), COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize(
    ("name", "message"), [(c[0], c[2]) for c in UNBUILDABLE], ids=[c[0] for c in UNBUILDABLE]
)
def test_a_value_python_cannot_build_is_one_line_at_its_place(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    name: str,
    message: str,
    command: str,
    argv: list[str],
) -> None:
    before = _snapshot(workspace.parent)
    capsys.readouterr()
    code = main(["--workspace", str(workspace), *[a.format(name=name) for a in argv]])
    captured = capsys.readouterr()
    if command == "info":  # info describes the project, invalid, with the reason
        assert code == 0, captured.err
        info = json.loads(captured.out)
        assert info["valid"] is False
        assert message in info["problem"]
    else:
        assert code == 2, captured
        line = _one_error_line(captured)
        assert f"projects/{name}/configs/project_config.yaml:" in line
        assert message in line
    assert _snapshot(workspace.parent) == before


def test_the_web_api_answers_every_page_of_an_unreadable_project(workspace: Path) -> None:
    """200 with the project marked invalid and the reason, never a 5xx; the other
    projects stay readable."""
    from fastapi.testclient import TestClient

    from mlops.runtime.workspace import Workspace
    from mlops.web.server import create_app

    assert main(["--workspace", str(workspace), "run", "good", "--local", "-q"]) == 0
    app = create_app(Workspace.resolve(workspace))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        listed = client.get("/api/projects")
        assert listed.status_code == 200
        projects = {p["id"]: p for p in listed.json()}
        assert projects["good"]["valid"] is True
        for name, _, message in UNBUILDABLE:
            assert projects[name]["valid"] is False
            assert message in projects[name]["problem"]
            for page in ("", "/runs", "/graph"):
                answer = client.get(f"/api/projects/{name}{page}")
                assert answer.status_code == 200, (name, page, answer.text)
                assert answer.json()["valid"] is False, (name, page)
                assert message in answer.json()["problem"], (name, page)
            for page in ("/runs/latest", "/runs/latest/charts", "/compare?runs=a&runs=b"):
                answer = client.get(f"/api/projects/{name}{page}")
                assert 400 <= answer.status_code < 500, (name, page, answer.text)
        assert client.get("/api/projects/good/runs").json()["total"] == 1
        assert client.get("/api/projects/good/graph").json()["valid"] is True


def test_one_unreadable_project_leaves_the_workspace_listed(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["--workspace", str(workspace), "list", "--json"]) == 0
    listed = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["good"]["valid"] is True
    for name, _, message in UNBUILDABLE:
        assert listed[name]["valid"] is False, name
        assert message in listed[name]["problem"], name


HUGE = "1" * 5000
SET_CASES = [
    ("run-set", ["run", "good", "--local", "--set", f"model.parameters.greeting={HUGE}"]),
    ("config-set", ["config", "good", "set", f"model.parameters.greeting={HUGE}"]),
    ("run-set-float-word", ["run", "good", "--local", "--set", "model.parameters.x=!!float abc"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in SET_CASES], ids=[c[0] for c in SET_CASES])
def test_a_command_line_value_python_cannot_build_is_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    before = _snapshot(workspace.parent)
    capsys.readouterr()
    assert main(["--workspace", str(workspace), *argv]) == 2
    line = _one_error_line(capsys.readouterr())
    assert "cannot read this value" in line
    assert "model.parameters." in line
    assert _snapshot(workspace.parent) == before


# Values YAML gives a config and JSON does not hold: what the process receives,
# and how the run records them.
YAML_VALUES = [
    ("date", "2020-01-01", "date", "2020-01-01"),
    ("timestamp", "2020-01-01T10:00:00", "datetime", "2020-01-01T10:00:00"),
    ("timestamp-zone", "2020-01-01 10:00:00+02:00", "datetime", "2020-01-01T10:00:00+02:00"),
    ("binary", "!!binary aGVsbG8=", "bytes", "b'hello'"),
    ("set", "!!set {b, a}", "set", ["a", "b"]),
    ("nan", ".nan", "float", "nan"),
    ("inf", ".inf", "float", "inf"),
    ("minus-inf", "-.inf", "float", "-inf"),
    ("overflow", "1e309", "float", "inf"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "kind", "recorded"), [c[1:] for c in YAML_VALUES], ids=[c[0] for c in YAML_VALUES]
)
def test_a_value_yaml_has_and_json_lacks_is_valid_runs_and_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, kind: str, recorded: object
) -> None:
    workspace = tmp_path / "ws"
    project = _project(workspace, "dated")
    config = project / "configs" / "project_config.yaml"
    config.write_text(config.read_text().replace("greeting: hello", f"greeting: {text}"))
    ws = ["--workspace", str(workspace)]
    assert main([*ws, "config", "dated", "validate", "--local"]) == 0
    assert main([*ws, "run", "dated", "--local"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main([*ws, "runs", "dated", "show", "latest", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["status"] == "completed"
    assert run["params"]["greeting"] == recorded
    assert run["processes"]["hello"]["params"] == {"greeting": recorded}
    from mlops.session.results import load_result

    assert load_result("dated", "hello", workspace=workspace) == kind
    # The same value again: reused from the cache (its key is stable).
    assert main([*ws, "run", "dated", "--local", "--explain"]) == 0
    assert "reused" in capsys.readouterr().out


def test_a_date_and_the_text_of_it_are_different_cache_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = tmp_path / "ws"
    _project(workspace, "dated")
    ws = ["--workspace", str(workspace), "run", "dated", "--local"]
    assert main([*ws, "--set", "model.parameters.greeting=2020-01-01"]) == 0
    assert main([*ws, "--set", "model.parameters.greeting='2020-01-01'"]) == 0
    capsys.readouterr()
    assert main(["--workspace", str(workspace), "runs", "dated", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["ran"] for r in runs[:2]] == [1, 1]  # the text ran again: another key
    from mlops.session.results import load_result

    assert load_result("dated", "hello", "previous", workspace=workspace) == "date"
    assert load_result("dated", "hello", "latest", workspace=workspace) == "str"


# ------------------------------------------------------------------ a project that is a link


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace whose ``projects/evil`` is a link to a project folder outside it."""
    workspace = tmp_path / "ws"
    _project(workspace, "good")
    outside = tmp_path / "outside"
    elsewhere = _project(tmp_path / "other-ws", "evil")
    # Code from outside that says so if it is ever imported.
    (elsewhere / "src" / "pipeline.py").write_text(
        f"open({str(tmp_path / 'imported')!r}, 'w').close()\n" + PIPELINE
    )
    elsewhere.rename(outside)
    (workspace / "projects" / "evil").symlink_to(outside, target_is_directory=True)
    return workspace, outside


LINK_COMMANDS = [
    ("set", ["config", "evil", "set", "model.parameters.greeting=changed"]),
    ("merge", ["config", "evil", "--file", "{tmp}/patch.yaml"]),
    ("show", ["config", "evil", "show"]),
    ("run", ["run", "evil", "--local"]),
    ("validate", ["config", "evil", "validate", "--local"]),
    ("delete", ["delete", "evil", "--force"]),
    ("info", ["info", "evil"]),
    ("runs", ["runs", "evil"]),
    ("create", ["create", "evil"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in LINK_COMMANDS], ids=[c[0] for c in LINK_COMMANDS])
def test_a_project_folder_linked_from_outside_the_workspace_is_refused(
    linked: tuple[Path, Path], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    workspace, outside = linked
    tmp = workspace.parent
    (tmp / "patch.yaml").write_text("model:\n  version: '2'\n")
    before = _snapshot(tmp)
    capsys.readouterr()
    code = main(["--workspace", str(workspace), *[a.replace("{tmp}", str(tmp)) for a in argv]])
    captured = capsys.readouterr()
    assert code == 2, captured
    line = _one_error_line(captured)
    assert f"projects/evil is a link to {outside}, outside the workspace" in line
    assert _snapshot(tmp) == before
    assert (workspace / "projects" / "evil").is_symlink()
    assert not (tmp / "imported").exists()


def test_a_linked_project_is_listed_as_invalid_with_the_reason(
    linked: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    workspace, _ = linked
    capsys.readouterr()
    assert main(["--workspace", str(workspace), "list", "--json"]) == 0
    listed = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["good"]["valid"] is True
    assert listed["evil"]["valid"] is False
    assert "is a link to" in listed["evil"]["problem"]
