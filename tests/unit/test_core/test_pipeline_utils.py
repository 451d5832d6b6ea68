from __future__ import annotations

from pathlib import Path

import pytest

from mlops.environment.prefixes import (
    PrefixKind,
    bin_paths,
    environ_with_paths,
    install_argv,
    interpreter_path,
    read_requirements,
)
from mlops.errors import ConfigError


@pytest.mark.parametrize(
    ("kind", "windows", "python", "paths"),
    [(PrefixKind.VENV, False, "p/bin/python", ["p/bin"]),
     (PrefixKind.CONDA, False, "p/bin/python", ["p/bin"]),
     (PrefixKind.VENV, True, "p/Scripts/python.exe", ["p/Scripts"]),
     (PrefixKind.CONDA, True, "p/python.exe", ["p", "p/Library/bin", "p/Scripts"])],
    ids=["venv-posix", "conda-posix", "venv-windows", "conda-windows"],
)  # fmt: skip
def test_interpreter_and_bin_paths_per_layout(
    kind: PrefixKind, windows: bool, python: str, paths: list[str]
) -> None:
    assert interpreter_path(Path("p"), kind, windows=windows) == Path(python)
    assert bin_paths(Path("p"), kind, windows=windows) == [Path(p) for p in paths]


def test_activation_is_path_first_and_drops_leaky_variables() -> None:
    base = {"PATH": "/usr/bin::/bin", "PYTHONHOME": "/x", "VIRTUAL_ENV": "/old", "HOME": "/h"}
    env = environ_with_paths([Path("/e/bin")], base, prefix=Path("/e"), kind=PrefixKind.VENV)
    assert env == {"PATH": "/e/bin:/usr/bin:/bin", "HOME": "/h", "VIRTUAL_ENV": "/e"}
    conda = environ_with_paths([Path("/c/bin")], base, prefix=Path("/c"), kind=PrefixKind.CONDA)
    assert conda["CONDA_PREFIX"] == "/c"
    assert "VIRTUAL_ENV" not in conda
    assert base["VIRTUAL_ENV"] == "/old"  # the caller's mapping is untouched


def test_requirements_files_follow_includes_and_digest_every_file(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text("# shared\nsix>=1.16  # pinned below\n")
    (tmp_path / "reqs" / "main.txt").write_text("-r base.txt\n\nidna \\\n  >=3\n./wheels/a.whl\n")
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "a.whl").write_bytes(b"wheel")
    (tmp_path / "constraints.txt").write_text("six==1.16.0\n")
    resolved = read_requirements(
        "reqs/main.txt", "constraints.txt", tmp_path, key="environment.venv"
    )
    assert resolved.lines == ("six>=1.16", "idna >=3", "./wheels/a.whl")
    assert resolved.constraints == ("six==1.16.0",)
    assert [name for name, _ in resolved.digests] == [
        "./wheels/a.whl", "constraints.txt", "reqs/base.txt", "reqs/main.txt",
    ]  # fmt: skip
    before = dict(resolved.digests)
    (tmp_path / "wheels" / "a.whl").write_bytes(b"rebuilt")
    after = dict(read_requirements("reqs/main.txt", None, tmp_path, key="k").digests)
    assert after["./wheels/a.whl"] != before["./wheels/a.whl"]


def test_a_list_is_kept_as_written_and_a_missing_file_names_the_key(tmp_path: Path) -> None:
    assert read_requirements([" six ", "", "idna"], None, tmp_path, key="k").lines == (
        "six",
        "idna",
    )
    assert not read_requirements(None, None, tmp_path, key="k")
    with pytest.raises(ConfigError, match=r"environment.venv.requirements: no requirements file"):
        read_requirements("missing.txt", None, tmp_path, key="environment.venv")
    with pytest.raises(ConfigError, match=r"environment.venv.constraints: no requirements file"):
        read_requirements([], "missing.txt", tmp_path, key="environment.venv")


def test_install_argv_for_uv_and_pip() -> None:
    python = Path("/e/bin/python")
    assert install_argv("uv", python, ["six"], [Path("c.txt")]) == [
        "uv", "pip", "install", "--python", "/e/bin/python", "--constraint", "c.txt", "six",
    ]  # fmt: skip
    assert install_argv("pip", python, ["six"]) == [
        "/e/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
        "--no-compile", "six",
    ]  # fmt: skip


def test_both_tools_compile_bytecode_only_when_asked() -> None:
    python = Path("/e/bin/python")
    uv = install_argv("uv", python, ["six"], compile_bytecode=True)
    assert uv[:4] == ["uv", "pip", "install", "--compile-bytecode"]
    pip = install_argv("pip", python, ["six"], compile_bytecode=True)
    assert "--no-compile" not in pip  # pip compiles by default
