"""Interpreter lookup of the environment managers, on temp folders laid out like PATH and pyenv."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops.environment.interpreters import Lookup, find_python


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho fake\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def pyenv_root(tmp_path: Path) -> Path:
    root = tmp_path / "pyenv"
    for version in ("3.12.1", "3.12.10", "3.12.9", "3.13.0", "3.13.1t", "3.14.0rc1", "3.12-dev"):
        name = "python" + ".".join(version.split(".")[:2]).rstrip("t")
        _exe(root / "versions" / version / "bin" / name)
    _exe(root / "shims" / "python3.12")
    return root


def test_newest_final_patch_wins(pyenv_root: Path) -> None:
    hit = find_python("3.12", {"PATH": str(pyenv_root / "shims")}, root=pyenv_root)
    assert hit.interpreter == pyenv_root / "versions" / "3.12.10" / "bin" / "python3.12"


def test_shims_are_never_chosen_even_when_first_on_path(pyenv_root: Path) -> None:
    hit = find_python("3.12", {"PATH": str(pyenv_root / "shims")}, root=pyenv_root)
    assert hit.interpreter is not None
    assert "shims" not in hit.interpreter.parts


def test_path_wins_over_pyenv_installs(tmp_path: Path, pyenv_root: Path) -> None:
    on_path = _exe(tmp_path / "bin" / "python3.13")
    path = os.pathsep.join([str(pyenv_root / "shims"), str(tmp_path / "bin")])
    hit = find_python("3.13", {"PATH": path}, root=pyenv_root)
    assert hit.interpreter == on_path


def test_prereleases_and_free_threaded_builds_are_not_matched(pyenv_root: Path) -> None:
    miss = find_python("3.14", {"PATH": ""}, root=pyenv_root)
    assert miss.interpreter is None
    assert not miss.found


def test_a_miss_says_everywhere_it_looked(tmp_path: Path, pyenv_root: Path) -> None:
    miss = find_python("3.14", {"PATH": str(tmp_path / "empty")}, root=pyenv_root)
    text = miss.describe_miss()
    assert "Python 3.14 not found" in text
    assert "python3.14 on PATH (pyenv shims skipped)" in text
    assert str(pyenv_root / "versions" / "3.14.*") in text
    assert "pyenv install 3.14" in text


def test_without_pyenv_only_path_is_searched(tmp_path: Path) -> None:
    miss = find_python("3.12", {"PATH": str(tmp_path)}, root=None)
    assert miss.looked_in == ("python3.12 on PATH (pyenv shims skipped)",)
    assert Lookup("3.12", None).describe_miss().endswith("on PATH.")
