"""Conda environments with no conda binary: the rattler frontend against a local channel.

Real packages, a real solve, a real conda prefix (``conda-meta/``, a relocated
interpreter): only the channel is local, built from this machine's Python.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures.cli import run_mlops
from fixtures.conda_channel import local_conda_channel  # noqa: F401 - a fixture
from fixtures.extras import require
from fixtures.projects import ProjectFactory
from mlops.environment.base import EnvironmentSpec
from mlops.environment.conda_manager import CondaManager
from mlops.environment.factory import spec_from_config
from mlops.errors import EnvSetupError
from nox_support.conda_channel import INPUTS_FILE

pytestmark = pytest.mark.slow

require("rattler", reason="the conda extra (py-rattler) is not installed")
require("rattler_build", reason="py-rattler-build (the dev extra) builds the local channel")

PIPELINE = """
from mlops import process

@process
def where():
    import sys
    return sys.prefix
"""


def _manager(envs: Path, project: Path, channel: Path, *dependencies: str) -> CondaManager:
    spec = EnvironmentSpec(
        options={"channels": [str(channel)], "dependencies": list(dependencies)},
        settings={"frontends": "rattler"},
        project_dir=project,
    )
    return CondaManager(spec, envs, environ=dict(os.environ))


def _prefix_of(python: Path) -> dict[str, Any]:
    probe = "import json, sys; print(json.dumps({'prefix': sys.prefix, 'version': sys.version}))"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_conda_env_is_built_from_a_local_channel_and_found_again(
    tmp_path: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    envs, project = tmp_path / "envs", tmp_path / "project"
    manager = _manager(envs, project, local_conda_channel, "python", "pip")
    assert manager.frontend().name == "rattler"
    environment = manager.ensure()
    assert environment.created
    assert environment.tool
    installed = sorted(p.name for p in (manager.path / "conda-meta").glob("*.json"))
    assert [name.split("-")[0] for name in installed] == ["pip", "python"]
    assert Path(_prefix_of(environment.python_path)["prefix"]) == manager.path
    again = _manager(envs, project, local_conda_channel, "python", "pip")
    assert again.path == manager.path
    assert not again.ensure().created


def test_a_failed_solve_says_what_is_missing_and_leaves_nothing(
    tmp_path: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    manager = _manager(
        tmp_path / "envs", tmp_path / "project", local_conda_channel, "python", "no-such-package"
    )
    refused = r"rattler could not create the environment: .*no-such-package"
    with pytest.raises(EnvSetupError, match=refused):
        manager.ensure()
    assert not manager.path.exists()


# What distutils/setuptools read to build a C extension, and where the installation lies.
SYSCONFIG_PROBE = """
import json, sysconfig
names = ("prefix", "exec_prefix", "LIBDIR", "INCLUDEPY", "BINDIR", "LIBPL", "LIBDEST",
         "CC", "CFLAGS", "CCSHARED", "LDSHARED", "EXT_SUFFIX")
print(json.dumps({"vars": {n: sysconfig.get_config_var(n) for n in names},
                  "paths": sysconfig.get_paths()}))
"""

EXTENSION = """
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "answer", NULL, -1, methods};
PyMODINIT_FUNC PyInit_answer(void) { return PyModule_Create(&module); }
"""


def _installed(tmp_path: Path, channel: Path) -> tuple[Path, Path]:
    """A fresh environment (python, pip) from ``channel``: its prefix and its python."""
    manager = _manager(tmp_path / "envs", tmp_path / "project", channel, "python", "pip")
    return manager.path, manager.ensure().python_path


def _sysconfig(python: Path) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), "-c", SYSCONFIG_PROBE], capture_output=True, text=True, check=True
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def _foreign_prefixes(prefix: Path, channel: Path) -> set[str]:
    """Where the python package was built and the installation it was made from: paths an
    installed environment must not name (the first from the package's record in
    ``conda-meta``, the second from the channel's inputs)."""
    (record,) = (prefix / "conda-meta").glob("python-*.json")
    paths = json.loads(record.read_text())["paths_data"]["paths"]
    placeholders = {p["prefix_placeholder"] for p in paths if p.get("prefix_placeholder")}
    # The package rewrites its own paths (sysconfig's data among them): it records a placeholder.
    assert placeholders
    inputs = channel / INPUTS_FILE
    if inputs.exists():
        placeholders.add(json.loads(inputs.read_text())["prefix"])
    return placeholders


def test_a_conda_env_from_the_local_channel_names_its_own_prefix_only(
    tmp_path: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    prefix, python = _installed(tmp_path, local_conda_channel)
    foreign = _foreign_prefixes(prefix, local_conda_channel)
    # Bytecode as installed, before the environment's python compiles anything.
    (stdlib,) = (prefix / "lib").glob("python3.*")
    stale = [
        str(pyc.relative_to(prefix)) for pyc in stdlib.rglob("*.pyc")
        if any(path.encode() in pyc.read_bytes() for path in foreign)
    ]  # fmt: skip
    assert not stale, f"{len(stale)} .pyc files name another prefix, e.g. {stale[:5]}"

    found = _sysconfig(python)
    for name in ("prefix", "exec_prefix", "LIBDIR", "INCLUDEPY", "BINDIR", "LIBPL", "LIBDEST"):
        assert Path(found["vars"][name]).is_relative_to(prefix), (name, found["vars"][name])
    for name, path in found["paths"].items():
        assert Path(path).is_relative_to(prefix), (name, path)

    bin_dir = prefix / "bin"
    broken = sorted(p.name for p in bin_dir.iterdir() if p.is_symlink() and not p.exists())
    assert not broken, f"links to nothing in {bin_dir}: {broken}"
    includes = subprocess.run(
        [str(bin_dir / "python-config"), "--includes"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    include = Path(found["vars"]["INCLUDEPY"]).resolve()
    assert f"-I{include}" in includes, includes


#: Builds ``answer.c`` beside it as distutils' unix compiler does (compile with CC CFLAGS
#: CCSHARED, link with LDSHARED, all from sysconfig), imports it, and prints what it used.
BUILD_SCRIPT = """
import json, shlex, subprocess, sys, sysconfig
from pathlib import Path

here = Path(__file__).resolve().parent
config = sysconfig.get_config_vars()
compile_ = [*shlex.split(config["CC"]), *shlex.split(config["CFLAGS"]),
            *shlex.split(config["CCSHARED"]), "-I" + config["INCLUDEPY"],
            "-c", "answer.c", "-o", "answer.o"]
link = [*shlex.split(config["LDSHARED"]), "answer.o", "-o", "answer" + config["EXT_SUFFIX"]]
for command in (compile_, link):
    subprocess.run(command, cwd=here, check=True)
sys.path.insert(0, str(here))
import answer
names = ("CC", "CFLAGS", "CCSHARED", "LDSHARED", "INCLUDEPY")
print(json.dumps({"answer": answer.answer(), "prefix": sys.prefix,
                  "vars": {name: config[name] for name in names}}))
"""


def test_a_c_extension_builds_from_source_in_a_conda_env_and_imports(
    make_project: ProjectFactory,
    tmp_workspace: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not on PATH: no C extension can be built here")
    conda = {"frontends": "rattler", "channels": [str(local_conda_channel)],
             "dependencies": ["python", "pip"]}  # fmt: skip
    project = make_project(
        "native", PIPELINE, {"where": []}, extra={"environment": {"conda": conda}}
    )
    build = project / "native"
    build.mkdir()
    (build / "answer.c").write_text(EXTENSION)
    (build / "build.py").write_text(BUILD_SCRIPT)
    # As a user builds one: a script run in the project's environment with `mlops exec`.
    done = run_mlops(
        tmp_workspace, "exec", "native", "-q", "--", "python", str(build / "build.py"), timeout=900
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    built = json.loads(done.stdout)
    assert built["answer"] == 42
    prefix = Path(built["prefix"])
    assert prefix.parent == tmp_workspace / ".mlops" / "envs"
    assert prefix.name.startswith("conda-")
    # It built against the environment's own files, not the original installation's.
    for name, value in built["vars"].items():
        for path in _foreign_prefixes(prefix, local_conda_channel):
            assert path not in value, (name, value)


def test_the_local_channel_files_are_readable_by_everyone(
    local_conda_channel: Path,  # noqa: F811
) -> None:
    files = [
        *local_conda_channel.glob("*/*.conda"), *local_conda_channel.glob("*/repodata.json"),
    ]  # fmt: skip
    assert {p.parent.name for p in files} == {"linux-64", "noarch"}
    modes = {str(p.relative_to(local_conda_channel)): oct(stat.S_IMODE(p.stat().st_mode))
             for p in files}  # fmt: skip
    assert all(int(mode, 8) & 0o044 == 0o044 for mode in modes.values()), modes


def test_mlops_run_builds_the_conda_env_once_and_runs_inside_it(
    make_project: ProjectFactory,
    tmp_workspace: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    conda = {"frontends": "rattler", "channels": [str(local_conda_channel)],
             "dependencies": ["python", "pip"]}  # fmt: skip
    make_project("condaproj", PIPELINE, {"where": []}, extra={"environment": {"conda": conda}})
    first = run_mlops(tmp_workspace, "run", "condaproj", timeout=900)
    assert first.returncode == 0, first.stderr
    envs = tmp_workspace / ".mlops" / "envs"
    (prefix,) = [p for p in envs.iterdir() if p.name.startswith("conda-")]
    assert (prefix / "conda-meta").is_dir()
    assert f"running in {prefix} (built in " in first.stderr
    shown = run_mlops(tmp_workspace, "runs", "condaproj", "show", "latest", "--json")
    record = json.loads(shown.stdout)
    assert Path(record["environment"]["executable"]).parent.parent == prefix
    second = run_mlops(tmp_workspace, "run", "condaproj", timeout=300)
    assert second.returncode == 0, second.stderr
    assert f"running in {prefix} (reused)" in second.stderr


def _channel_versions(channel: Path) -> dict[str, str]:
    """Each package of the local channel and its version, read from its repodata."""
    found: dict[str, str] = {}
    for subdir in ("linux-64", "noarch"):
        repodata = json.loads((channel / subdir / "repodata.json").read_text())
        for record in [*repodata.get("packages", {}).values(),
                       *repodata.get("packages.conda", {}).values()]:  # fmt: skip
            found[record["name"]] = record["version"]
    return found


def _lock(path: Path, pins: dict[str, str], channel: str = "conda-forge") -> None:
    """A conda-lock file (format 1) pinning ``pins`` on linux-64, with conda-forge URLs."""
    lines = ["version: 1", "metadata:", "  channels:", f"    - url: {channel}", "package:"]
    for name, version in pins.items():
        lines += [
            f"  - name: {name}", f"    version: {version}", "    manager: conda",
            "    platform: linux-64", "    dependencies: {}",
            f"    url: https://conda.anaconda.org/conda-forge/linux-64/{name}-{version}.conda",
            "    hash: {md5: 0, sha256: 0}", "    category: main", "    optional: false",
        ]  # fmt: skip
    lines += ["  - name: osx-only", "    version: '1.0'", "    manager: conda",
              "    platform: osx-arm64", "    dependencies: {}"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def test_a_conda_lock_file_is_installed_offline_from_the_local_channel(
    tmp_path: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    versions = _channel_versions(local_conda_channel)
    project = tmp_path / "project"
    project.mkdir()
    _lock(project / "conda-lock.yml", {"python": versions["python"], "pip": versions["pip"]})

    def locked() -> CondaManager:
        # As a project's config gives it: the lock file's content is part of the spec.
        conda = {"frontends": "rattler", "channels": [str(local_conda_channel)],
                 "lockfile": "conda-lock.yml"}  # fmt: skip
        spec = spec_from_config("conda", conda, project)
        return CondaManager(spec, tmp_path / "envs", environ=dict(os.environ))

    manager = locked()
    environment = manager.ensure()
    installed = {
        json.loads(p.read_text())["name"]: json.loads(p.read_text())["version"]
        for p in (manager.path / "conda-meta").glob("*.json")
    }
    assert installed == {"python": versions["python"], "pip": versions["pip"]}
    assert Path(_prefix_of(environment.python_path)["prefix"]) == manager.path

    # A version the channel does not have: refused by the solve, nothing left behind.
    _lock(project / "conda-lock.yml", {"python": "2.7.18", "pip": versions["pip"]})
    stale = locked()
    assert stale.path != manager.path  # the lock's content is part of the spec
    with pytest.raises(EnvSetupError, match=r"rattler could not create the environment: .*python"):
        stale.ensure()
    assert not stale.path.exists()


def test_mlops_conda_channel_points_every_conda_env_of_a_run_at_one_channel(
    make_project: ProjectFactory,
    tmp_workspace: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    # No channels: in the config (conda-forge, unreachable here, by default).
    conda = {"frontends": "rattler", "dependencies": ["python", "pip"]}
    make_project("mirrored", PIPELINE, {"where": []}, extra={"environment": {"conda": conda}})
    env = {"MLOPS_CONDA_CHANNEL": str(local_conda_channel)}
    done = run_mlops(tmp_workspace, "run", "mirrored", timeout=900, env=env)
    assert done.returncode == 0, done.stderr
    listed = run_mlops(tmp_workspace, "env", "list", "--json", env=env)
    (record,) = [r for r in json.loads(listed.stdout) if r["manager"] == "conda"]
    assert record["channels"] == [str(local_conda_channel)]
    assert record["used_by"] == ["mirrored"]
    table = run_mlops(tmp_workspace, "env", "list", env=env).stdout
    assert str(local_conda_channel) in table


def test_a_conda_lock_file_brings_its_own_channels(
    make_project: ProjectFactory,
    tmp_workspace: Path,
    local_conda_channel: Path,  # noqa: F811
) -> None:
    versions = _channel_versions(local_conda_channel)
    project = make_project(
        "locked", PIPELINE, {"where": []},
        extra={"environment": {"conda": {"frontends": "rattler", "lockfile": "conda-lock.yml"}}},
    )  # fmt: skip
    _lock(project / "conda-lock.yml", {"python": versions["python"], "pip": versions["pip"]},
          channel=str(local_conda_channel))  # fmt: skip
    environ = {k: v for k, v in os.environ.items() if k != "MLOPS_CONDA_CHANNEL"}
    done = subprocess.run(
        [*_mlops(), "run", "locked"], capture_output=True, text=True, timeout=900, check=False,
        env={**environ, "MLOPS_WORKSPACE_DIR": str(tmp_workspace)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = run_mlops(tmp_workspace, "env", "list", "--json", env=environ)
    (record,) = [r for r in json.loads(listed.stdout) if r["manager"] == "conda"]
    assert record["channels"] == [str(local_conda_channel)]


def _mlops() -> list[str]:
    script = Path(sys.executable).parent / "mlops"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlops.main"]
