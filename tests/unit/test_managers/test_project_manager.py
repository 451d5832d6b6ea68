from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops.errors import ConfigError, ProjectError
from mlops.managers.project_manager import ProjectManager, check_project_id, parse_assignment
from mlops.runtime.workspace import Workspace


@pytest.fixture
def manager(tmp_workspace: Path) -> ProjectManager:
    return ProjectManager(Workspace.resolve())


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "locks" not in p.parts
    }


def test_create_list_info_delete(manager: ProjectManager, tmp_workspace: Path) -> None:
    info = manager.create("demo")
    assert info.id == "demo"
    assert info.valid
    assert info.framework == "custom"
    assert info.created_at
    assert (tmp_workspace / "projects" / "demo" / "configs" / "project_config.yaml").is_file()
    assert (tmp_workspace / "projects" / "demo" / "src").is_dir()
    assert manager.exists("demo")
    assert [p.id for p in manager.list()] == ["demo"]
    index = json.loads((tmp_workspace / ".mlops" / "projects.json").read_text())
    assert set(index["projects"]) == {"demo"}
    assert manager.delete("demo", force=True) is True
    assert not manager.exists("demo")
    assert manager.list() == []
    assert json.loads((tmp_workspace / ".mlops" / "projects.json").read_text())["projects"] == {}
    assert [p.name for p in (tmp_workspace / "projects").iterdir()] == []


def test_delete_asks_and_a_no_changes_nothing(manager: ProjectManager) -> None:
    manager.create("demo")
    questions: list[str] = []
    assert manager.delete("demo", confirm=lambda q: questions.append(q) or False) is False
    assert manager.exists("demo")
    assert "Delete project 'demo'" in questions[0]
    assert manager.delete("demo") is False  # no way to ask: nothing is deleted
    assert manager.delete("demo", confirm=lambda _: True) is True


def test_creating_twice_is_refused_and_keeps_the_first(manager: ProjectManager) -> None:
    manager.create("demo")
    manager.config_set("demo", ["model.version=9"])
    with pytest.raises(ProjectError, match="already exists"):
        manager.create("demo")
    assert manager.config_get("demo", "model.version") == 9
    assert manager.load_config("demo").model.version == "9"


def test_unknown_template_lists_what_exists(manager: ProjectManager, tmp_workspace: Path) -> None:
    with pytest.raises(ProjectError, match=r"unknown template 'nope' \(available: "):
        manager.create("demo", template="nope")
    assert list((tmp_workspace / "projects").iterdir()) == []


def test_projects_made_by_hand_are_listed(
    manager: ProjectManager, write_project_config: object
) -> None:
    write_project_config("handmade")  # type: ignore[operator]
    listed = manager.list()
    assert [p.id for p in listed] == ["handmade"]
    assert listed[0].created_at is None
    assert listed[0].valid


def test_an_invalid_config_is_reported_not_raised_by_list(manager: ProjectManager) -> None:
    manager.create("broken")
    manager.config_path("broken").write_text("model:\n  name: m\n  framwork: x\n")
    (info,) = manager.list()
    assert not info.valid
    assert info.problem is not None
    assert "did you mean 'framework'" in info.problem


def test_missing_project_lists_the_existing_ones(manager: ProjectManager) -> None:
    manager.create("alpha")
    with pytest.raises(ProjectError, match=r"no project 'beta'.*existing projects: alpha"):
        manager.info("beta")


@pytest.mark.parametrize(
    "project_id",
    ["", " ", "..", "a/b", "a\\b", "-lead", ".hidden", "a..b", "x" * 65, "CON", "projects", "é"],
    ids=["empty", "space", "dotdot", "slash", "backslash", "dash", "dot", "inner-dotdot",
         "too-long", "device", "reserved", "non-ascii"],
)  # fmt: skip
def test_invalid_ids_are_refused_before_anything_is_written(
    manager: ProjectManager, tmp_workspace: Path, project_id: str
) -> None:
    before = _snapshot(tmp_workspace)
    with pytest.raises(ProjectError):
        manager.create(project_id)
    assert _snapshot(tmp_workspace) == before


@pytest.mark.parametrize("project_id", ["a", "exp_01", "churn-model", "v1.2", "A9"], ids=str)
def test_valid_ids(project_id: str) -> None:
    assert check_project_id(project_id) == project_id


# ------------------------------------------------------------------ configuration edits


COMMENTED = """\
# Team notes: keep this comment.
reproducibility:
  random_seed: 1   # the seed we report
environment:
  system: {}
model:
  name: demo       # display name
  framework: custom
  parameters:
    lr: 0.1
"""


def test_set_keeps_comments_and_key_order(manager: ProjectManager) -> None:
    manager.create("demo")
    manager.config_path("demo").write_text(COMMENTED)
    manager.config_set(
        "demo", ["reproducibility.random_seed=7", "model.parameters.layers=[64, 32]"]
    )
    text = manager.config_path("demo").read_text()
    assert "# Team notes: keep this comment." in text
    assert "random_seed: 7   # the seed we report" in text
    assert "name: demo       # display name" in text
    assert text.index("reproducibility") < text.index("environment") < text.index("model")
    assert manager.config_get("demo", "model.parameters") == {"lr": 0.1, "layers": [64, 32]}


@pytest.mark.parametrize(
    ("assignment", "key", "value"),
    [("a.b=1", "a.b", 1), ("x=true", "x", True), ("x=1.5", "x", 1.5),
     ("x=[1, two]", "x", [1, "two"]), ("x={k: v}", "x", {"k": "v"}), ("x='007'", "x", "007"),
     ("x=", "x", ""), ("x=a=b", "x", "a=b"),
     ("x=null", "x", None)],
    ids=["int", "bool", "float", "list", "map", "quoted", "empty", "equals-in-value", "null"],
)  # fmt: skip
def test_values_are_parsed_as_yaml(assignment: str, key: str, value: object) -> None:
    assert parse_assignment(assignment) == (key, value)


@pytest.mark.parametrize(
    ("assignment", "message"),
    [("novalue", "expected KEY=VALUE"), ("=1", "expected KEY=VALUE"), ("a..b=1", "empty part"),
     ("x=[1, 2", "bad value")],
    ids=["no-equals", "no-key", "empty-part", "bad-yaml"],
)  # fmt: skip
def test_bad_assignments_are_refused(assignment: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_assignment(assignment)


@pytest.mark.parametrize(
    "assignments",
    [["reproducibility.random_seed=abc"], ["model.framwork=x"], ["environment.venv={}"],
     ["model.name=ok", "storage.kv.backend=mongo"], ["model.name.first=x"]],
    ids=["wrong-type", "unknown-key", "second-manager", "one-bad-of-two", "through-a-scalar"],
)  # fmt: skip
def test_an_invalid_edit_changes_nothing(manager: ProjectManager, assignments: list[str]) -> None:
    manager.create("demo")
    before = manager.config_path("demo").read_bytes()
    with pytest.raises(ConfigError):
        manager.config_set("demo", assignments)
    assert manager.config_path("demo").read_bytes() == before


def test_merge_a_yaml_file(manager: ProjectManager, tmp_path: Path) -> None:
    manager.create("demo")
    patch = tmp_path / "patch.yaml"
    patch.write_text("model:\n  parameters:\n    lr: 0.01\nexecutor:\n  n_workers: 2\n")
    config = manager.config_merge("demo", patch)
    assert config.executor.n_workers == 2
    assert manager.config_get("demo", "model.parameters.lr") == 0.01
    assert manager.config_get("demo", "model.name") == "demo"


def test_config_get_names_what_is_missing(manager: ProjectManager) -> None:
    manager.create("demo")
    with pytest.raises(ConfigError, match=r"no key 'model.nope' .*keys there: name, framework"):
        manager.config_get("demo", "model.nope")
    assert manager.config_get("demo")["model"]["name"] == "demo"
