"""Interpreter paths, activation without ``activate``, and requirement lists.

Pure functions shared by the environment managers and the run: where an
environment keeps its interpreter and tools, the process environment that
makes them win (what ``activate`` would do, as data), which requirements a
spec names (a list or a ``requirements.txt`` with ``-r``/``-c`` includes),
and the argv that installs them with uv or pip. Nothing here runs a command;
:mod:`mlops.environment.utils` does.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from mlops.errors import ConfigError

# Variables that would make an interpreter ignore the environment it belongs to.
_LEAKY_VARIABLES = ("PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "__PYVENV_LAUNCHER__")


class PrefixKind(StrEnum):
    VENV = "venv"
    CONDA = "conda"


def interpreter_path(prefix: Path, kind: PrefixKind, *, windows: bool | None = None) -> Path:
    """The Python interpreter inside ``prefix`` (call it by path, never activate)."""
    windows = os.name == "nt" if windows is None else windows
    if not windows:
        return prefix / "bin" / "python"
    return prefix / ("Scripts" if kind is PrefixKind.VENV else "") / "python.exe"


def bin_paths(prefix: Path, kind: PrefixKind, *, windows: bool | None = None) -> list[Path]:
    """Folders to put first on PATH so the environment's tools win, as activation would."""
    windows = os.name == "nt" if windows is None else windows
    if not windows:
        return [prefix / "bin"]
    if kind is PrefixKind.VENV:
        return [prefix / "Scripts"]
    return [prefix, prefix / "Library" / "bin", prefix / "Scripts"]


def environ_with_paths(
    paths: Sequence[Path],
    base: Mapping[str, str],
    *,
    prefix: Path | None = None,
    kind: PrefixKind | None = None,
) -> dict[str, str]:
    """``base`` with ``paths`` first on PATH and the prefix variables activation sets."""
    env = {k: v for k, v in base.items() if k not in _LEAKY_VARIABLES}
    rest = [p for p in base.get("PATH", "").split(os.pathsep) if p]
    env["PATH"] = os.pathsep.join([*(str(p) for p in paths), *rest])
    if prefix is not None and kind is PrefixKind.VENV:
        env["VIRTUAL_ENV"] = str(prefix)
    elif prefix is not None and kind is PrefixKind.CONDA:
        env["CONDA_PREFIX"] = str(prefix)
    return env


# ------------------------------------------------------------------ requirements


@dataclass(frozen=True)
class Requirements:
    """What a spec asks to install, resolved against the project folder.

    ``lines`` are requirement specifiers (``-r`` includes expanded), ``files``
    the requirements/constraints files read and the local files they name,
    with their digests, so an edit to any of them changes the spec hash.
    """

    lines: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    digests: tuple[tuple[str, str], ...] = ()
    #: The requirements and constraints files read (names as in ``digests``): their
    #: lines are in ``lines`` and ``constraints``.
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.lines)


def read_requirements(
    requirements: Sequence[str] | str | None,
    constraints: str | None,
    base_dir: Path,
    *,
    key: str,
) -> Requirements:
    """Requirements of a spec: a list of specifiers, or a path to a requirements file."""
    digests: dict[str, str] = {}
    if requirements is None:
        lines: list[str] = []
    elif isinstance(requirements, str):
        lines = _read_file(base_dir / requirements, base_dir, f"{key}.requirements", digests)
    else:
        lines = [str(r).strip() for r in requirements if str(r).strip()]
    constraint_lines = (
        _read_file(base_dir / constraints, base_dir, f"{key}.constraints", digests)
        if constraints
        else []
    )
    sources = tuple(sorted(digests))
    for line in lines:
        candidate = base_dir / line
        if _looks_like_path(line) and candidate.is_file():
            digests[line] = _digest(candidate)
    return Requirements(
        tuple(lines), tuple(constraint_lines), tuple(sorted(digests.items())), sources
    )


def _looks_like_path(line: str) -> bool:
    return line.startswith((".", "/")) or line.endswith((".whl", ".tar.gz", ".zip"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_file(path: Path, base_dir: Path, key: str, digests: dict[str, str]) -> list[str]:
    if not path.is_file():
        raise ConfigError(f"{key}: no requirements file {path}", hint="check the path")
    digests[str(path.relative_to(base_dir) if path.is_relative_to(base_dir) else path)] = _digest(
        path
    )
    out: list[str] = []
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    for raw in text.splitlines():
        line = " ".join(raw.split(" #", 1)[0].split())
        if not line or line.startswith("#"):
            continue
        for flag in ("-r ", "--requirement "):
            if line.startswith(flag):
                out += _read_file(path.parent / line[len(flag) :].strip(), base_dir, key, digests)
                break
        else:
            out.append(line)
    return out


def install_argv(
    tool: str,
    python: Path,
    packages: Sequence[str],
    constraint_files: Sequence[Path] = (),
    *,
    compile_bytecode: bool = False,
) -> list[str]:
    """The argv that installs ``packages`` into the interpreter ``python`` with uv or pip.

    ``compile_bytecode`` compiles every module of the environment at install;
    without it, Python compiles a module the first time it is imported (both
    tools then agree: pip is told ``--no-compile``).
    """
    constraints = [arg for path in constraint_files for arg in ("--constraint", str(path))]
    if tool == "uv":
        compiling = ["--compile-bytecode"] if compile_bytecode else []
        return [
            "uv", "pip", "install", *compiling, "--python", str(python),
            *constraints, *packages,
        ]  # fmt: skip
    compiling = [] if compile_bytecode else ["--no-compile"]
    return [
        str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
        *compiling, *constraints, *packages,
    ]  # fmt: skip


__all__ = [
    "PrefixKind",
    "Requirements",
    "bin_paths",
    "environ_with_paths",
    "install_argv",
    "interpreter_path",
    "read_requirements",
]
