"""Conda commands: which frontend, which spec file, which argv.

Used by :class:`~mlops.environment.conda_manager.CondaManager`. Standard
library only. A ``conda-lock.yml`` lockfile wins over ``environment.yml``: it
pins every package for every platform.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from mlops.environment import rattler_env
from mlops.environment.prefixes import PrefixKind, bin_paths, interpreter_path
from mlops.runtime.request import CONDA_FRONTENDS

FRONTENDS: tuple[str, ...] = CONDA_FRONTENDS
ENV_FILE = "environment.yml"
LOCK_FILE = "conda-lock.yml"
LOCK_PLATFORMS: tuple[str, ...] = ("linux-64", "osx-arm64", "osx-64", "win-64")
INSTALL_HINT = (
    "no conda frontend found (looked for micromamba, mamba and conda on PATH and in "
    "$MAMBA_EXE/$CONDA_EXE, and for py-rattler in this interpreter); "
    "pip install 'mlops[conda]', or install micromamba or Miniforge"
)


class SpecKind(StrEnum):
    LOCK = "conda-lock"
    ENVIRONMENT = "environment.yml"


@dataclass(frozen=True)
class Frontend:
    name: str
    executable: str


@dataclass(frozen=True)
class EnvSpec:
    kind: SpecKind
    path: Path


def parse_order(value: str | None) -> tuple[str, ...]:
    """``"micromamba|mamba|conda"`` -> the names, validated, in that order."""
    if not value:
        return FRONTENDS
    names = tuple(part.strip() for part in value.split("|") if part.strip())
    unknown = [name for name in names if name not in FRONTENDS]
    if unknown or not names:
        raise ValueError(
            f"unknown conda frontend {', '.join(unknown) or repr(value)}; "
            f"choose from {'|'.join(FRONTENDS)}"
        )
    return names


def find_frontend(
    order: Sequence[str],
    environ: Mapping[str, str],
    which: Callable[[str], str | None],
) -> Frontend | None:
    """The first frontend in ``order`` that exists.

    Found on PATH, or named by ``$MAMBA_EXE``/``$CONDA_EXE`` (set by shell hooks).
    """
    exported = {
        "micromamba": environ.get("MAMBA_EXE", ""),
        "conda": environ.get("CONDA_EXE", ""),
    }
    for name in order:
        if name == rattler_env.NAME:
            if rattler_env.available():
                return Frontend(name, sys.executable)
            continue
        hit = which(name)
        if hit is None and exported.get(name) and Path(exported[name]).is_file():
            hit = exported[name]
        if hit is not None:
            return Frontend(name, hit)
    return None


def choose_spec(root: Path) -> EnvSpec:
    """``conda-lock.yml`` when present, else ``environment.yml``."""
    lock = root / LOCK_FILE
    if lock.is_file():
        return EnvSpec(SpecKind.LOCK, lock)
    env_file = root / ENV_FILE
    if not env_file.is_file():
        raise FileNotFoundError(f"{env_file} is missing; the conda session is built from it")
    return EnvSpec(SpecKind.ENVIRONMENT, env_file)


def create_argv(frontend: Frontend, spec: EnvSpec, prefix: Path) -> list[str]:
    """The argv that builds ``prefix`` from ``spec`` with ``frontend``, non-interactively.

    micromamba reads conda-lock's unified lockfile directly; conda and mamba
    install it through ``conda-lock install``.
    """
    exe = frontend.executable
    if spec.kind is SpecKind.LOCK:
        if frontend.name == "micromamba":
            return [exe, "create", "--yes", "--prefix", str(prefix), "--file", str(spec.path)]
        return [
            "conda-lock", "install", "--conda", exe, "--prefix", str(prefix), str(spec.path),
        ]  # fmt: skip
    if frontend.name == "micromamba":
        return [exe, "create", "--yes", "--prefix", str(prefix), "--file", str(spec.path)]
    return [exe, "env", "create", "--prefix", str(prefix), "--file", str(spec.path)]


def lock_argv(frontend: Frontend, env_file: Path, platforms: Sequence[str]) -> list[str]:
    """The argv that refreshes ``conda-lock.yml`` from ``environment.yml``."""
    argv = ["conda-lock", "lock", "--conda", frontend.executable, "--file", str(env_file)]
    for platform in platforms:
        argv += ["--platform", platform]
    argv += ["--lockfile", str(env_file.with_name(LOCK_FILE))]
    return argv


def packages_argv(
    frontend: Frontend,
    prefix: Path,
    packages: Sequence[str],
    channels: Sequence[str],
) -> list[str]:
    """The argv that creates ``prefix`` from a package list, on exactly ``channels``."""
    if frontend.name == rattler_env.NAME:
        return rattler_env.create_argv(prefix, packages, channels)
    argv = [frontend.executable, "create", "--yes", "--json", "--prefix", str(prefix)]
    if channels:
        argv.append("--override-channels")
        for channel in channels:
            argv += ["--channel", channel]
    return [*argv, *packages]


def prefix_python(prefix: Path, *, windows: bool = False) -> Path:
    """The interpreter inside a conda prefix (no activation: call it by path)."""
    return interpreter_path(prefix, PrefixKind.CONDA, windows=windows)


def prefix_bin_paths(prefix: Path, *, windows: bool = False) -> list[Path]:
    """Folders to put first on PATH so the prefix's tools win, as activation would."""
    return bin_paths(prefix, PrefixKind.CONDA, windows=windows)
