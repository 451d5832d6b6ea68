"""Environment managers driven through a recording CommandRunner.

The commands each manager runs are asserted as argv lists and env mappings;
the files the real tools would create are laid out by scripted effects, so
ensure()'s reuse, cleanup and refresh rules are checked on real folders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from fakes.commands import RecordingRunner
from mlops.environment.base import MANIFEST_NAME, EnvironmentSpec
from mlops.environment.conda_manager import CondaManager
from mlops.environment.factory import MANAGERS, create_manager, manager_class, spec_from_config
from mlops.environment.prefixes import Requirements
from mlops.environment.pyenv_manager import PyenvManager
from mlops.environment.system_manager import SystemManager
from mlops.environment.utils import CommandFailed
from mlops.environment.venv_manager import VenvManager
from mlops.errors import ConfigError, EnvSetupError

ENVIRON = {"PATH": "/usr/bin:/bin", "HOME": "/home/u", "VIRTUAL_ENV": "/elsewhere"}


def lay_out_python(argv: tuple[str, ...]) -> None:
    """What `uv venv PATH`, `python -m venv PATH` and `conda create --prefix PATH` leave."""
    target = Path(argv[argv.index("--prefix") + 1]) if "--prefix" in argv else Path(argv[-1])
    (target / "bin").mkdir(parents=True)
    (target / "bin" / "python").write_text("")


def environments(envs_dir: Path) -> list[str]:
    """Environment folders (locks live in a dot-folder beside them)."""
    if not envs_dir.is_dir():
        return []
    return sorted(p.name for p in envs_dir.iterdir() if not p.name.startswith("."))


def spec(tmp_path: Path, *lines: str, **fields: object) -> EnvironmentSpec:
    return EnvironmentSpec(requirements=Requirements(tuple(lines)), project_dir=tmp_path, **fields)  # type: ignore[arg-type]


@pytest.fixture
def runner() -> RecordingRunner:
    fake = RecordingRunner(tools={"uv": "/usr/bin/uv"})
    fake.reply("uv", "venv", effect=lay_out_python)
    fake.reply(sys.executable, "-m", "venv", effect=lay_out_python)
    return fake


# ------------------------------------------------------------------ venv


def test_venv_with_uv_builds_then_installs_by_path(tmp_path: Path, runner: RecordingRunner) -> None:
    manager = VenvManager(
        spec(tmp_path, "six==1.16"), tmp_path / "envs", runner=runner, environ=ENVIRON
    )
    environment = manager.ensure()
    prefix = tmp_path / "envs" / f"venv-{manager.spec_hash}"
    assert environment.created
    assert environment.tool == "uv"
    assert environment.prefix == prefix
    assert runner.argvs() == [
        ("uv", "venv", "--quiet", "--python", sys.executable, str(prefix)),
        (
            "uv",
            "pip",
            "install",
            "--python",
            str(prefix / "bin" / "python"),
            "six==1.16",
        ),
    ]
    create, install = runner.calls
    assert create.env["UV_PYTHON_DOWNLOADS"] == "never"
    assert install.cwd == tmp_path  # relative requirement paths resolve in the project
    manifest = json.loads((prefix / MANIFEST_NAME).read_text())
    assert manifest["spec"]["requirements"] == ["six==1.16"]
    assert manifest["tool"] == "uv"


@pytest.mark.parametrize(("value", "compiled"), [("1", True), ("", False)], ids=["set", "empty"])
def test_bytecode_is_compiled_at_install_where_runs_cannot_write_it(
    tmp_path: Path, runner: RecordingRunner, value: str, compiled: bool
) -> None:
    environ = {**ENVIRON, "PYTHONDONTWRITEBYTECODE": value}
    VenvManager(spec(tmp_path, "six"), tmp_path / "envs", runner=runner, environ=environ).ensure()
    install = runner.argvs()[-1]
    assert install[:3] == ("uv", "pip", "install")
    assert ("--compile-bytecode" in install) is compiled


def test_each_step_of_a_build_is_told_as_it_starts(tmp_path: Path, runner: RecordingRunner) -> None:
    manager = VenvManager(
        spec(tmp_path, "six==1.16", "numpy>=2", runtime=("mlops[mlflow]",)),
        tmp_path / "envs",
        runner=runner,
        environ=ENVIRON,
    )
    steps: list[str] = []
    manager.on_step = steps.append
    manager.ensure()
    prefix = tmp_path / "envs" / f"venv-{manager.spec_hash}"
    assert steps == [
        f"creating {prefix}",
        "installing with uv: six==1.16, numpy>=2, mlops[mlflow]",
    ]
    steps.clear()
    manager.ensure()  # reused: nothing to say
    assert steps == []


def test_without_uv_the_stdlib_venv_and_pip_are_used(
    tmp_path: Path, runner: RecordingRunner
) -> None:
    runner.tools.clear()
    manager = VenvManager(
        spec(tmp_path, "-e ./lib", "six"), tmp_path / "envs", runner=runner, environ=ENVIRON
    )
    assert manager.ensure().tool == "pip"
    python = str(manager.path / "bin" / "python")
    assert runner.argvs() == [
        (sys.executable, "-m", "venv", str(manager.path)),
        (python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
         "--no-compile", "-e", "./lib", "six"),
    ]  # fmt: skip


def test_backend_chain_is_honoured_and_a_dead_end_says_so(
    tmp_path: Path, runner: RecordingRunner
) -> None:
    only_venv = spec(tmp_path, settings={"backend": "venv"})
    assert (
        VenvManager(only_venv, tmp_path / "a", runner=runner, environ=ENVIRON).ensure().tool
        == "pip"
    )
    runner.tools.clear()
    only_uv = spec(tmp_path, settings={"backend": "uv"})
    with pytest.raises(
        EnvSetupError, match=r"environment.venv.backend: none of uv is available \(install uv"
    ):
        VenvManager(only_uv, tmp_path / "b", runner=runner, environ=ENVIRON).ensure()
    assert environments(tmp_path / "b") == []


def test_constraints_are_passed_to_the_installer(tmp_path: Path, runner: RecordingRunner) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("six==1.16\n")
    manager = VenvManager(
        spec(tmp_path, "six", constraints_file=constraints),
        tmp_path / "envs",
        runner=runner,
        environ=ENVIRON,
    )
    manager.ensure()
    assert runner.argvs()[-1][-3:] == ("--constraint", str(constraints), "six")


def test_same_spec_twice_is_one_environment(tmp_path: Path, runner: RecordingRunner) -> None:
    first = VenvManager(
        spec(tmp_path, "six"), tmp_path / "envs", runner=runner, environ=ENVIRON
    ).ensure()
    second = VenvManager(
        spec(tmp_path, "six"), tmp_path / "envs", runner=runner, environ=ENVIRON
    ).ensure()
    assert (first.created, second.created) == (True, False)
    assert len(runner.calls) == 2  # one create, one install: the second ensure ran nothing
    other = VenvManager(
        spec(tmp_path, "idna"), tmp_path / "envs", runner=runner, environ=ENVIRON
    ).ensure()
    assert other.prefix != first.prefix
    assert environments(tmp_path / "envs") == sorted(
        [f"venv-{first.spec_hash}", f"venv-{other.spec_hash}"]
    )


def test_a_failing_install_leaves_nothing_behind(tmp_path: Path, runner: RecordingRunner) -> None:
    runner.reply("uv", "pip", "install", returncode=1, stderr="No solution found: nosuchpkg")
    manager = VenvManager(
        spec(tmp_path, "nosuchpkg"), tmp_path / "envs", runner=runner, environ=ENVIRON
    )
    with pytest.raises(CommandFailed) as failure:
        manager.ensure()
    assert failure.value.returncode == 1
    assert failure.value.argv[:3] == ("uv", "pip", "install")
    assert "No solution found: nosuchpkg" in failure.value.one_line()
    assert not manager.path.exists()
    assert not manager.exists()


def test_an_interrupted_build_is_removed_and_rebuilt(
    tmp_path: Path, runner: RecordingRunner
) -> None:
    manager = VenvManager(spec(tmp_path), tmp_path / "envs", runner=runner, environ=ENVIRON)
    (manager.path / "bin").mkdir(parents=True)
    (manager.path / "bin" / "python").write_text("")
    (manager.path / "half-installed.txt").write_text("")  # no manifest: the build never finished
    assert not manager.exists()
    assert manager.ensure().created
    assert not (manager.path / "half-installed.txt").exists()


def test_a_new_mlops_is_installed_into_an_existing_environment(
    tmp_path: Path, runner: RecordingRunner
) -> None:
    envs = tmp_path / "envs"
    old = VenvManager(
        spec(tmp_path, runtime=("mlops==0.1.0",)), envs, runner=runner, environ=ENVIRON
    )
    old.ensure()
    new = VenvManager(
        spec(tmp_path, runtime=("mlops==0.2.0",)), envs, runner=runner, environ=ENVIRON
    )
    assert new.spec_hash == old.spec_hash  # the runtime is not part of the user's spec
    runner.calls.clear()
    environment = new.ensure()
    assert not environment.created
    assert runner.argvs() == [
        (
            "uv",
            "pip",
            "install",
            "--python",
            str(new.python_path),
            "mlops==0.2.0",
        )
    ]
    assert json.loads(new.manifest_path.read_text())["runtime"] == ["mlops==0.2.0"]


def test_environment_variables_activate_by_path(tmp_path: Path, runner: RecordingRunner) -> None:
    manager = VenvManager(spec(tmp_path), tmp_path / "envs", runner=runner, environ=ENVIRON)
    environment = manager.ensure()
    env = environment.environ(ENVIRON)
    assert env["PATH"].split(":") == [str(manager.path / "bin"), "/usr/bin", "/bin"]
    assert env["VIRTUAL_ENV"] == str(manager.path)
    manager.run(["python", "-c", "pass"])
    assert runner.calls[-1].env["PATH"].split(":")[0] == str(manager.path / "bin")
    assert runner.calls[-1].argv == ("python", "-c", "pass")
    assert runner.calls[-1].env["VIRTUAL_ENV"] == str(manager.path)  # same activation as run's


def test_a_named_version_is_found_or_the_miss_explained(
    tmp_path: Path, runner: RecordingRunner
) -> None:
    other = "3.99"
    manager = VenvManager(spec(tmp_path, python=other), tmp_path / "envs", runner=runner,
                          environ={"PATH": str(tmp_path / "nothing")})  # fmt: skip
    with pytest.raises(
        EnvSetupError, match=r"environment.venv.python: Python 3.99 not found\. Looked in"
    ):
        manager.ensure()
    assert runner.calls == []
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / f"python{other}").write_text("#!/bin/sh\n")
    (bindir / f"python{other}").chmod(0o755)
    found = VenvManager(
        spec(tmp_path, python=other),
        tmp_path / "envs",
        runner=runner,
        environ={"PATH": str(bindir)},
    )
    assert found.base_interpreter() == bindir / f"python{other}"


# ------------------------------------------------------------------ pyenv


@pytest.fixture
def pyenv(tmp_path: Path, runner: RecordingRunner) -> Path:
    root = tmp_path / "pyenv"
    for version in ("3.12.1", "3.12.10", "3.13.0"):
        (root / "versions" / version / "bin").mkdir(parents=True)
        (root / "versions" / version / "bin" / "python").write_text("")
    runner.tools["pyenv"] = "/opt/pyenv/bin/pyenv"
    runner.reply("/opt/pyenv/bin/pyenv", "root", stdout=f"{root}\n")
    runner.reply("/opt/pyenv/bin/pyenv", "versions", "--bare",
                 stdout="3.12.1\n3.12.10\n3.13.0\n3.13.0/envs/tool\n3.14.0rc1\n")  # fmt: skip
    return root


def test_pyenv_builds_on_the_newest_matching_patch(
    tmp_path: Path, runner: RecordingRunner, pyenv: Path
) -> None:
    manager = PyenvManager(
        spec(tmp_path, python="3.12"), tmp_path / "envs", runner=runner, environ=ENVIRON
    )
    environment = manager.ensure()
    assert environment.manager == "pyenv"
    assert environment.prefix == tmp_path / "envs" / f"pyenv-{manager.spec_hash}"
    create = next(argv for argv in runner.argvs() if argv[:2] == ("uv", "venv"))
    assert create[create.index("--python") + 1] == str(
        pyenv / "versions" / "3.12.10" / "bin" / "python"
    )
    exact = PyenvManager(
        spec(tmp_path, python="3.12.1"), tmp_path / "envs", runner=runner, environ=ENVIRON
    )
    assert exact.base_interpreter() == pyenv / "versions" / "3.12.1" / "bin" / "python"


def test_pyenv_missing_version_names_the_fix(
    tmp_path: Path, runner: RecordingRunner, pyenv: Path
) -> None:
    manager = PyenvManager(
        spec(tmp_path, python="3.10"), tmp_path / "envs", runner=runner, environ=ENVIRON
    )
    with pytest.raises(EnvSetupError) as error:
        manager.ensure()
    assert error.value.one_line() == (
        "environment.pyenv.python: Python 3.10 is not installed in pyenv (installed: 3.12.1, "
        "3.12.10, 3.13.0) (run `pyenv install 3.10` or set environment.pyenv.install: true)"
    )
    assert not any(argv[1:2] == ("install",) for argv in runner.argvs())
    assert environments(tmp_path / "envs") == []


def test_pyenv_installs_only_when_allowed(
    tmp_path: Path, runner: RecordingRunner, pyenv: Path
) -> None:
    def install(argv: tuple[str, ...]) -> None:
        (pyenv / "versions" / "3.10.14" / "bin").mkdir(parents=True)
        (pyenv / "versions" / "3.10.14" / "bin" / "python").write_text("")
        runner.reply("/opt/pyenv/bin/pyenv", "versions", "--bare", stdout="3.10.14\n3.12.10\n")

    runner.reply("/opt/pyenv/bin/pyenv", "install", effect=install)
    allowed = spec(tmp_path, python="3.10", settings={"install": True})
    manager = PyenvManager(allowed, tmp_path / "envs", runner=runner, environ=ENVIRON)
    assert manager.base_interpreter() == pyenv / "versions" / "3.10.14" / "bin" / "python"
    assert ("/opt/pyenv/bin/pyenv", "install", "--skip-existing", "3.10") in runner.argvs()


def test_pyenv_needs_pyenv_and_a_version(tmp_path: Path, runner: RecordingRunner) -> None:
    with pytest.raises(EnvSetupError, match=r"pyenv is not installed \(install pyenv"):
        PyenvManager(
            spec(tmp_path, python="3.12"), tmp_path / "e", runner=runner, environ=ENVIRON
        ).ensure()
    with pytest.raises(
        ConfigError, match=r"environment.pyenv.python: the pyenv manager needs a Python version"
    ):
        PyenvManager(spec(tmp_path), tmp_path / "e", runner=runner, environ=ENVIRON).ensure()


# ------------------------------------------------------------------ conda


@pytest.fixture
def conda_runner(runner: RecordingRunner) -> RecordingRunner:
    runner.tools = {"micromamba": "/opt/bin/micromamba", "conda": "/opt/bin/conda"}
    for exe in ("/opt/bin/micromamba", "/opt/bin/conda"):
        runner.reply(exe, "create", stdout='{"success": true}', effect=lay_out_python)
    return runner


def test_conda_from_packages_on_exact_channels(
    tmp_path: Path, conda_runner: RecordingRunner
) -> None:
    options = {"channels": ["conda-forge"], "dependencies": ["numpy>=1.26"]}
    conda_spec = spec(tmp_path, "six", python="3.11", options=options)
    manager = CondaManager(conda_spec, tmp_path / "envs", runner=conda_runner, environ=ENVIRON)
    environment = manager.ensure()
    assert environment.manager == "conda"
    assert conda_runner.argvs()[0] == (
        "/opt/bin/micromamba", "create", "--yes", "--json", "--prefix", str(manager.path),
        "--override-channels", "--channel", "conda-forge", "python=3.11", "numpy>=1.26", "pip",
    )  # fmt: skip
    assert conda_runner.argvs()[1] == (
        str(manager.path / "bin" / "python"), "-m", "pip", "install",
        "--disable-pip-version-check", "--no-input", "--no-compile", "six",
    )  # fmt: skip
    assert environment.environ(ENVIRON)["CONDA_PREFIX"] == str(manager.path)
    assert "VIRTUAL_ENV" not in environment.environ(ENVIRON)


@pytest.mark.parametrize(
    ("frontends", "field", "expected"),
    [("micromamba", "environment_file",
      ("/opt/bin/micromamba", "create", "--yes", "--prefix", "{prefix}", "--file", "{file}",
       "--json")),
     ("conda", "environment_file",
      ("/opt/bin/conda", "env", "create", "--prefix", "{prefix}", "--file", "{file}", "--json")),
     ("conda", "lockfile",
      ("conda-lock", "install", "--conda", "/opt/bin/conda", "--prefix", "{prefix}", "{file}"))],
    ids=["micromamba-env-file", "conda-env-file", "conda-lock"],
)  # fmt: skip
def test_conda_spec_files_pick_the_frontend_command(
    tmp_path: Path,
    conda_runner: RecordingRunner,
    frontends: str,
    field: str,
    expected: tuple[str, ...],
) -> None:
    (tmp_path / "env.yml").write_text("name: x\n")
    file_spec = spec(tmp_path, options={field: "env.yml"}, settings={"frontends": frontends})
    manager = CondaManager(file_spec, tmp_path / "envs", runner=conda_runner, environ=ENVIRON)
    argv = manager.create_argv(manager.frontend())
    assert tuple(argv) == tuple(
        a.format(prefix=manager.path, file=tmp_path / "env.yml") for a in expected
    )


def test_conda_failure_reports_condas_own_message(
    tmp_path: Path, conda_runner: RecordingRunner
) -> None:
    conda_runner.reply(
        "/opt/bin/micromamba", "create", returncode=1,
        stdout=json.dumps({"success": False, "error": "nothing provides nosuchpkg",
                           "exception_name": "PackagesNotFoundError"}),
    )  # fmt: skip
    failing = spec(tmp_path, options={"channels": ["conda-forge"], "dependencies": ["nosuchpkg"]})
    manager = CondaManager(failing, tmp_path / "envs", runner=conda_runner, environ=ENVIRON)
    with pytest.raises(
        EnvSetupError,
        match="micromamba could not create the environment: nothing provides nosuchpkg",
    ):
        manager.ensure()
    assert not manager.path.exists()


def test_no_conda_frontend_is_one_line_with_the_fix(
    tmp_path: Path, runner: RecordingRunner
) -> None:
    runner.tools.clear()
    # The binaries only: py-rattler, the fourth frontend, is installed where the suite runs.
    binaries = spec(tmp_path, settings={"frontends": "micromamba|mamba|conda"})
    manager = CondaManager(binaries, tmp_path / "envs", runner=runner, environ={"PATH": ""})
    with pytest.raises(
        EnvSetupError,
        match=r"no conda frontend found .*pip install 'mlops\[conda\]', or install micromamba",
    ):
        manager.ensure()


# ------------------------------------------------------------------ system and factory


def test_system_names_what_is_missing(tmp_path: Path, runner: RecordingRunner) -> None:
    present = spec(tmp_path, "pytest>=1", "networkx", 'colorama; sys_platform == "nonexistent"')
    assert SystemManager(
        present, tmp_path, runner=runner, environ=ENVIRON
    ).ensure().python_path == Path(sys.executable)
    absent = spec(tmp_path, "pytest<1", "no-such-dist-xyz")
    with pytest.raises(EnvSetupError) as error:
        SystemManager(absent, tmp_path, runner=runner, environ=ENVIRON).ensure()
    message = error.value.one_line()
    assert "pytest<1 (found " in message
    assert "no-such-dist-xyz (not installed)" in message
    assert message.endswith("(install them, or set environment.system.allow_install: true)")
    assert runner.calls == []


def test_system_installs_only_when_allowed(tmp_path: Path, runner: RecordingRunner) -> None:
    allowed = spec(tmp_path, "no-such-dist-xyz", settings={"allow_install": True})
    environment = SystemManager(allowed, tmp_path, runner=runner, environ=ENVIRON).ensure()
    assert environment.created
    assert runner.argvs() == [
        (
            "uv",
            "pip",
            "install",
            "--python",
            sys.executable,
            "no-such-dist-xyz",
        )
    ]


def test_factory_picks_the_manager_and_lists_the_valid_ones(tmp_path: Path) -> None:
    assert {name: manager_class(name).name for name in MANAGERS} == {n: n for n in MANAGERS}
    with pytest.raises(
        ConfigError, match=r"unknown manager 'docker' \(choose one of: venv, conda, pyenv, system\)"
    ):
        manager_class("docker")
    manager = create_manager(
        "venv", {"requirements": ["six"]}, project_dir=tmp_path, envs_dir=tmp_path / "e"
    )
    assert isinstance(manager, VenvManager)
    assert manager.spec.requirements.lines == ("six",)


def test_spec_hash_follows_what_would_be_installed(tmp_path: Path) -> None:
    def spec_hash(name: str, **fields: object) -> str:
        return spec_from_config(name, fields, tmp_path).hash_for(name)

    (tmp_path / "requirements.txt").write_text("six\n")
    base = spec_hash("venv", requirements="requirements.txt")
    assert base == spec_hash(
        "venv", requirements="requirements.txt", backend="venv"
    )  # how, not what
    assert base != spec_hash("pyenv", requirements="requirements.txt")
    assert base != spec_hash("venv", requirements="requirements.txt", python="3.12")
    (tmp_path / "requirements.txt").write_text("six\nidna\n")
    assert base != spec_hash("venv", requirements="requirements.txt")
    (tmp_path / "env.yml").write_text("channels: [a]\ndependencies: [python]\n")
    conda_hash = spec_hash("conda", environment_file="env.yml")
    (tmp_path / "env.yml").write_text("channels: [a]\ndependencies: [python, pip]\n")
    assert conda_hash != spec_hash("conda", environment_file="env.yml")
    with pytest.raises(ConfigError, match=r"environment.conda.lockfile: no such file"):
        spec_hash("conda", lockfile="missing.yml")


def test_a_cache_key_holds_the_environment_less_its_tracking_clients(tmp_path: Path) -> None:
    def hashes(name: str, **fields: object) -> tuple[str, str]:
        spec = spec_from_config(name, fields, tmp_path)
        return spec.hash_for(name), spec.key_hash(name)

    plain, plain_key = hashes("venv", requirements=["six"])
    assert plain_key == plain  # nothing left out: the key is the spec
    for pins in (["mlflow"], ["mlflow-skinny==3.1.0"], ["MLflow[extras]>=3", "mlflow_tracing"]):
        spec, key = hashes("venv", requirements=["six", *pins])
        assert spec != plain  # another environment...
        assert key == plain_key  # ...computing the same results
    assert hashes("venv", requirements=["six", "idna"])[1] != plain_key
    assert hashes("venv", requirements=["six", "mlflowx"])[1] != plain_key
    # From a file: its lines are the key, not its digest (which holds the left-out lines).
    (tmp_path / "requirements.txt").write_text("six\n")
    _, from_file = hashes("venv", requirements="requirements.txt")
    (tmp_path / "requirements.txt").write_text("six  # the one\nmlflow-skinny==3.1.0\n")
    spec, key = hashes("venv", requirements="requirements.txt")
    assert key == from_file
    (tmp_path / "requirements.txt").write_text("six==1.16\n")
    assert hashes("venv", requirements="requirements.txt")[1] != from_file
    # Conda's dependencies, and constraints.
    _, conda_key = hashes("conda", dependencies=["numpy"], channels=["a"])
    assert hashes("conda", dependencies=["numpy", "mlflow-skinny=3.1"], channels=["a"])[1] == (
        conda_key
    )
    (tmp_path / "constraints.txt").write_text("mlflow==3.1.0\n")
    assert hashes("venv", requirements=["six"], constraints="constraints.txt")[1] == plain_key
