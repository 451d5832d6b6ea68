from __future__ import annotations

from pathlib import Path

import pytest

from mlops.errors import ConfigError
from mlops.managers import templates
from mlops.managers.project_manager import ProjectManager
from mlops.runtime.workspace import Workspace


@pytest.fixture
def template_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "templates"
    demo = root / "demo"
    (demo / "configs").mkdir(parents=True)
    (demo / "configs" / "project_config.yaml").write_text(
        "# ${project_id} from the demo template\nmodel:\n  name: ${project_id}\n"
        "  parameters:\n    price: $5\n"
    )
    (demo / "src").mkdir()
    (demo / "src" / "steps.py").write_text("PROJECT = '${project_id}'\n")
    (demo / "data.bin").write_bytes(b"\x00${project_id}\xff")
    (demo / "__pycache__").mkdir()
    (demo / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (root / "_private").mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.setattr(templates, "_templates_root", lambda: root)
    return root


def test_only_template_folders_are_listed(template_root: Path) -> None:
    assert templates.template_names() == ["demo"]


def test_a_template_is_rendered_into_a_new_project(
    template_root: Path, tmp_workspace: Path
) -> None:
    info = ProjectManager(Workspace.resolve()).create("churn", template="demo")
    project = tmp_workspace / "projects" / "churn"
    assert info.template == "demo"
    assert info.valid
    config = (project / "configs" / "project_config.yaml").read_text()
    assert config.startswith("# churn from the demo template")
    assert "price: $5" in config  # other $ signs are left alone
    assert (project / "src" / "steps.py").read_text() == "PROJECT = 'churn'\n"
    assert (project / "data.bin").read_bytes() == b"\x00${project_id}\xff"  # binary: copied as is
    assert not (project / "__pycache__").exists()


def test_a_template_with_an_invalid_config_creates_nothing(
    template_root: Path, tmp_workspace: Path
) -> None:
    (template_root / "demo" / "configs" / "project_config.yaml").write_text("model: 5\n")
    with pytest.raises(ConfigError, match=r"template demo:1:1: model: expected a mapping, found 5"):
        ProjectManager(Workspace.resolve()).create("churn", template="demo")
    assert list((tmp_workspace / "projects").iterdir()) == []


def test_no_template_gives_the_minimal_commented_project(tmp_workspace: Path) -> None:
    ProjectManager(Workspace.resolve()).create("mini")
    project = tmp_workspace / "projects" / "mini"
    assert sorted(p.name for p in project.iterdir()) == ["configs", "data", "src"]
    text = (project / "configs" / "project_config.yaml").read_text()
    assert text.startswith("# Project mini.")
    assert "name: mini" in text
