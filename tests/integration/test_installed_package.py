"""The matrix tests the built wheel, never the checkout."""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

import pytest

import mlops

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    os.environ.get("MLOPS_EXPECT_INSTALLED") != "1",
    reason="only meaningful inside a nox session, which installs the wheel",
)
def test_mlops_is_imported_from_site_packages_not_src() -> None:
    location = Path(mlops.__file__).resolve()
    assert not location.is_relative_to(REPO_ROOT / "src")
    assert "site-packages" in location.parts


def test_distribution_metadata_matches_the_package() -> None:
    dist = metadata.distribution("mlops")
    assert dist.version == mlops.__version__
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts == {"mlops": "mlops.main:main"}
    assert dist.metadata["Requires-Python"] == ">=3.11"


def test_package_ships_its_type_marker() -> None:
    assert (Path(mlops.__file__).parent / "py.typed").is_file()
