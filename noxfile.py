"""The mlops test matrix: ``nox -l`` lists it, ``nox`` runs the default sessions.

The suite runs on every Python the classifiers promise (``tests-3.X``; ``-p 3.12``,
``-t tests``), on the Python pyenv selects and in a conda prefix (``-t envs``), in a
browser (``e2e``); ``coverage-combine`` merges what they measured. Importing this
file reads pyproject.toml and the environment, nothing else: no process, no file
written. nox finds interpreters when a session runs: on PATH, or pyenv installs
that ``PYENV_VERSION`` (``.ci/run`` names them all) or ``pyenv global`` activates.
A missing one skips its session; on CI, coverage-combine fails the run unless
``MLOPS_ALLOW_MISSING_PYTHONS`` names its version. Reports are scripts the
sessions run (``tools/nox_support``, ``tests/flakiness``).

Environments are nox's, reused (``-N`` rebuilds them); every run installs the wheel
with its pinned extras, which uv does in 0.1 s when nothing changed. Hand-made,
because measurably better: the wheel is built once per digest of src/, pyproject.toml
and README.md, and shared; ``session.install(".")`` builds and reinstalls mlops on
every run (5-7 s instead of 0.1 s in a warm ``tests-3.11``). The conda prefix is made
in its session by nox's rattler backend, once the channel is built there.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import nox

# Interpreters are found through python-discovery, which follows pyenv's PYENV_VERSION.
nox.needs_version = ">=2026.10.20"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"  # offline-friendly: `--download-python auto` asks
if os.environ.get("MLOPS_ALLOW_MISSING_PYTHONS"):  # coverage-combine fails the ones not named
    nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)
PRIMARY = PYTHONS[0]
NAMED_PRIMARY = f"python{PRIMARY}"  # beside the matrix: `nox -p 3.11` selects the matrix only
# pyenv's shim runs what pyenv selects here (PYENV_VERSION, .python-version, global).
PYENV_PYTHON = str(Path(os.environ.get("PYENV_ROOT") or "~/.pyenv").expanduser() / "shims/python")
CONDA_PYTHONS = ("3.12", PRIMARY)  # the local channel packages the first found (as environment.yml)
EXTRAS = "all,dev"
LOCKED_GROUPS = ("lint", "typecheck", "bench", "e2e", "mutation")
NOX_DIR = ROOT / ".nox"
REPORTS = NOX_DIR / "_reports"
SCRIPTS = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tools"), str(ROOT / "tests")])}
COVERED = (*(f"tests-{v}" for v in PYTHONS), "pyenv", "conda", "e2e")


def constraints(version: str = PRIMARY) -> str:
    return str(ROOT / "constraints" / f"py{version}.txt")


def build_wheel(session: nox.Session) -> Path:
    """The wheel of today's sources, built once per digest of them and shared by sessions."""
    digest = hashlib.sha256()
    sources = [ROOT / "pyproject.toml", ROOT / "README.md", *(ROOT / "src").rglob("*")]
    for path in sorted(p for p in sources if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    out = NOX_DIR / "_wheels" / digest.hexdigest()[:20]
    if not any(out.glob("mlops-*.whl")):
        staging = out.with_name(f".{out.name}.{os.getpid()}")
        has_uv, uv, _ = nox.virtualenv.find_uv()
        argv = [uv, "build", "--wheel", "-o"] if has_uv else ["pip", "wheel", "--no-deps", "-w"]
        session.run(*argv, str(staging), str(ROOT), external=True, silent=True)
        try:
            staging.replace(out)
        except OSError:  # another session published the same wheel first
            shutil.rmtree(staging, ignore_errors=True)
    return sorted(out.glob("mlops-*.whl"))[-1]


def install_project(session: nox.Session, version: str = PRIMARY, *groups: str) -> None:
    """The built wheel (never the checkout) with its extras, pinned by the constraints: in a
    reused environment uv installs nothing, or mlops alone when the wheel's path changed."""
    wheel = build_wheel(session)
    session.env.setdefault("UV_COMPILE_BYTECODE", "1")  # the suite starts hundreds of interpreters
    session.install("-c", constraints(version), f"mlops[{EXTRAS}] @ {wheel.as_uri()}",
                    *nox.project.dependency_groups(PYPROJECT, *groups))  # fmt: skip


def run_pytest(session: nox.Session, python: str, env: Mapping[str, str], *args: str) -> None:
    """The suite in parallel (``args``, then posargs), leaving ``.coverage.<session>``."""
    name = session.name
    data_file = ROOT / f".coverage.{name}"
    data_file.unlink(missing_ok=True)
    (REPORTS / f"{name}.skipped").unlink(missing_ok=True)
    scratch = NOX_DIR / "_coverage" / name
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    run_env = {"COVERAGE_FILE": str(scratch / ".coverage"), "MLOPS_COVERAGE_CONTEXT": name,
               "MLOPS_TEST_SESSION": name, "MLOPS_EXPECT_INSTALLED": "1", **env}  # fmt: skip
    # The threshold applies to the merged report (coverage-combine), not to one session.
    options = ["-n", "auto", "--dist", "worksteal", "--cov", "--cov-report=", "--cov-fail-under=0",
               f"--junitxml={REPORTS}/{name}.xml"]  # fmt: skip
    try:  # `python` is the session's, or the conda prefix's
        session.run(python, "-m", "pytest", *options, *args, *session.posargs, env=run_env,
                    external=True)  # fmt: skip
    finally:
        # A failing suite still leaves its coverage: a total must not drop the sessions that failed.
        if sources := sorted(str(p) for p in scratch.glob(".coverage*")):
            session.run(python, "-m", "coverage", "combine", f"--data-file={data_file}", *sources,
                        silent=True, external=True)  # fmt: skip
        else:
            session.warn("pytest measured no coverage (no test imported mlops?)")


def skip_without_tests(session: nox.Session, reason: str) -> NoReturn:
    """Skip, leaving the reason where ``coverage-combine`` looks for it."""
    (ROOT / f".coverage.{session.name}").unlink(missing_ok=True)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{session.name}.skipped").write_text(reason + "\n", encoding="utf-8")
    session.skip(reason)


@nox.session(python=PYTHONS, tags=["tests"])
def tests(session: nox.Session) -> None:
    """Run the suite in a venv on each Python the classifiers promise."""
    install_project(session, str(session.python))
    # A venv with only `pip install .` is built once, in the primary version's session.
    run_pytest(session, "python", {"MLOPS_TEST_FRESH_INSTALL": str(int(session.python == PRIMARY))})


@nox.session(python=PYENV_PYTHON, tags=["envs"])
def pyenv(session: nox.Session) -> None:
    """Run the suite in a venv on the Python pyenv selects, real pyenv tests on."""
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    version = str(session.run("python", "-c", probe, silent=True, log=False)).strip()
    if version not in PYTHONS:
        session.error(f"pyenv selects Python {version}, not one of {', '.join(PYTHONS)}; "
                      "choose one with PYENV_VERSION=<version> nox -s pyenv")  # fmt: skip
    install_project(session, version)
    run_pytest(session, "python", {"MLOPS_TEST_PYENV": "1"})


def conda_channel(session: nox.Session) -> tuple[Path, str]:
    """``$MLOPS_CONDA_CHANNEL``, else the local channel (rebuilt when its inputs changed, from
    the first of CONDA_PYTHONS nox can find); the channel and the Python version it serves."""
    if given := os.environ.get("MLOPS_CONDA_CHANNEL"):
        return Path(given), CONDA_PYTHONS[0]
    channel = NOX_DIR / "_conda_channel"
    session.install("-c", constraints(), "py-rattler", "py-rattler-build", "python-discovery")
    session.run("python", "-m", "nox_support.conda_channel", str(channel),
                "--python", *CONDA_PYTHONS, env=SCRIPTS)  # fmt: skip
    if not (channel / ".inputs.json").is_file():
        skip_without_tests(session, f"no Python {' or '.join(CONDA_PYTHONS)} to package")
    inputs = json.loads((channel / ".inputs.json").read_text(encoding="utf-8"))
    return channel, ".".join(str(inputs["version"]).split(".")[:2])


@nox.session(name="conda-channel", python=PRIMARY, default=False)
def conda_channel_session(session: nox.Session) -> None:
    """Build the local conda channel offline (.nox/_conda_channel): python, pip."""
    session.log(f"channel: {conda_channel(session)[0]}")


def conda_binary() -> tuple[str, str] | None:
    """The first of ``$MLOPS_CONDA_FRONTENDS`` (micromamba|mamba|conda) that is installed."""
    exported = {"micromamba": os.environ.get("MAMBA_EXE"), "conda": os.environ.get("CONDA_EXE")}
    for name in os.environ.get("MLOPS_CONDA_FRONTENDS", "micromamba|mamba|conda").split("|"):
        exe = shutil.which(name) or exported.get(name)
        if exe and Path(exe).is_file():
            return name, exe
    return None


@nox.session(python=PRIMARY, tags=["envs"])
def conda(session: nox.Session) -> None:
    """Run the suite in a conda prefix, real conda tests on (py-rattler, or a conda binary).

    nox's rattler backend builds it from the local channel; where micromamba, mamba
    or conda is installed, that builds it from conda-lock.yml or environment.yml."""
    prefix, wheel = NOX_DIR / "conda-prefix", build_wheel(session)
    python, env = str(prefix / "bin" / "python"), {"MLOPS_TEST_CONDA": "1"}
    if binary := conda_binary():  # from conda-lock.yml or environment.yml, by that binary
        session.run("python", "-m", "nox_support.conda_env", str(prefix), str(wheel), *binary,
                    env=SCRIPTS)  # fmt: skip
    elif importlib.util.find_spec("rattler") is None:
        skip_without_tests(session, "nox without py-rattler: pip install 'nox[rattler]'")
    else:  # python and pip from the channel, every other package from its wheel
        channel, version = conda_channel(session)
        env["MLOPS_CONDA_CHANNEL"] = str(channel)
        inputs = channel / ".inputs.json"  # the local channel's; the prefix follows it
        stamp, text = prefix / ".channel", inputs.read_text("utf-8") if inputs.is_file() else ""
        fresh = stamp.is_file() and stamp.read_text("utf-8") == text
        nox.virtualenv.RattlerEnv(str(prefix), interpreter=version, reuse_existing=fresh,
                                  venv_params=["-c", str(channel)]).create()  # fmt: skip
        stamp.write_text(text, "utf-8")
        session.run("uv", "pip", "install", "--python", python, "-c", constraints(version),
                    f"mlops[{EXTRAS}] @ {wheel.as_uri()}", external=True)  # fmt: skip
    path = os.pathsep.join([str(prefix / "bin"), os.environ.get("PATH", "")])  # as activation would
    run_pytest(session, python, {**env, "MLOPS_CONDA_PREFIX": str(prefix), "PATH": path})


# Not in the default run: it starts SLURM daemons as root on this machine.
@nox.session(python=NAMED_PRIMARY, default=False)
def slurm(session: nox.Session) -> None:
    """Run `mlops run --cluster slurm` on a single-node SLURM started in a temp folder."""
    folders = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    programs = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
    missing = [name for name in programs if shutil.which(name, path=folders) is None]
    if missing:
        session.skip(f"not installed: {', '.join(missing)} (apt-get install slurm-wlm munge)")
    if os.geteuid() != 0:
        session.skip("slurmd runs jobs as other users only when started as root")
    install_project(session)
    run_pytest(session, "python", {"MLOPS_TEST_SLURM": "1"}, "-m", "slurm")


@nox.session(python=NAMED_PRIMARY, tags=["e2e"])
def e2e(session: nox.Session) -> None:
    """Drive the UI in headless Chromium against `mlops serve`; screenshots in .nox/_e2e/."""
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    chromium = os.environ.get("MLOPS_CHROMIUM") or next(filter(None, map(shutil.which, names)), "")
    if not os.access(chromium, os.X_OK):
        where = ", ".join(("$MLOPS_CHROMIUM", *names))
        skip_without_tests(session, f"no Chromium: looked for {where} (apt-get install chromium)")
    install_project(session, PRIMARY, "e2e")
    output = NOX_DIR / "_e2e"
    shutil.rmtree(output, ignore_errors=True)
    env = {"MLOPS_TEST_BROWSER": "1", "MLOPS_CHROMIUM": chromium, "MLOPS_E2E_OUTPUT": str(output)}
    run_pytest(session, "python", env, "-m", "browser")
    session.log(f"screenshots: {output.relative_to(ROOT)}")


@nox.session(name="coverage-combine", python=None)
def coverage_combine(session: nox.Session) -> None:
    """Merge every .coverage.<session>: terminal report, htmlcov/, xml, json, coverage.md."""
    session.install("-c", constraints(), "coverage[toml]", "pyyaml", "python-discovery")
    interpreters = [f"tests-{v}={v}" for v in PYTHONS] + [f"pyenv={PYENV_PYTHON}"]
    session.run("python", "-m", "nox_support.coverage_report", "--root", str(ROOT),
                "--expected", *COVERED, "--interpreters", *interpreters, *session.posargs,
                env=SCRIPTS)  # fmt: skip


@nox.session(python=None, default=False)
def health(session: nox.Session) -> None:
    """Mock usage, coverage by area, the slowest tests, flaky and quarantined: markdown."""
    session.install("-c", constraints(), "pyyaml")
    session.run("python", "-m", "nox_support.test_health", "--root", str(ROOT),
                "--output", str(REPORTS / "health.md"), env=SCRIPTS)  # fmt: skip


@nox.session(name="flaky-report", python=None, default=False)
def flaky_report(session: nox.Session) -> None:
    """Flaky, broken and environment-specific tests in .nox/flaky-history.json; the quarantine."""
    session.install("-c", constraints(), "pyyaml")
    session.run("python", "-m", "flakiness", str(NOX_DIR / "flaky-history.json"),
                "--quarantine", str(ROOT / "tests" / "quarantine.yaml"), env=SCRIPTS)  # fmt: skip


@nox.session(python=None, tags=["checks"], default=False)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, import-linter layers, actionlint on the workflows,
    environment.yml against pyproject.toml."""
    session.install("-c", constraints(), *nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", env={"PYTHONPATH": str(ROOT / "src")})
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    session.run("actionlint", "-shellcheck=", "-pyflakes=", *workflows)
    session.run("python", "-m", "nox_support.environment_file", "--check", env=SCRIPTS)


@nox.session(tags=["checks"], default=False)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/mlops, the noxfile and its helpers."""
    session.install("-c", constraints(), "-e", f"{ROOT}[{EXTRAS}]",
                    *nox.project.dependency_groups(PYPROJECT, "typecheck"))  # fmt: skip
    session.run("mypy", *session.posargs)


@nox.session(python=None, default=False)
def lock(session: nox.Session) -> None:
    """Write constraints/py3.X.txt with uv and environment.yml from pyproject.toml; refresh
    conda-lock.yml where a conda frontend exists."""
    for version in PYTHONS:
        session.run(
            "uv", "pip", "compile", "pyproject.toml", "--extra", "all", "--extra", "dev",
            *[arg for group in LOCKED_GROUPS for arg in ("--group", f"pyproject.toml:{group}")],
            "--universal", "--python-version", version, "--quiet", "--custom-compile-command",
            "nox -s lock", "--output-file", constraints(version), external=True,
        )  # fmt: skip
    # Each file names the pyproject dependencies it was locked for; a unit test compares.
    stamp = ["python", "-m", "nox_support.lock_stamp", "pyproject.toml", *map(constraints, PYTHONS)]
    session.run(*stamp, env=SCRIPTS)
    session.run("python", "-m", "nox_support.environment_file", env=SCRIPTS)
    if binary := conda_binary():
        session.install("conda-lock")
        session.run("python", "-m", "nox_support.conda_env", "--lock", binary[1], env=SCRIPTS)
    else:
        session.warn("conda-lock.yml not refreshed: no micromamba, mamba or conda installed")


@nox.session(python=NAMED_PRIMARY, default=False)
def mutation(session: nox.Session) -> None:
    """mutmut on the pure-logic modules ([tool.mutmut]); reports the kill rate (target 80%)."""
    install_project(session, PRIMARY, "mutation")
    session.run("mutmut", "run", "--max-children", str(os.cpu_count() or 1), *session.posargs)
    session.run("python", str(ROOT / "tools" / "nox_support" / "mutation_report.py"), "mutants",
                "--fail-under", "80", "--output", str(REPORTS / "mutation.md"))  # fmt: skip


@nox.session(python=NAMED_PRIMARY, default=False)
def soak(session: nox.Session) -> None:
    """Worker tasks of changing code on fresh 2-worker clusters, under load; failures / rounds.

    ``nox -s soak -- --rounds N`` (default 200) ``--load K`` (busy loops; default one per core).
    """
    parser = argparse.ArgumentParser(prog="nox -s soak --")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--load", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args(session.posargs)
    session.posargs.clear()  # the soak's options, not pytest's
    install_project(session)
    session.log(f"{options.rounds} rounds beside {options.load} busy loop(s)")
    busy = [sys.executable, "-c", "while True: pass"]
    loops = [subprocess.Popen(busy) for _ in range(options.load)]
    env = {"MLOPS_TEST_SOAK": "1", "MLOPS_SOAK_ROUNDS": str(options.rounds)}
    # Shown live (-s), in one process; a round takes seconds, and far longer under load.
    args = ["-n", "0", "-m", "soak", "-s", f"--timeout={120 * options.rounds}", "tests/integration"]
    try:
        run_pytest(session, "python", env, *args)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


@nox.session(python=NAMED_PRIMARY, default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks measured side by side; prints markdown tables (not part of the default run).

    ``nox -s bench -- benchmarks/command.py --sizes 100,1000``: one script, with options."""
    install_project(session, PRIMARY, "bench")
    scripts = list(itertools.takewhile(lambda arg: arg.endswith(".py"), session.posargs))
    options = session.posargs[len(scripts) :]
    scripts = scripts or sorted(str(p) for p in (ROOT / "benchmarks").glob("[!_]*.py"))
    python = Path(session.bin) / "python"  # the session's own interpreter, by path
    for script in scripts:
        session.run("python", script, *options, env={"MLOPS_BENCH_PYTHON": str(python)})
