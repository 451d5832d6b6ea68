"""The conda session's prefix where a conda binary is installed, and the conda lockfile.

nox's conda backends create an environment from package names; ours is
described by ``environment.yml`` (or the ``conda-lock.yml`` that
``nox -s lock`` writes from it, pinned for every platform), which nox does
not read. Where micromamba, mamba or conda is installed, the ``conda``
session builds its prefix from that file with this script, and installs
the mlops wheel into it without dependencies (the file lists them). The
prefix is rebuilt only when the file changes: a copy is kept in the prefix.

Usage: ``python -m nox_support.conda_env PREFIX WHEEL FRONTEND EXECUTABLE``
(``FRONTEND`` is micromamba, mamba or conda), or
``python -m nox_support.conda_env --lock EXECUTABLE`` to refresh conda-lock.yml.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ENV_FILE = "environment.yml"
LOCK_FILE = "conda-lock.yml"
LOCK_PLATFORMS = ("linux-64", "osx-arm64", "osx-64", "win-64")


def choose_spec(root: Path) -> Path:
    """``conda-lock.yml`` when present, else ``environment.yml``."""
    for name in (LOCK_FILE, ENV_FILE):
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"{root / ENV_FILE} is missing; the conda session is built from it")


def create_argv(frontend: str, executable: str, spec: Path, prefix: Path) -> list[str]:
    """The argv that builds ``prefix`` from ``spec``, non-interactively.

    micromamba reads conda-lock's unified lockfile itself; conda and mamba
    install one through ``conda-lock install``.
    """
    if frontend == "micromamba":
        return [executable, "create", "--yes", "--prefix", str(prefix), "--file", str(spec)]
    if spec.name == LOCK_FILE:
        return ["conda-lock", "install", "--conda", executable, "--prefix", str(prefix), str(spec)]
    return [executable, "env", "create", "--prefix", str(prefix), "--file", str(spec)]


def lock_argv(executable: str, root: Path) -> list[str]:
    """The argv that refreshes ``conda-lock.yml`` from ``environment.yml``."""
    platforms = [arg for platform in LOCK_PLATFORMS for arg in ("--platform", platform)]
    return [
        "conda-lock", "lock", "--conda", executable, "--file", str(root / ENV_FILE),
        *platforms, "--lockfile", str(root / LOCK_FILE),
    ]  # fmt: skip


def is_current(prefix: Path, spec: Path) -> bool:
    """Whether ``prefix`` was built from the ``spec`` of today."""
    kept = prefix / f".built-from-{spec.name}"
    return kept.is_file() and kept.read_bytes() == spec.read_bytes()


def build(prefix: Path, wheel: Path, frontend: str, executable: str, root: Path) -> None:
    spec = choose_spec(root)
    if not is_current(prefix, spec):
        shutil.rmtree(prefix, ignore_errors=True)
        print(f"building {prefix} from {spec.name} with {frontend}", flush=True)
        subprocess.run(create_argv(frontend, executable, spec, prefix), check=True)
        shutil.copyfile(spec, prefix / f".built-from-{spec.name}")
    python = prefix / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall"]
    subprocess.run([*pip, str(wheel)], check=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    root = Path.cwd()
    try:
        if len(args) == 2 and args[0] == "--lock":
            subprocess.run(lock_argv(args[1], root), check=True)
        elif len(args) == 4:
            build(Path(args[0]), Path(args[1]), args[2], args[3], root)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except subprocess.CalledProcessError as exc:
        print(f"failed: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
