"""Which pyproject dependencies a constraints file was locked for.

``nox -s lock`` writes ``constraints/py3.X.txt`` with uv, then this stamps each
file with a digest of the pyproject tables the lock was computed from (the
project's dependencies, extras and dependency groups). A unit test compares
the committed stamps with today's pyproject, so a dependency changed without
``nox -s lock`` fails the suite instead of testing against a stale lock.

Usage: ``python -m nox_support.lock_stamp PYPROJECT CONSTRAINTS...``
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PREFIX = "# pyproject dependencies sha256: "


def lock_inputs(pyproject: Mapping[str, Any]) -> str:
    """Digest of the pyproject tables a lock is computed from."""
    project = pyproject.get("project", {})
    relevant = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "dependency-groups": pyproject.get("dependency-groups", {}),
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def read_stamp(constraints: Path) -> str | None:
    for line in constraints.read_text(encoding="utf-8").splitlines():
        if line.startswith(PREFIX):
            return line.removeprefix(PREFIX).strip()
    return None


def write_stamp(constraints: Path, stamp: str) -> None:
    """Put the stamp after the header comments uv wrote, replacing any earlier stamp."""
    lines = [
        line
        for line in constraints.read_text(encoding="utf-8").splitlines()
        if not line.startswith(PREFIX)
    ]
    at = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    lines.insert(at, PREFIX + stamp)
    constraints.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) < 2:
        print("usage: python -m nox_support.lock_stamp PYPROJECT CONSTRAINTS...", file=sys.stderr)
        return 2
    with Path(args[0]).open("rb") as handle:
        stamp = lock_inputs(tomllib.load(handle))
    for name in args[1:]:
        write_stamp(Path(name), stamp)
        print(f"{name}: locked for pyproject dependencies {stamp[:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
