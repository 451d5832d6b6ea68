"""Real environments: uv and venv+pip builds, the fake conda executable, real pyenv and conda.

Requirements are a wheel built here, so every build works offline. Counts
follow MLflow's environment tests: the same spec twice is one environment,
two specs are two, a failing install leaves none, two concurrent ``ensure()``
build once.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from fixtures.wheels import build_wheel
from mlops.environment.base import EnvironmentSpec
from mlops.environment.conda_manager import CondaManager
from mlops.environment.prefixes import read_requirements
from mlops.environment.pyenv_manager import PyenvManager
from mlops.environment.utils import CommandFailed, SubprocessRunner, bundled_uv
from mlops.environment.venv_manager import VenvManager

FAKES_BIN = Path(__file__).resolve().parents[1] / "fakes" / "bin"

pytestmark = pytest.mark.venv


def probe_spec(project: Path, *, built: bool = False, **fields: object) -> EnvironmentSpec:
    """A spec installing the probe wheel; ``built`` reads the wheel already in ``project``.

    Rebuilding rewrites the wheel in place, so a process racing another must not:
    the other may be hashing it for the spec's key.
    """
    wheel = probe_wheel(project) if built else build_wheel(project / "wheels")
    requirement = f"./wheels/{wheel.name}"
    requirements = read_requirements([requirement], None, project, key="environment.venv")
    return EnvironmentSpec(requirements=requirements, project_dir=project, **fields)  # type: ignore[arg-type]


def probe_value(python: Path) -> str:
    result = SubprocessRunner().run(
        [str(python), "-c", "import mlops_probe; print(mlops_probe.VALUE)"]
    )
    return result.stdout.strip()


def environments(envs_dir: Path) -> list[str]:
    return (
        sorted(p.name for p in envs_dir.iterdir() if not p.name.startswith("."))
        if envs_dir.is_dir()
        else []
    )


@pytest.mark.parametrize("backend", ["uv", "venv"], ids=["uv", "venv+pip"])
def test_a_real_environment_is_built_once_and_reused(tmp_path: Path, backend: str) -> None:
    if backend == "uv" and shutil.which("uv") is None:
        pytest.skip("uv is not on PATH")
    spec = probe_spec(tmp_path / "project", settings={"backend": backend})
    envs = tmp_path / "envs"
    first = VenvManager(spec, envs).ensure()
    assert first.created
    assert first.tool == ("uv" if backend == "uv" else "pip")
    assert probe_value(first.python_path) == "probe"
    again = VenvManager(spec, envs).ensure()
    assert not again.created
    assert again.python_path == first.python_path
    assert environments(envs) == [first.prefix.name]  # type: ignore[union-attr]


def test_without_uv_on_path_the_uv_installed_with_mlops_builds_it(tmp_path: Path) -> None:
    bundled = bundled_uv()
    assert bundled is not None, "uv is a dependency of mlops: its wheel must be installed"
    empty = tmp_path / "bin"
    empty.mkdir()
    environ = {**os.environ, "PATH": str(empty)}  # no uv, no pip, nothing
    spec = probe_spec(tmp_path / "project")
    manager = VenvManager(spec, tmp_path / "envs", environ=environ)
    seen: list[str] = []
    manager.on_output = seen.append  # what the installer prints, line by line, as it goes
    built = manager.ensure()
    assert built.created
    assert built.tool == "uv"
    assert any(line.startswith("Installed 1 package") for line in seen), seen
    assert probe_value(built.python_path) == "probe"
    assert SubprocessRunner().which("uv", environ) == bundled
    version = SubprocessRunner().run(["uv", "--version"], env=environ)
    assert version.stdout.startswith("uv ")


def test_two_specs_are_two_environments(tmp_path: Path) -> None:
    project = tmp_path / "project"
    spec = probe_spec(project)
    bare = EnvironmentSpec(project_dir=project)
    envs = tmp_path / "envs"
    VenvManager(spec, envs).ensure()
    VenvManager(bare, envs).ensure()
    assert len(environments(envs)) == 2


def test_a_failing_install_leaves_no_environment(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    spec = EnvironmentSpec(
        requirements=read_requirements(
            ["./wheels/missing-1.0-py3-none-any.whl"], None, project, key="k"
        ),
        project_dir=project,
    )
    with pytest.raises(CommandFailed) as failure:
        VenvManager(spec, tmp_path / "envs").ensure()
    assert failure.value.returncode != 0
    assert "missing-1.0-py3-none-any.whl" in failure.value.output_tail
    assert environments(tmp_path / "envs") == []


def probe_wheel(project: Path) -> Path:
    (wheel,) = (project / "wheels").glob("mlops_probe-*.whl")
    return wheel


def _ensure_in_child(project: str, envs: str) -> bool:
    spec = probe_spec(Path(project), built=True)
    return VenvManager(spec, Path(envs)).ensure().created


def test_two_concurrent_ensures_build_once(tmp_path: Path) -> None:
    project, envs = tmp_path / "project", tmp_path / "envs"
    probe_spec(project)  # write the wheel once, before the race
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        futures = [pool.submit(_ensure_in_child, str(project), str(envs)) for _ in range(2)]
        created = sorted(f.result() for f in futures)
    assert created == [False, True]
    assert len(environments(envs)) == 1


# ------------------------------------------------------------------ conda: fake, then real


# The conda session sets a local channel where none can be reached; else conda-forge.
CONDA_CHANNEL = os.environ.get("MLOPS_CONDA_CHANNEL", "conda-forge")


def conda_scenario(
    envs: Path,
    project: Path,
    environ: dict[str, str],
    frontends: str = "micromamba|mamba|conda|rattler",
    channel: str = "conda-forge",
) -> CondaManager:
    spec = EnvironmentSpec(
        python=None,
        requirements=read_requirements(
            [f"./wheels/{build_wheel(project / 'wheels').name}"], None, project, key="k"
        ),
        options={"channels": [channel], "dependencies": ["python=3", "pip"]},
        settings={"frontends": frontends},
        project_dir=project,
    )
    return CondaManager(spec, envs, environ=environ)


def test_conda_whole_flow_with_the_fake_frontend(tmp_path: Path) -> None:
    log = tmp_path / "conda.jsonl"
    environ = {
        **os.environ,
        "PATH": f"{FAKES_BIN}{os.pathsep}{os.environ['PATH']}",
        "FAKE_CONDA_LOG": str(log),
    }
    manager = conda_scenario(tmp_path / "envs", tmp_path / "project", environ, "conda")
    assert manager.frontend().executable == str(FAKES_BIN / "conda")
    environment = manager.ensure()
    assert environment.created
    assert environment.manager == "conda"
    assert probe_value(environment.python_path) == "probe"
    (create,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert create[:5] == ["create", "--yes", "--json", "--prefix", str(manager.path)]
    assert create[5:] == ["--override-channels", "--channel", "conda-forge", "python=3", "pip"]
    assert (manager.path / "conda-meta" / "history").is_file()
    assert (
        not conda_scenario(tmp_path / "envs", tmp_path / "project", environ, "conda")
        .ensure()
        .created
    )

    failing = {**environ, "FAKE_CONDA_FAIL": "1"}
    broken = CondaManager(
        EnvironmentSpec(options={"channels": ["conda-forge"], "dependencies": ["nosuchpkg"]},
                        settings={"frontends": "conda"}, project_dir=tmp_path / "project"),
        tmp_path / "envs", environ=failing,
    )  # fmt: skip
    with pytest.raises(
        Exception, match="conda could not create the environment: PackagesNotFoundError"
    ):
        broken.ensure()
    assert not broken.path.exists()


@pytest.mark.conda
def test_conda_whole_flow_with_the_real_frontend(tmp_path: Path) -> None:
    envs, project = tmp_path / "envs", tmp_path / "project"
    manager = conda_scenario(envs, project, dict(os.environ), channel=CONDA_CHANNEL)
    environment = manager.ensure()
    assert environment.created
    assert probe_value(environment.python_path) == "probe"
    assert (manager.path / "conda-meta").is_dir()
    again = conda_scenario(envs, project, dict(os.environ), channel=CONDA_CHANNEL)
    assert not again.ensure().created


# ------------------------------------------------------------------ pyenv


@pytest.mark.pyenv
def test_pyenv_builds_an_environment_on_another_installed_version(tmp_path: Path) -> None:
    runner = SubprocessRunner()
    pyenv = runner.which("pyenv")
    if pyenv is None:
        pytest.skip("pyenv is not on PATH")
    installed = runner.run([pyenv, "versions", "--bare"]).stdout.split()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    releases = {
        tuple(map(int, v.split(".")[:2])) for v in installed if v.count(".") == 2 and v[0].isdigit()
    }
    others = sorted(f"{a}.{b}" for a, b in releases if (a, b) >= (3, 9))
    others = [v for v in others if v != running]
    if not others:
        pytest.skip(f"pyenv has no installed Python >= 3.9 other than {running}")
    version = others[-1]
    spec = probe_spec(tmp_path / "project", python=version)
    environment = PyenvManager(spec, tmp_path / "envs", runner=runner).ensure()
    assert environment.manager == "pyenv"
    reported = runner.run(
        [str(environment.python_path), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    )
    assert reported.stdout.strip() == version
    assert probe_value(environment.python_path) == "probe"
