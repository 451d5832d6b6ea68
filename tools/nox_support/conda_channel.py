"""A local conda channel built offline, for machines no conda channel can be reached from.

It holds what a conda environment needs to start: a ``python`` package made
from an interpreter installed on this machine, and a ``pip`` package from the
wheel that interpreter bundles (``ensurepip``); everything else comes from pip
inside the environment. Built with py-rattler-build:

- ``python``: a recipe copies the installation into ``$PREFIX`` and rewrites
  its absolute paths to ``$PREFIX``; rattler-build records them for relocation
  and makes the ELF run paths relative (``$ORIGIN/../lib``), so the installed
  environment runs with the original installation out of reach. Everything
  that names a place names the installed environment: sysconfig's data (the
  prefix, the include and library folders, the compiler's flags, so C
  extensions build inside it), ``python-config`` and the interpreter's other
  scripts. The standard library's bytecode is compiled hash-based and without
  the build's prefix; the few sources rewritten at installation ship none and
  compile at their first import. The package links the system libraries this
  machine image has: the channel serves this image (and CI, which shares it),
  not other systems.
- ``pip``: a ``noarch: python`` package assembled from the wheel's files.

Every file of the channel is readable by all (0644). The channel is rebuilt
only when its inputs change (the interpreter, its version, the builder's
version): ``channel/.inputs.json`` records them.
``python -m nox_support.conda_channel CHANNEL [--python PATH_OR_VERSION...]``
builds one from the first interpreter found (a version is looked up as nox
does, with python-discovery); none found leaves the channel as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

#: Bumped when what the builder puts in a package changes: the channel is rebuilt.
BUILDER_VERSION = 4
INPUTS_FILE = ".inputs.json"
# conda:3 takes seconds where the default level takes over a minute for python.
PACKAGE_FORMAT = "conda:3"

PYTHON_RECIPE = """\
context:
  version: "{version}"

package:
  name: python
  version: ${{{{ version }}}}

build:
  number: 0
  string: local_{builder}
  python:
    # The script compiles the bytecode (below). rattler-build's own pass would compile what
    # that leaves out on purpose (the sources rewritten at installation among them), one
    # process per file, mtime-checked and naming the build's prefix.
    skip_pyc_compilation:
      - "**/*.py"
  script:
    - cp -a "{source}/." "$PREFIX/"
    # Third-party packages, tests and scripts stay out; so does the bytecode compiled where
    # the interpreter was installed (it names that place): it is compiled again below.
    - rm -rf "$PREFIX/lib/python{short}/site-packages" "$PREFIX/lib/python{short}/test"
    - rm -rf "$PREFIX/lib/python{short}/lib2to3/tests"
    - find "$PREFIX/lib/python{short}" -depth -type d -name idle_test -exec rm -rf {{}} +
    - find "$PREFIX" -depth -type d -name __pycache__ -exec rm -rf {{}} +
    - mkdir -p "$PREFIX/lib/python{short}/site-packages"
    # The interpreter's own scripts stay (python-config, pydoc, idle, 2to3), rewritten with
    # the rest; a link left pointing at a removed script goes too.
    - >-
      find "$PREFIX/bin" -maxdepth 1 -type f ! -name 'python*' ! -name 'pydoc{short}'
      ! -name 'idle{short}' ! -name '2to3-{short}' -delete
    - find "$PREFIX/bin" -maxdepth 1 -xtype l -delete
    - grep -rlI --null "{source}" "$PREFIX" | xargs -0 -r sed -i "s|{source}|$PREFIX|g"
    # Installing a package resets file times, which voids mtime-checked .pyc files: every
    # start would compile the standard library again. Hash-based ones stay valid. -s keeps
    # the build's prefix out of the file names they record: import sets those from where
    # the source is found.
    - >-
      "$PREFIX/bin/python{short}" -W ignore -m compileall -q -f -j0
      --invalidation-mode unchecked-hash -s "$PREFIX" -x "site-packages|/tests?/|_test/"
      "$PREFIX/lib/python{short}"
    # Sources that hold the prefix (sysconfig's _sysconfigdata: prefix, LIBDIR, INCLUDEPY,
    # the compiler's flags) are rewritten when the package is installed; bytecode compiled
    # here would keep the build's prefix and, unchecked, be used anyway. They compile at
    # their first import instead.
    - >-
      grep -rlI --include='*.py' "$PREFIX" "$PREFIX/lib/python{short}" |
      "$PREFIX/bin/python{short}" -c "import importlib.util, pathlib, sys;
      [pathlib.Path(importlib.util.cache_from_source(source)).unlink(missing_ok=True)
      for source in sys.stdin.read().splitlines()]"
"""


@dataclass(frozen=True)
class Interpreter:
    """An installed CPython: its installation prefix and its version."""

    prefix: Path
    version: str

    @property
    def short(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @classmethod
    def of(cls, executable: str | Path) -> Interpreter:
        """The installation behind ``executable`` (a venv's python names its base)."""
        probe = "import sys; print(sys.base_prefix); print('%d.%d.%d' % sys.version_info[:3])"
        lines = subprocess.run(
            [str(executable), "-c", probe], capture_output=True, text=True, check=True
        ).stdout.split("\n")
        return cls(Path(lines[0]).resolve(), lines[1].strip())


def _inputs(interpreter: Interpreter) -> dict[str, object]:
    return {
        "builder": BUILDER_VERSION,
        "rattler_build": metadata.version("py-rattler-build"),
        **{k: str(v) for k, v in asdict(interpreter).items()},
    }


def is_current(channel: Path, interpreter: Interpreter) -> bool:
    try:
        recorded = json.loads((channel / INPUTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(recorded == _inputs(interpreter))


def build_channel(channel: Path, interpreter: Interpreter) -> Path:
    """Build (or keep, when its inputs are unchanged) the channel at ``channel``."""
    if is_current(channel, interpreter):
        return channel
    shutil.rmtree(channel, ignore_errors=True)
    channel.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="mlops-channel-") as scratch:
        work = Path(scratch)
        _build_python(channel, interpreter, work)
        _build_pip(channel, interpreter, work)
    _index(channel)
    _make_readable(channel)
    # Written last: a channel with its inputs recorded is complete.
    (channel / INPUTS_FILE).write_text(json.dumps(_inputs(interpreter)), encoding="utf-8")
    return channel


def _make_readable(channel: Path) -> None:
    """Every file of the channel readable by all, as a channel served to others is.

    rattler-build writes a package through a temporary file (mode 0600) and moves it into
    place: another user, or a container running as one, could not install from it.
    """
    for path in channel.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(0o644)


def _build_python(channel: Path, interpreter: Interpreter, work: Path) -> None:
    import rattler_build

    recipe = work / "python" / "recipe.yaml"
    recipe.parent.mkdir()
    recipe.write_text(
        PYTHON_RECIPE.format(
            version=interpreter.version,
            source=interpreter.prefix,
            short=interpreter.short,
            builder=BUILDER_VERSION,
        ),
        encoding="utf-8",
    )
    output = work / "output"
    with warnings.catch_warnings():
        # Its successor (Recipe.from_file ... run_build) takes the same recipe; this one
        # stays until the pinned py-rattler-build drops it.
        warnings.simplefilter("ignore", DeprecationWarning)
        rattler_build.build_recipes(
            [recipe], output_dir=output, package_format=PACKAGE_FORMAT, no_include_recipe=True,
            test="skip",
        )  # fmt: skip
    for package in output.glob("*/python-*.conda"):
        (channel / package.parent.name).mkdir(exist_ok=True)
        shutil.move(package, channel / package.parent.name / package.name)


def _bundled_pip(interpreter: Interpreter) -> Path:
    bundled = interpreter.prefix / "lib" / f"python{interpreter.short}" / "ensurepip" / "_bundled"
    wheels = sorted(bundled.glob("pip-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"no pip wheel bundled with the interpreter in {bundled}")
    return wheels[-1]


def _build_pip(channel: Path, interpreter: Interpreter, work: Path) -> None:
    import rattler_build

    wheel = _bundled_pip(interpreter)
    version = wheel.name.split("-")[1]
    staged = work / "pip" / "site-packages"
    staged.mkdir(parents=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(staged)
    rattler_build.assemble_package(
        name="pip", version=version, target_platform="noarch",
        build_string=f"local_{BUILDER_VERSION}", output_dir=channel / "noarch",
        files_dir=staged.parent, noarch="python", depends=["python >=3.9"], compression_level=3,
    )  # fmt: skip


def _index(channel: Path) -> None:
    from rattler.index import index_fs

    (channel / "noarch").mkdir(exist_ok=True)
    asyncio.run(index_fs(channel))


def find_interpreter(specs: Sequence[str]) -> str | None:
    """The first of ``specs`` that exists: a path as it is, a version (``3.12``) as nox finds it."""
    for spec in specs:
        if os.sep in spec:
            if Path(spec).is_file():
                return spec
            continue
        from python_discovery import get_interpreter

        found = get_interpreter(spec)
        if found is not None:
            return found.system_executable or found.executable
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nox_support.conda_channel")
    parser.add_argument("channel", type=Path)
    parser.add_argument(
        "--python", nargs="+", default=[sys.executable], help="the interpreters to try packaging"
    )
    args = parser.parse_args(argv)
    executable = find_interpreter(args.python)
    if executable is None:
        print(f"{args.channel}: not built, none of {', '.join(args.python)} found")
        return 0
    interpreter = Interpreter.of(executable)
    fresh = not is_current(args.channel, interpreter)
    build_channel(args.channel, interpreter)
    state = "built" if fresh else "up to date"
    print(f"{args.channel}: {state} (python {interpreter.version} from {interpreter.prefix}, pip)")
    return 0


def _leave(status: int) -> None:
    """Exit without interpreter finalisation, once everything is written.

    py-rattler's native threads can abort a normal exit (``PyGILState_Release``
    during finalisation, SIGABRT) after the channel is complete, which would
    fail a build that succeeded; nothing here needs atexit handlers.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    _leave(main())


__all__ = ["Interpreter", "build_channel", "find_interpreter", "is_current", "main"]
