"""What a run installs on each worker (its variables, a copy of the project) and fresh imports."""

from __future__ import annotations

import io
import os
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlops.cluster.worker_runtime import ProjectRuntime, project_archive, project_files, unpack
from mlops.engine.worker import FunctionRef, local_path, map_project_path, unmap_project_path
from mlops.errors import ClusterError


def write_project(root: Path) -> Path:
    for relative, text in {
        "configs/project_config.yaml": "model: {}\n",
        "src/pipeline.py": "def f():\n    return 1\n",
        "src/pkg/__init__.py": "",
        "data/rows.csv": "a,b\n1,2\n",
        "outputs/model.bin": "big",
        ".mlops/state.db": "db",
        "src/__pycache__/pipeline.cpython-311.pyc": "cache",
        "src/stale.pyc": "cache",
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_archive_holds_code_configs_and_data_but_no_outputs_or_caches(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p")

    archive, _digest = project_archive(project)

    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert names == [
        "configs/project_config.yaml",
        "data/rows.csv",
        "src/pipeline.py",
        "src/pkg/__init__.py",
    ]
    assert [p.relative_to(project).as_posix() for p in project_files(project)] == names


def test_equal_trees_give_equal_archives_and_a_change_changes_the_digest(tmp_path: Path) -> None:
    first = write_project(tmp_path / "a")
    second = write_project(tmp_path / "b")
    os.utime(second / "src" / "pipeline.py", (1, 1))  # timestamps do not count

    assert project_archive(first) == project_archive(second)
    (second / "src" / "pipeline.py").write_text("def f():\n    return 2\n")
    assert project_archive(first)[1] != project_archive(second)[1]


def test_a_project_too_large_to_upload_is_a_cluster_error_with_the_fix(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p")

    with pytest.raises(ClusterError, match=r"larger than 0 MiB.*cluster.code: shared"):
        project_archive(project, limit=10)


def test_unpacking_is_done_once_per_digest(tmp_path: Path) -> None:
    archive, digest = project_archive(write_project(tmp_path / "p"))

    first = unpack(archive, digest, tmp_path / "code")
    (first / "marker").write_text("kept")
    second = unpack(archive, digest, tmp_path / "code")

    assert first == second
    assert (second / "src" / "pipeline.py").read_text().endswith("return 1\n")
    assert (second / "marker").exists()
    assert [p.name for p in (tmp_path / "code").iterdir()] == [digest[:32]]


def test_an_archive_entry_escaping_its_folder_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escaped.py", "x = 1\n")

    with pytest.raises(ClusterError, match=r"refusing to unpack '\.\./escaped\.py'"):
        unpack(buffer.getvalue(), "d" * 64, tmp_path / "code")
    assert not (tmp_path / "escaped.py").exists()
    assert list((tmp_path / "code").iterdir()) == []


def test_the_runtime_maps_the_project_and_sets_variables_until_teardown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path / "driver" / "p")
    archive, digest = project_archive(project)
    monkeypatch.setenv("MLOPS_TEST_RUNTIME", "before")
    runtime = ProjectRuntime(
        "p",
        variables={"MLOPS_TEST_RUNTIME": "during", "MLOPS_PROJECT_ID": "p"},
        project_dir=str(project),
        archive=archive,
        digest=digest,
    )
    worker = SimpleNamespace(local_directory=str(tmp_path / "worker"))

    runtime.setup(worker)
    try:
        copy = Path(local_path(str(project)))
        assert copy.is_relative_to(tmp_path / "worker" / "mlops-code" / "p")
        assert Path(local_path(str(project / "data" / "rows.csv"))).read_text() == "a,b\n1,2\n"
        assert os.environ["MLOPS_TEST_RUNTIME"] == "during"
        assert os.environ["MLOPS_PROJECT_DIR"] == str(copy)
    finally:
        runtime.teardown(worker)

    assert local_path(str(project)) == str(project)
    assert os.environ["MLOPS_TEST_RUNTIME"] == "before"
    assert "MLOPS_PROJECT_ID" not in os.environ


def test_paths_outside_a_mapped_folder_are_left_alone(tmp_path: Path) -> None:
    map_project_path(str(tmp_path / "proj"), str(tmp_path / "copy"))
    try:
        assert local_path(str(tmp_path / "proj-other" / "x")) == str(tmp_path / "proj-other" / "x")
        assert local_path(str(tmp_path / "proj" / "x")) == str(tmp_path / "copy" / "x")
    finally:
        unmap_project_path(str(tmp_path / "proj"))


def test_a_function_is_imported_again_when_its_code_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    module = source / "mlops_reload_probe.py"
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "mlops_reload_probe", raising=False)
    # Bytecode written, as on most machines: the edit below keeps the size and
    # usually the second, so a stale .pyc would pass Python's own check.
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    module.write_text("def answer():\n    return 1\n")
    first = FunctionRef("mlops_reload_probe", "answer", str(source), code="v1").load()
    module.write_text("def answer():\n    return 2\n")

    same = FunctionRef("mlops_reload_probe", "answer", str(source), code="v1").load()
    changed = FunctionRef("mlops_reload_probe", "answer", str(source), code="v2").load()

    assert (first(), same(), changed()) == (1, 1, 2)
    sys.modules.pop("mlops_reload_probe", None)


def test_a_module_imported_from_another_folder_is_imported_from_the_right_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "mlops_moved_probe", raising=False)
    for folder, value in (("old", 1), ("new", 2)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "mlops_moved_probe.py").write_text(f"def f():\n    return {value}\n")

    old = FunctionRef("mlops_moved_probe", "f", str(tmp_path / "old"), code="c").load()
    new = FunctionRef("mlops_moved_probe", "f", str(tmp_path / "new"), code="c").load()

    assert (old(), new()) == (1, 2)
    sys.modules.pop("mlops_moved_probe", None)
