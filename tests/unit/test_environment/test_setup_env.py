"""How mlops installs itself into a project's environment, and the re-executed command."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from mlops.environment.base import Environment
from mlops.environment.prefixes import PrefixKind
from mlops.environment.setup_env import (
    REEXEC_VARIABLE,
    inside,
    launch_of,
    runtime_requirements,
)


def dist_info(tmp_path: Path, direct_url: dict[str, object] | None) -> metadata.Distribution:
    folder = tmp_path / "mlops-0.4.2.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text("Metadata-Version: 2.1\nName: mlops\nVersion: 0.4.2\n")
    if direct_url is not None:
        (folder / "direct_url.json").write_text(json.dumps(direct_url))
    return metadata.PathDistribution(folder)


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [(None, "mlops[mlflow,redis]==0.4.2"),
     ({"url": "file:///src/my%20mlops", "dir_info": {"editable": True}},
      "-e '/src/my mlops[mlflow,redis]'"),
     ({"url": "file:///w/mlops-0.4.2-py3-none-any.whl", "archive_info": {}},
      "'mlops[mlflow,redis] @ file:///w/mlops-0.4.2-py3-none-any.whl'"),
     ({"url": "https://example.org/mlops.whl", "archive_info": {}}, "mlops[mlflow,redis]==0.4.2")],
    ids=["release", "editable", "local-wheel", "remote-url"],
)  # fmt: skip
def test_mlops_is_installed_the_way_it_is_installed_here(
    tmp_path: Path, direct_url: dict[str, object] | None, expected: str
) -> None:
    dist = dist_info(tmp_path, direct_url)
    assert runtime_requirements(["redis", "mlflow", "redis"], dist) == (expected,)
    assert "[" not in runtime_requirements((), dist)[0]  # no extras, no brackets


def test_reexec_runs_the_same_command_inside_the_environment(tmp_path: Path) -> None:
    prefix = tmp_path / "envs" / "venv-abc"
    environment = Environment(
        manager="venv", spec_hash="abc", python_path=prefix / "bin" / "python",
        bin_paths=(prefix / "bin",), prefix=prefix, kind=PrefixKind.VENV, tool="uv", created=True,
    )  # fmt: skip
    launch = launch_of(environment)
    assert launch is not None
    command = launch.command(
        ["-v", "run", "demo", "--local"], {"PATH": "/usr/bin", "PYTHONHOME": "/x"}, tmp_path
    )
    assert command.argv == [str(prefix / "bin" / "python"), "-m", "mlops.main",
                            "-v", "run", "demo", "--local"]  # fmt: skip
    assert command.env == {
        "PATH": f"{prefix / 'bin'}:/usr/bin",
        "VIRTUAL_ENV": str(prefix),
        REEXEC_VARIABLE: "abc",
        "MLOPS_WORKSPACE_DIR": str(tmp_path),
    }
    assert not inside(environment, {})
    assert inside(environment, {REEXEC_VARIABLE: "abc"})  # the child never re-executes again
    # ...unless it was started for another spec (a stale launch): then it is not inside.
    assert not inside(environment, {REEXEC_VARIABLE: "def"})
    system = Environment(
        "system", "h", Path("/usr/bin/python3"), (), None, PrefixKind.VENV, "system", False
    )
    assert inside(system, {})
    assert launch_of(system) is None  # nothing to start: it is this interpreter
