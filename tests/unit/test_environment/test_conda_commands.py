"""Conda command construction and lockfile choice (CondaManager)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from mlops.environment import conda_commands as conda
from mlops.environment.conda_commands import EnvSpec, Frontend, SpecKind

PREFIX = Path("/work/.nox/conda-prefix")


def test_order_defaults_to_the_binaries_then_rattler() -> None:
    assert conda.parse_order(None) == ("micromamba", "mamba", "conda", "rattler")
    assert conda.parse_order("conda|mamba") == ("conda", "mamba")


@pytest.mark.parametrize("value", ["pip", "conda|poetry", "|"], ids=["pip", "mixed", "empty"])
def test_unknown_frontends_are_refused_with_the_valid_names(value: str) -> None:
    with pytest.raises(ValueError, match=r"choose from micromamba\|mamba\|conda"):
        conda.parse_order(value)


def test_first_frontend_present_in_order_wins() -> None:
    found = {"mamba": "/opt/bin/mamba", "conda": "/opt/bin/conda"}
    hit = conda.find_frontend(conda.FRONTENDS, {}, found.get)
    assert hit == Frontend("mamba", "/opt/bin/mamba")


def test_exported_exe_variables_count_when_not_on_path(tmp_path: Path) -> None:
    exe = tmp_path / "micromamba"
    exe.write_text("")
    hit = conda.find_frontend(conda.FRONTENDS, {"MAMBA_EXE": str(exe)}, lambda _: None)
    assert hit == Frontend("micromamba", str(exe))


def test_no_frontend_gives_none() -> None:
    binaries = ("micromamba", "mamba", "conda")
    assert conda.find_frontend(binaries, {"CONDA_EXE": "/nope"}, lambda _: None) is None


def test_rattler_is_this_interpreter_when_py_rattler_is_importable() -> None:
    found = conda.find_frontend(conda.FRONTENDS, {}, lambda _: None)
    if importlib.util.find_spec("rattler") is None:
        assert found is None
    else:
        assert found == conda.Frontend("rattler", sys.executable)
    # A binary earlier in the order still wins.
    assert conda.find_frontend(conda.FRONTENDS, {}, lambda name: f"/bin/{name}") == (
        conda.Frontend("micromamba", "/bin/micromamba")
    )


def test_lockfile_wins_over_environment_yml(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text("name: x\n")
    assert conda.choose_spec(tmp_path) == EnvSpec(
        SpecKind.ENVIRONMENT, tmp_path / "environment.yml"
    )
    (tmp_path / "conda-lock.yml").write_text("version: 1\n")
    assert conda.choose_spec(tmp_path) == EnvSpec(SpecKind.LOCK, tmp_path / "conda-lock.yml")


def test_missing_environment_yml_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"environment\.yml is missing"):
        conda.choose_spec(tmp_path)


@pytest.mark.parametrize(
    ("frontend", "kind", "expected"),
    [
        ("micromamba", SpecKind.ENVIRONMENT,
         ["/x/micromamba", "create", "--yes", "--prefix", str(PREFIX),
          "--file", "environment.yml"]),
        ("micromamba", SpecKind.LOCK,
         ["/x/micromamba", "create", "--yes", "--prefix", str(PREFIX), "--file", "conda-lock.yml"]),
        ("mamba", SpecKind.ENVIRONMENT,
         ["/x/mamba", "env", "create", "--prefix", str(PREFIX), "--file", "environment.yml"]),
        ("conda", SpecKind.ENVIRONMENT,
         ["/x/conda", "env", "create", "--prefix", str(PREFIX), "--file", "environment.yml"]),
        ("conda", SpecKind.LOCK,
         ["conda-lock", "install", "--conda", "/x/conda", "--prefix", str(PREFIX),
          "conda-lock.yml"]),
    ],
    ids=["micromamba-env", "micromamba-lock", "mamba-env", "conda-env", "conda-lock"],
)  # fmt: skip
def test_create_argv(frontend: str, kind: SpecKind, expected: list[str]) -> None:
    file = "conda-lock.yml" if kind is SpecKind.LOCK else "environment.yml"
    argv = conda.create_argv(
        Frontend(frontend, f"/x/{frontend}"), EnvSpec(kind, Path(file)), PREFIX
    )
    assert argv == expected


def test_lock_argv_names_every_platform_and_the_output() -> None:
    argv = conda.lock_argv(
        Frontend("mamba", "/x/mamba"), Path("/r/environment.yml"), ["linux-64", "osx-arm64"]
    )
    assert argv == [
        "conda-lock", "lock", "--conda", "/x/mamba", "--file", "/r/environment.yml",
        "--platform", "linux-64", "--platform", "osx-arm64", "--lockfile", "/r/conda-lock.yml",
    ]  # fmt: skip


def test_prefix_layouts() -> None:
    assert conda.prefix_python(PREFIX) == PREFIX / "bin" / "python"
    assert conda.prefix_python(PREFIX, windows=True) == PREFIX / "python.exe"
    assert conda.prefix_bin_paths(PREFIX) == [PREFIX / "bin"]
    assert conda.prefix_bin_paths(PREFIX, windows=True)[0] == PREFIX


def test_repository_environment_yml_is_valid_for_the_session() -> None:
    root = Path(__file__).resolve().parents[3]
    spec = conda.choose_spec(root)
    assert spec.path.name in {"environment.yml", "conda-lock.yml"}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("fifo", "not a regular file"),
        ("tag", "cannot read this value"),
        ("bomb", "once aliases are expanded"),
        ("list", "expected channels: and dependencies:"),
    ],
    ids=["fifo", "unbuildable-value", "alias-bomb", "not-a-mapping"],
)
def test_an_environment_file_is_read_within_the_config_readers_bounds(
    tmp_path: Path, make: str, message: str
) -> None:
    """The user's environment.yml goes through the config reader: a FIFO, a value Python
    cannot build or an alias bomb is one EnvSetupError line, never a hang or a traceback."""
    import os

    from mlops.environment.conda_channels import read_conda_document
    from mlops.errors import EnvSetupError

    path = tmp_path / "environment.yml"
    if make == "fifo":
        os.mkfifo(path)
    elif make == "tag":
        path.write_text("channels: [conda-forge]\ndependencies:\n  - !!float abc\n")
    elif make == "bomb":
        lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'] + [
            f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)
        ]
        path.write_text("\n".join(lines) + "\n")
    else:
        path.write_text("- python\n")
    with pytest.raises(EnvSetupError, match=message) as raised:
        read_conda_document(path, "environment.conda.environment_file")
    assert "\n" not in raised.value.one_line()
