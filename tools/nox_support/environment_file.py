"""``environment.yml`` written from ``pyproject.toml``: one source for the conda session's packages.

The conda environment of ``nox -s conda`` (where a conda frontend builds it, and
the ``conda-lock.yml`` that ``nox -s lock`` solves from it) holds what
``pip install 'mlops[all,dev]'`` would: the dependencies, the ``all`` extra (its
``mlops[...]`` self-references expanded) and ``dev``. PyPI names become
conda-forge's where they differ (:data:`CONDA_NAMES`), an extra that is a
package of its own there becomes that package (:data:`EXTRA_PACKAGES`), and what
conda-forge does not carry (:data:`PIP_ONLY`) and what has an environment
marker (conda has none) are installed by pip inside the environment. Versions
are pyproject's lower bounds, as written.

``nox -s lock`` writes the file; ``nox -s lint`` runs
``python -m nox_support.environment_file --check`` and fails, with the diff,
when the file is not what pyproject says.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The Python of the environment: the conda session's first interpreter.
PYTHON = "3.12"
#: The extras the environment holds, besides the dependencies.
EXTRAS = ("all", "dev")
#: PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"redis": "redis-py", "matplotlib": "matplotlib-base"}
#: (PyPI name, extra) -> the conda-forge packages that extra installs.
EXTRA_PACKAGES = {("dask", "distributed"): ("distributed",)}
#: Not on conda-forge (or not under a name we can rely on): pip installs them.
PIP_ONLY = frozenset({"gcp-storage-emulator", "httpx2", "py-rattler-build"})
HEADER = """\
# Generated from pyproject.toml by `nox -s lock` (nox_support.environment_file):
# edit pyproject.toml, not this file; `nox -s lint` fails when they differ.
# The conda environment of `nox -s conda` where a conda frontend builds it: the
# dependencies and the `all` and `dev` extras, from conda-forge. The session
# installs the freshly built mlops wheel into it with `pip install --no-deps`;
# conda-lock.yml (`nox -s lock`, where conda is installed) is preferred when present.
"""

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$")


@dataclass(frozen=True)
class Requirement:
    """One PEP 508 requirement as pyproject writes it: name, extras, version, marker."""

    name: str
    extras: tuple[str, ...]
    version: str
    marker: str

    @classmethod
    def parse(cls, text: str) -> Requirement:
        spec, _, marker = text.partition(";")
        match = _REQUIREMENT.match(spec)
        if match is None:
            raise ValueError(f"cannot read the requirement {text!r}")
        name, extras, version = match.groups()
        parts = tuple(e.strip() for e in (extras or "").split(",") if e.strip())
        return cls(name, parts, version.replace(" ", ""), marker.strip())

    @property
    def key(self) -> str:
        return re.sub(r"[-_.]+", "-", self.name).lower()


def requirements(
    pyproject: Mapping[str, Any], extras: Sequence[str] = EXTRAS
) -> dict[str, list[Requirement]]:
    """The requirements of each section (``dependencies``, then each extra), self-references
    (``mlops[a,b]``) expanded and each requirement listed once, where it first appears."""
    project = pyproject["project"]
    optional: Mapping[str, list[str]] = project.get("optional-dependencies", {})
    own = re.sub(r"[-_.]+", "-", project["name"]).lower()
    seen: set[str] = set()

    def expand(lines: Iterable[str], trail: tuple[str, ...]) -> list[Requirement]:
        out = []
        for line in lines:
            requirement = Requirement.parse(line)
            if requirement.key == own:
                for extra in requirement.extras:
                    if extra in trail:
                        raise ValueError(f"extra {extra!r} includes itself")
                    if extra not in optional:
                        raise ValueError(f"{line!r}: no extra {extra!r} in pyproject.toml")
                    out += expand(optional[extra], (*trail, extra))
            elif requirement.key not in seen:
                seen.add(requirement.key)
                out.append(requirement)
        return out

    sections = {"dependencies": expand(project.get("dependencies", []), ())}
    for extra in extras:
        sections[extra] = expand(optional[extra], (extra,))
    return sections


def conda_lines(requirement: Requirement) -> tuple[list[str], list[str]]:
    """What the requirement is in the file: conda package specs, or pip requirements."""
    # conda specs have no environment markers; pip evaluates them.
    if requirement.key in PIP_ONLY or requirement.marker:
        return [], [_pip_line(requirement)]
    name = CONDA_NAMES.get(requirement.key, requirement.name)
    out = [f"{name}{requirement.version}"]
    for extra in requirement.extras:
        out += [
            f"{p}{requirement.version}" for p in EXTRA_PACKAGES.get((requirement.key, extra), ())
        ]
    return out, []


def _pip_line(requirement: Requirement) -> str:
    extras = f"[{','.join(requirement.extras)}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{requirement.name}{extras}{requirement.version}{marker}"


def render(pyproject: Mapping[str, Any]) -> str:
    """The text of ``environment.yml`` for ``pyproject``."""
    lines = [HEADER.rstrip("\n"), "name: mlops-tests", "channels:", "  - conda-forge",
             "  - nodefaults", "dependencies:", f"  - python={PYTHON}", "  - pip"]  # fmt: skip
    pip: list[str] = []
    for section, listed in requirements(pyproject).items():
        title = "runtime" if section == "dependencies" else f"extra: {section}"
        conda: list[str] = []
        for requirement in listed:
            packages, by_pip = conda_lines(requirement)
            conda += packages
            pip += by_pip
        if conda:
            lines += [f"  # {title}", *(f"  - {line}" for line in conda)]
    if pip:
        lines += ["  # not on conda-forge, or with a marker: installed by pip", "  - pip:"]
        lines += [f"      - {line}" for line in pip]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nox_support.environment_file")
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    parser.add_argument("--output", type=Path, default=Path("environment.yml"))
    parser.add_argument("--check", action="store_true", help="fail when the file differs")
    args = parser.parse_args(argv)
    wanted = render(tomllib.loads(args.pyproject.read_text(encoding="utf-8")))
    try:
        current = args.output.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    if not args.check:
        if current != wanted:
            args.output.write_text(wanted, encoding="utf-8")
        print(f"{args.output}: {'written' if current != wanted else 'up to date'}")
        return 0
    if current == wanted:
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True), wanted.splitlines(keepends=True),
        fromfile=str(args.output), tofile=f"{args.output} (from {args.pyproject})",
    )  # fmt: skip
    sys.stdout.writelines(diff)
    print(f"{args.output} does not match {args.pyproject}: run `nox -s lock` to rewrite it")
    return 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Requirement", "conda_lines", "main", "render", "requirements"]
