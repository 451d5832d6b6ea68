"""The conda session's prefix from environment.yml or conda-lock.yml, by a conda binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from nox_support import conda_env
from nox_support.conda_channel import find_interpreter


def test_the_lockfile_wins_over_environment_yml(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"environment\.yml is missing"):
        conda_env.choose_spec(tmp_path)
    (tmp_path / "environment.yml").write_text("name: x\n")
    assert conda_env.choose_spec(tmp_path).name == "environment.yml"
    (tmp_path / "conda-lock.yml").write_text("version: 1\n")
    assert conda_env.choose_spec(tmp_path).name == "conda-lock.yml"


@pytest.mark.parametrize(
    ("frontend", "spec", "head"),
    [
        ("micromamba", "conda-lock.yml", ["/bin/mm", "create", "--yes"]),
        ("micromamba", "environment.yml", ["/bin/mm", "create", "--yes"]),
        ("conda", "conda-lock.yml", ["conda-lock", "install", "--conda", "/bin/mm"]),
        ("mamba", "environment.yml", ["/bin/mm", "env", "create", "--prefix"]),
    ],
    ids=["micromamba-lock", "micromamba-env", "conda-lock", "mamba-env"],
)
def test_create_argv_per_frontend(frontend: str, spec: str, head: list[str]) -> None:
    argv = conda_env.create_argv(frontend, "/bin/mm", Path("/r") / spec, Path("/p"))
    assert argv[: len(head)] == head
    assert "/p" in argv
    assert str(Path("/r") / spec) in argv


def test_lock_argv_names_every_platform_and_the_lockfile() -> None:
    argv = conda_env.lock_argv("/bin/conda", Path("/r"))
    assert argv[:4] == ["conda-lock", "lock", "--conda", "/bin/conda"]
    assert argv.count("--platform") == len(conda_env.LOCK_PLATFORMS)
    assert argv[-2:] == ["--lockfile", "/r/conda-lock.yml"]


def test_a_prefix_is_current_only_for_the_spec_it_was_built_from(tmp_path: Path) -> None:
    spec, prefix = tmp_path / "environment.yml", tmp_path / "prefix"
    spec.write_text("dependencies: [python=3.12]\n")
    assert not conda_env.is_current(prefix, spec)
    prefix.mkdir()
    (prefix / ".built-from-environment.yml").write_text(spec.read_text())
    assert conda_env.is_current(prefix, spec)
    spec.write_text("dependencies: [python=3.13]\n")
    assert not conda_env.is_current(prefix, spec)


def test_main_without_arguments_is_a_usage_error() -> None:
    assert conda_env.main([]) == 2


def test_the_channel_packages_the_first_interpreter_path_that_exists(tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.write_text("")
    assert find_interpreter([str(tmp_path / "absent" / "python"), str(python)]) == str(python)
    assert find_interpreter([str(tmp_path / "absent" / "python")]) is None
