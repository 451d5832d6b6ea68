"""The test suite's health as markdown (``nox -s health``, and the end of ``coverage.md``).

Four questions, each answered from files a test run leaves behind:

- **Mocks**: per test file, the uses of ``patch``, ``Mock``/``MagicMock`` and
  ``monkeypatch.setattr``, and what they patch outside mlops; the share of
  test files using any (target below 30%: fakes and real services first).
  Read from the tests' syntax trees, so a mock in a comment does not count.
- **Coverage by area** (``coverage.json`` of ``nox -s coverage-combine``):
  lines and branches per package of ``mlops`` against its target.
- **Slowest tests** (the JUnit XML of every tests session).
- **Flaky and quarantined** (``flakiness``: the outcome history and
  ``tests/quarantine.yaml``).

A missing input is said in its section instead of failing the report.

Usage: ``python -m nox_support.test_health [--root DIR] [--output FILE]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nox_support.coverage_report import module_name

MOCK_SHARE_TARGET = 30.0
AREA_TARGETS = {
    "mlops.core": 90.0,
    "mlops.storage": 90.0,
    "mlops.environment": 90.0,
    "mlops.managers": 90.0,
}
SLOWEST = 10
_MOCK_CLASSES = {"Mock", "MagicMock", "AsyncMock", "NonCallableMock", "create_autospec"}
_PATCH_FORMS = {"object", "dict", "multiple"}  # patch.object(...), mock.patch.dict(...)


# ------------------------------------------------------------------ mocks


@dataclass
class MockUse:
    path: str
    patches: int = 0
    mock_objects: int = 0
    setattrs: int = 0
    outside: list[str] = field(default_factory=list)  # targets not in mlops

    @property
    def total(self) -> int:
        return self.patches + self.mock_objects + self.setattrs


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _imports(tree: ast.AST) -> dict[str, str]:
    """Local name -> the module path it stands for."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _target(call: ast.Call, *, object_form: bool) -> str | None:
    """What a patch or setattr call replaces, as a dotted path (None when not literal)."""
    if not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if object_form and len(call.args) > 1:
        second = call.args[1]
        if isinstance(second, ast.Constant) and isinstance(second.value, str):
            return f"{ast.unparse(first)}.{second.value}"
    return None


def _in_mlops(target: str, imports: Mapping[str, str]) -> bool | None:
    """Whether ``target`` lies in mlops; None for a local object the file made itself."""
    root, _, rest = target.partition(".")
    if root == "mlops":
        return True
    if root in imports:
        resolved = imports[root]
        return resolved == "mlops" or resolved.startswith("mlops.")
    return None if rest else False


def mock_use(path: Path, root: Path) -> MockUse:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imports = _imports(tree)
    use = MockUse(path.relative_to(root).as_posix())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        target = None
        parts = name.split(".")
        if last == "patch" or (len(parts) > 1 and parts[-2] == "patch" and last in _PATCH_FORMS):
            use.patches += 1
            target = _target(node, object_form=last in _PATCH_FORMS)
        elif last in _MOCK_CLASSES:
            use.mock_objects += 1
        elif name == "monkeypatch.setattr":
            use.setattrs += 1
            target = _target(node, object_form=True)
        if target is not None and _in_mlops(target, imports) is False:
            use.outside.append(target)
    return use


def mock_uses(tests_dir: Path) -> list[MockUse]:
    files = sorted(tests_dir.rglob("test_*.py"))
    return [mock_use(path, tests_dir.parent) for path in files]


def mock_lines(uses: list[MockUse]) -> list[str]:
    using = [u for u in uses if u.total]
    share = 100.0 * len(using) / len(uses) if uses else 0.0
    mark = "meets" if share < MOCK_SHARE_TARGET else "misses"
    lines = [
        "### Mocks",
        "",
        (
            f"{len(using)} of {len(uses)} test files use mocks ({share:.1f}%; it {mark} the "
            f"target of under {MOCK_SHARE_TARGET:.0f}%). "
            f"{sum(u.total for u in uses)} uses in all."
        ),
    ]
    if using:
        lines += [
            "",
            "| test file | patch | Mock objects | monkeypatch.setattr | patched outside mlops |",
            "|---|---:|---:|---:|---|",
        ]
        for use in sorted(using, key=lambda u: (-u.total, u.path)):
            outside = ", ".join(f"`{t}`" for t in sorted(set(use.outside))) or "-"
            lines.append(
                f"| `{use.path}` | {use.patches} | {use.mock_objects} | {use.setattrs} "
                f"| {outside} |"
            )
    return lines


# ------------------------------------------------------------------ coverage


@dataclass
class Area:
    name: str
    covered: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0


def areas(report: Mapping[str, Any]) -> list[Area]:
    """Lines and branches per package: ``mlops.core.x`` counts toward ``mlops.core``."""
    found: dict[str, Area] = {}
    for path, data in report.get("files", {}).items():
        parts = module_name(path).split(".")
        name = ".".join(parts[:2]) if len(parts) > 2 else "mlops (top-level modules)"
        summary = data["summary"]
        area = found.setdefault(name, Area(name))
        area.covered += int(summary["covered_lines"]) + int(summary.get("covered_branches", 0))
        area.total += int(summary["num_statements"]) + int(summary.get("num_branches", 0))
    return sorted(found.values(), key=lambda a: a.name)


def coverage_lines(report: Mapping[str, Any] | None) -> list[str]:
    lines = ["### Coverage by area", ""]
    if report is None:
        return [*lines, "No coverage.json: run `nox -s coverage-combine` after the tests."]
    lines += ["| area | lines and branches | target | |", "|---|---:|---:|---|"]
    for area in areas(report):
        target = AREA_TARGETS.get(area.name)
        verdict = "" if target is None else ("ok" if area.percent >= target else "**below**")
        shown = f"{target:.0f}%" if target is not None else "-"
        lines.append(f"| `{area.name}` | {area.percent:.1f}% | {shown} | {verdict} |")
    return lines


# ------------------------------------------------------------------ durations


@dataclass(frozen=True)
class Timing:
    test: str
    session: str
    seconds: float


def _test_id(case: ET.Element) -> str:
    classname, name = case.get("classname", ""), case.get("name", "")
    parts = classname.split(".")
    # pytest writes tests.unit.test_x.TestClass: the module ends at the test_* part.
    module_end = max((i for i, p in enumerate(parts) if p.startswith("test_")), default=-1)
    if module_end < 0:
        return f"{classname}::{name}"
    module = "/".join(parts[: module_end + 1]) + ".py"
    return "::".join([module, *parts[module_end + 1 :], name])


def timings(reports: Iterable[Path]) -> list[Timing]:
    found = []
    for report in reports:
        root = ET.parse(report).getroot()  # noqa: S314 - our own pytest output
        for case in root.iter("testcase"):
            found.append(Timing(_test_id(case), report.stem, float(case.get("time", 0) or 0)))
    return sorted(found, key=lambda t: (-t.seconds, t.test, t.session))


def slowest_lines(found: list[Timing], count: int = SLOWEST) -> list[str]:
    lines = [f"### The {count} slowest tests", ""]
    if not found:
        return [*lines, "No JUnit reports in .nox/_reports: run a tests session first."]
    lines += ["| test | session | seconds |", "|---|---|---:|"]
    lines += [f"| `{t.test}` | {t.session} | {t.seconds:.2f} |" for t in found[:count]]
    return lines


# ------------------------------------------------------------------ flaky


def flaky_lines(history_file: Path, quarantine_file: Path) -> list[str]:
    from flakiness import history, quarantine, report

    lines = ["### Flaky and quarantined tests", ""]
    if not history_file.is_file():
        return [*lines, f"No outcome history at {history_file}: run a tests session first."]
    try:
        quarantined = quarantine.load(quarantine_file) if quarantine_file.is_file() else {}
    except quarantine.QuarantineError as exc:
        return [*lines, f"**{quarantine_file} is invalid:** {exc}"]
    text = report.report_lines(
        history.load(history_file), history.Settings(), quarantined, history_file
    )
    return [*lines, "```", *[line for line in text if line], "```"]


# ------------------------------------------------------------------ the report


def render(root: Path, *, heading: str = "## Test health") -> str:
    coverage_file = root / "coverage.json"
    coverage = (
        json.loads(coverage_file.read_text(encoding="utf-8")) if coverage_file.is_file() else None
    )
    reports = sorted((root / ".nox" / "_reports").glob("*.xml"))
    sections = [
        [heading],
        mock_lines(mock_uses(root / "tests")),
        coverage_lines(coverage),
        slowest_lines(timings(reports)),
        flaky_lines(root / ".nox" / "flaky-history.json", root / "tests" / "quarantine.yaml"),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    args = parser.parse_args(argv)
    if not (args.root / "tests").is_dir():
        print(f"{args.root}: no tests/ folder here (pass --root)", file=sys.stderr)
        return 2
    text = render(args.root)
    print(text, end="")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
