"""environment.yml from pyproject.toml: what it holds, and the drift check `nox -s lint` runs."""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml

from nox_support import environment_file
from nox_support.environment_file import Requirement, main, render

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = """\
[project]
name = "mlops"
dependencies = ["click>=8.1", "dask[distributed]>=2024.8"]

[project.optional-dependencies]
redis = ["redis>=5.0"]
plots = ["matplotlib>=3.9", "click>=8.1"]
all = ["mlops[redis,plots]"]
dev = ["pytest>=8.2", "gcp-storage-emulator>=2024.8", "tomli>=2; python_version < '3.11'"]
"""


def _names(listed: list[object]) -> set[str]:
    names = set()
    for entry in listed:
        if isinstance(entry, dict):
            names |= _names(entry["pip"])
        else:
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(entry))
            assert match is not None, entry
            names.add(re.sub(r"[-_.]+", "-", match.group(0)).lower())
    return names


def test_the_environment_holds_the_dependencies_and_the_all_and_dev_extras() -> None:
    written = yaml.safe_load(render(tomllib.loads(PYPROJECT)))
    assert written["channels"] == ["conda-forge", "nodefaults"]
    dependencies = written["dependencies"]
    assert dependencies[:2] == [f"python={environment_file.PYTHON}", "pip"]
    # conda-forge's names; an extra that is a package there; self-references expanded;
    # each once; what conda-forge lacks, by pip (markers kept).
    assert dependencies[2:-1] == [
        "click>=8.1", "dask>=2024.8", "distributed>=2024.8",
        "redis-py>=5.0", "matplotlib-base>=3.9",
        "pytest>=8.2",
    ]  # fmt: skip
    pip = ["gcp-storage-emulator>=2024.8", "tomli>=2; python_version < '3.11'"]
    assert dependencies[-1] == {"pip": pip}


def test_the_repositorys_file_covers_every_requirement_of_pyproject() -> None:
    """Read independently of the generator: every requirement of the dependencies and the
    all and dev extras is in environment.yml, by its conda-forge or its PyPI name."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = _names(yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"])
    project = pyproject["project"]
    wanted = [*project["dependencies"]]
    for extra in ("all", "dev"):
        wanted += project["optional-dependencies"][extra]
    for line in wanted:
        requirement = Requirement.parse(line)
        if requirement.key == "mlops":
            wanted += [r for e in requirement.extras for r in project["optional-dependencies"][e]]
            continue
        conda = environment_file.CONDA_NAMES.get(requirement.key, requirement.key)
        assert {requirement.key, conda} & listed, f"{line} is not in environment.yml"


def test_the_check_fails_with_the_diff_when_the_file_drifts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    output = tmp_path / "environment.yml"
    paths = ["--pyproject", str(pyproject), "--output", str(output)]
    assert main([*paths, "--check"]) == 1  # no file yet
    assert main(paths) == 0
    assert capsys.readouterr().out.endswith("written\n")
    assert main([*paths, "--check"]) == 0
    assert main(paths) == 0
    assert capsys.readouterr().out.endswith("up to date\n")

    pyproject.write_text(PYPROJECT.replace('"pytest>=8.2"', '"pytest>=8.2", "schemathesis>=4.0"'))
    before = output.read_text()
    assert main([*paths, "--check"]) == 1
    out = capsys.readouterr().out
    assert "+  - schemathesis>=4.0\n" in out
    assert out.strip().splitlines()[-1] == (
        f"{output} does not match {pyproject}: run `nox -s lock` to rewrite it"
    )
    assert output.read_text() == before  # a check writes nothing


def test_the_repositorys_file_is_what_pyproject_says() -> None:
    """What `nox -s lint` checks, so that the suite fails on drift as well."""
    paths = ["--pyproject", str(ROOT / "pyproject.toml"), "--output", str(ROOT / "environment.yml")]
    assert main([*paths, "--check"]) == 0, "run `nox -s lock` to rewrite environment.yml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('all = ["mlops[nope]"]', "no extra 'nope'"),
        ('all = ["mlops[all]"]', "extra 'all' includes itself"),
    ],
)
def test_a_broken_self_reference_is_named(text: str, message: str) -> None:
    pyproject = textwrap.dedent(f"""\
        [project]
        name = "mlops"
        [project.optional-dependencies]
        {text}
        dev = []
    """)
    with pytest.raises(ValueError, match=re.escape(message)):
        render(tomllib.loads(pyproject))
