"""Adapters by framework: built-ins, entry points, registration, discovery."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from fixtures.projects import ProjectFactory
from mlops.adapters.base import AdapterError, ModelAdapter
from mlops.adapters.custom.custom_adapter import CustomAdapter
from mlops.adapters.plugin_manager import (
    ENTRY_POINT_GROUP,
    AdapterPluginManager,
    create_adapter,
)
from mlops.adapters.sklearn.adapter import SklearnAdapter
from mlops.config.schema import AdapterConfig
from mlops.errors import ConfigError


class TorchAdapter(ModelAdapter):
    framework = "torch"


def entry_point(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_builtins_are_available_and_created_by_framework(tmp_path: Path) -> None:
    manager = AdapterPluginManager(entry_points=[])
    assert {"custom", "sklearn"} <= set(manager.available())
    adapter = manager.create_adapter(AdapterConfig(name="m"), project_dir=tmp_path)
    assert isinstance(adapter, CustomAdapter)
    assert adapter.source_root == tmp_path / "src"
    assert adapter.describe() == {"framework": "custom", "source_root": str(tmp_path / "src")}
    assert manager.get(" SKLearn ") is SklearnAdapter


def test_installed_metadata_declares_the_builtins() -> None:
    names = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert {"custom", "sklearn"} <= names


def test_entry_points_add_frameworks(tmp_path: Path) -> None:
    manager = AdapterPluginManager(entry_points=[entry_point("torch", f"{__name__}:TorchAdapter")])
    config = AdapterConfig(name="m", framework="torch")
    assert isinstance(manager.create_adapter(config, project_dir=tmp_path), TorchAdapter)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("no_such_module_xyz:Adapter", "cannot be loaded"),
        (f"{__name__}:Missing", "cannot be loaded"),
        (f"{__name__}:entry_point", "is not a ModelAdapter subclass"),
    ],
    ids=["missing-module", "missing-attribute", "not-an-adapter"],
)
def test_broken_entry_points_are_one_clear_error(value: str, message: str) -> None:
    manager = AdapterPluginManager(entry_points=[entry_point("broken", value)])
    with pytest.raises(AdapterError, match=message):
        manager.get("broken")


def test_unknown_framework_lists_installed_adapters(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no adapter for 'jax'.*installed adapters: custom"):
        create_adapter(AdapterConfig(name="m", framework="jax"), project_dir=tmp_path)


def test_register_replaces_and_checks(tmp_path: Path) -> None:
    manager = AdapterPluginManager(entry_points=[])
    manager.register("custom", TorchAdapter)
    assert manager.get("custom") is TorchAdapter
    with pytest.raises(TypeError):
        manager.register("x", int)  # type: ignore[arg-type]


def test_discovery_finds_processes_in_modules_and_packages(make_project: ProjectFactory) -> None:
    project = make_project(
        "disc",
        {
            "pipeline.py": "from mlops import process\n\n"
            "@process\ndef load():\n    return 1\n\n"
            "from helpers.more import train  # imported: found in its own module\n",
            "helpers/__init__.py": "",
            "helpers/more.py": "from mlops import process\n\n"
            "@process(name='train')\ndef _train_impl():\n    return 2\n\n"
            "train = _train_impl\n\ndef not_a_process():\n    return 3\n",
        },
        "load train",
    )
    found = CustomAdapter(AdapterConfig(name="m"), project_dir=project).discover()
    assert sorted(found) == ["load", "train"]
    assert found["train"].module == "helpers.more"
    assert found["train"].qualname == "_train_impl"


def test_duplicate_process_names_are_refused(make_project: ProjectFactory) -> None:
    body = "from mlops import process\n\n@process\ndef load():\n    return 1\n"
    project = make_project("dup", {"a.py": body, "b.py": body}, "load")
    with pytest.raises(AdapterError, match=r"process 'load' is defined twice: a\.load and b\.load"):
        CustomAdapter(AdapterConfig(name="m"), project_dir=project).discover()


def test_module_named_like_the_standard_library_is_refused(make_project: ProjectFactory) -> None:
    project = make_project("std", {"json.py": "x = 1\n"}, "load")
    with pytest.raises(AdapterError, match="has the name of a standard-library module"):
        CustomAdapter(AdapterConfig(name="m"), project_dir=project).discover()


def test_a_project_without_src_has_no_processes(tmp_path: Path) -> None:
    assert CustomAdapter(AdapterConfig(name="m"), project_dir=tmp_path).discover() == {}


def test_sklearn_adapter_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    with pytest.raises(AdapterError, match=r"needs sklearn.*mlops\[sklearn\]"):
        SklearnAdapter(
            AdapterConfig(name="m", framework="sklearn"), project_dir=tmp_path
        ).discover()
