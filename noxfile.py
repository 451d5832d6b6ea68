"""The mlops test matrix.

``nox -l`` lists it, ``nox`` runs the default sessions: the suite on every
Python the classifiers promise, in a pyenv-selected interpreter, in a conda
environment (built by micromamba, mamba or conda from environment.yml where
one exists, else by py-rattler from a local channel built offline), then
``coverage-combine`` merges every session's coverage into one report.

nox's own mechanisms are used where it has them: sessions are declared by
Python version (``nox -p 3.12``), tags select groups (``-t tests``, ``-t
envs``), ``--reuse-venv`` and ``download_python`` are nox options. Two parts
stay hand-made because they do more than nox's: interpreters are looked for
among pyenv installs that are not activated too (nox's discovery skips them;
the ones found are linked into ``.nox/_pythons``), and a missing interpreter
fails the run on CI unless ``MLOPS_ALLOW_MISSING_PYTHONS`` names its version
(nox's ``--error-on-missing-interpreters`` is all or nothing), with the places
looked in.

Interpreters are found on PATH (pyenv shims left out) and among pyenv installs
that are not activated; a missing one is skipped with the places we looked,
and fails the run on CI unless ``MLOPS_ALLOW_MISSING_PYTHONS`` allows it.
Environments are reused while their constraints file and pyproject's
dependency tables are unchanged; a warm session only installs the new wheel.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
# mlops.environment's interpreter and conda rules are standard-library only, so the
# matrix builds its environments with the same code the platform uses.
sys.path.insert(0, str(ROOT / "src"))

from mlops.environment import conda_commands as conda  # noqa: E402
from nox_support import coverage_report, fingerprint, interpreters  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
# Offline-friendly: never download an interpreter unless asked (--download-python auto).
nox.options.download_python = "never"
# uv installs without byte-compiling; the suite starts hundreds of interpreters (the CLI,
# Dask workers, project environments), and each would compile dask and mlops again.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")

PYPROJECT = fingerprint.load_pyproject(ROOT / "pyproject.toml")
PYTHONS = fingerprint.python_versions(PYPROJECT)
PRIMARY = PYTHONS[0]
EXTRAS = ("all", "dev")
LOCKED_GROUPS = ("lint", "typecheck", "bench", "e2e", "mutation")
WHEEL_INPUTS = ("src", "pyproject.toml", "README.md")
CONSTRAINTS_DIR = ROOT / "constraints"
NOX_DIR = ROOT / ".nox"
REPORTS_DIR = NOX_DIR / "_reports"
# The report scripts: tools/nox_support, and the flakiness plugin beside the suite.
SCRIPTS = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tools"), str(ROOT / "tests")])}
ON_CI = bool(os.environ.get("CI", "").strip())

PYENV_ROOT = interpreters.pyenv_root(os.environ)
LOOKUPS = {v: interpreters.find_python(v, os.environ, root=PYENV_ROOT) for v in PYTHONS}
PYTHONS_DIR = NOX_DIR / "_pythons"
SKIP_NOTE = ".skipped"  # .nox/_reports/<session>.skipped: why a session ran no tests


def expose_interpreters(lookups: Mapping[str, interpreters.Lookup]) -> None:
    """Put each interpreter found on PATH by its versioned name (``python3.12``).

    pyenv installs that are not activated are invisible to nox's discovery
    (its pyenv shims refuse them), so a session declared ``python="3.12"``
    would not find them. Links in ``.nox/_pythons`` make them findable, and
    the sessions keep plain version names: ``nox -p 3.12`` selects
    ``tests-3.12``. Only the versioned names are linked, so ``python``,
    ``python3`` and ``pip`` on PATH stay what they were.
    """
    PYTHONS_DIR.mkdir(parents=True, exist_ok=True)
    for version, lookup in lookups.items():
        link = PYTHONS_DIR / f"python{version}"
        if lookup.interpreter is None:
            link.unlink(missing_ok=True)
            continue
        if link.is_symlink() and link.readlink() == lookup.interpreter:
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(lookup.interpreter)
    os.environ["PATH"] = os.pathsep.join([str(PYTHONS_DIR), os.environ.get("PATH", "")])


expose_interpreters(LOOKUPS)
PYENV_PYTHON, PYENV_REASON = interpreters.pyenv_selected_python(os.environ, ROOT)
# A conda binary, when there is one; without one the conda session builds its prefix
# with py-rattler in its own venv (the `rattler` frontend needs no binary).
CONDA_FRONTEND = conda.find_frontend(
    [f for f in conda.parse_order(os.environ.get("MLOPS_CONDA_FRONTENDS")) if f != "rattler"],
    os.environ,
    shutil.which,
)
#: The interpreter the local conda channel packages (the issue of one machine image).
CONDA_PYTHON = next(
    (LOOKUPS[v] for v in ("3.12", PRIMARY) if v in LOOKUPS and LOOKUPS[v].interpreter), None
)
CONDA_CHANNEL_DIR = NOX_DIR / "_conda_channel"


# ------------------------------------------------------------------ helpers


def constraints_for(version: str) -> Path:
    return CONSTRAINTS_DIR / f"py{version}.txt"


def deps_fingerprint(version: str, *groups: str) -> str:
    return fingerprint.dependency_fingerprint(
        PYPROJECT, constraints_for(version), (*EXTRAS, *groups)
    )


def reuse_if_fresh(session_name: str, version: str, *groups: str) -> bool:
    """Reuse the session's venv only if it was built from today's dependency inputs."""
    env_dir = NOX_DIR / fingerprint.nox_env_dir_name(session_name)
    return fingerprint.read_marker(env_dir) == deps_fingerprint(version, *groups)


def check_lock_is_current(session: nox.Session, version: str) -> None:
    """Constraints older than pyproject's dependencies: warn locally, fail on CI."""
    path = constraints_for(version)
    if not path.is_file():
        session.error(f"{path.relative_to(ROOT)} is missing; run `nox -s lock` to write it")
    stamp = fingerprint.read_lock_stamp(path)
    if stamp == fingerprint.pyproject_lock_inputs(PYPROJECT):
        return
    message = (
        f"{path.relative_to(ROOT)} was locked for other pyproject dependencies; "
        "run `nox -s lock` and commit the result"
    )
    if ON_CI:
        session.error(message)
    session.warn(message)


def build_wheel(session: nox.Session) -> Path:
    """Build the mlops wheel once per source state and share it between sessions."""
    digest = fingerprint.tree_fingerprint(ROOT, WHEEL_INPUTS)[:20]
    out_dir = NOX_DIR / "_wheels" / digest
    wheels = sorted(out_dir.glob("mlops-*.whl"))
    if wheels:
        return wheels[-1]
    staging = NOX_DIR / "_wheels" / f".{digest}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    has_uv, uv, _ = nox.virtualenv.find_uv()
    if has_uv:
        argv = [uv, "build", "--wheel", "--out-dir", str(staging), str(ROOT)]
    else:
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(staging), str(ROOT)]
    session.run(*argv, external=True, silent=True)
    try:
        staging.replace(out_dir)
    except OSError:  # another session published the same wheel first
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(out_dir.glob("mlops-*.whl"))[-1]


def install_project(session: nox.Session, version: str, *groups: str) -> Path:
    """Install the built wheel (never editable) with its extras, pinned by the constraints."""
    check_lock_is_current(session, version)
    wheel = build_wheel(session)
    constraints = constraints_for(version)
    env_dir = Path(session.virtualenv.location)
    wanted = deps_fingerprint(version, *groups)
    if fingerprint.read_marker(env_dir) != wanted:
        requirement = f"mlops[{','.join(EXTRAS)}] @ {wheel.as_uri()}"
        group_reqs = nox.project.dependency_groups(PYPROJECT, *groups) if groups else ()
        session.install("-c", str(constraints), requirement, *group_reqs)
        fingerprint.write_marker(env_dir, wanted)
    reinstall = "--reinstall" if session.venv_backend == "uv" else "--force-reinstall"
    # The wheel's path holds the source hash: the same path means the same code is installed.
    if fingerprint.read_marker(env_dir, fingerprint.WHEEL_MARKER_NAME) != str(wheel):
        session.install("--no-deps", reinstall, str(wheel))
        fingerprint.write_marker(env_dir, str(wheel), fingerprint.WHEEL_MARKER_NAME)
    return wheel


def run_pytest(
    session: nox.Session,
    python: str,
    extra_env: Mapping[str, str] | None = None,
    *,
    path_prefix: list[Path] | None = None,
    select: tuple[str, ...] = (),
    parallel: bool = True,
    forward_posargs: bool = True,
) -> None:
    """Run the suite (in parallel unless told) and leave ``.coverage.<session>`` at the
    repository root; the session's positional arguments go to pytest unless told."""
    data_file = ROOT / f".coverage.{session.name}"
    data_file.unlink(missing_ok=True)
    (REPORTS_DIR / f"{session.name}{SKIP_NOTE}").unlink(missing_ok=True)
    scratch = NOX_DIR / "_coverage" / session.name
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    env = {
        "COVERAGE_FILE": str(scratch / ".coverage"),
        "MLOPS_COVERAGE_CONTEXT": session.name,
        "MLOPS_TEST_SESSION": session.name,
        "MLOPS_EXPECT_INSTALLED": "1",
        **(extra_env or {}),
    }
    # The tests look for interpreters themselves: the links made for nox are not theirs.
    search = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p != str(PYTHONS_DIR)]
    env["PATH"] = os.pathsep.join([*map(str, path_prefix or ()), *search])
    # The threshold applies to the merged report (coverage-combine), not to one session.
    args = ["-n", "auto", "--dist", "worksteal"] if parallel else ["-n", "0"]
    args += ["--cov", "--cov-report=", "--cov-fail-under=0"]
    args += [f"--junitxml={REPORTS_DIR / (session.name + '.xml')}", *select]
    args += session.posargs if forward_posargs else []
    try:
        session.run(python, "-m", "pytest", *args, env=env, external=True)
    finally:
        # A failing suite still leaves its coverage: the merged report must not
        # shrink to the sessions that passed and call that the total.
        combine_session_coverage(session, python, scratch, data_file)


def combine_session_coverage(
    session: nox.Session, python: str, scratch: Path, data_file: Path
) -> None:
    """Combine the pytest workers' and subprocesses' data into ``.coverage.<session>``."""
    sources = sorted(str(p) for p in scratch.glob(".coverage*"))
    if not sources:
        session.warn("pytest measured no coverage (no test imported mlops?)")
        return
    session.run(
        python, "-m", "coverage", "combine", f"--data-file={data_file}", *sources,
        env={"COVERAGE_FILE": str(data_file)}, external=True, silent=True,
    )  # fmt: skip
    session.log(f"coverage data: {data_file.relative_to(ROOT)}")


def run_suite(session: nox.Session, version: str, extra_env: Mapping[str, str]) -> None:
    install_project(session, version)
    run_pytest(session, "python", extra_env)


def skip_without_tests(session: nox.Session, reason: str) -> NoReturn:
    """Skip ``session`` and leave the reason where ``coverage-combine`` looks for it."""
    (ROOT / f".coverage.{session.name}").unlink(missing_ok=True)
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / f"{session.name}{SKIP_NOTE}").write_text(reason + "\n", encoding="utf-8")
    session.skip(reason)


def missing_interpreter(session: nox.Session, lookup: interpreters.Lookup) -> NoReturn:
    allowed = os.environ.get("MLOPS_ALLOW_MISSING_PYTHONS", "")
    if ON_CI and not interpreters.allows_missing(lookup.version, allowed):
        (ROOT / f".coverage.{session.name}").unlink(missing_ok=True)
        session.error(
            f"{lookup.describe_miss()} On CI a missing interpreter fails the run; set "
            f"MLOPS_ALLOW_MISSING_PYTHONS={lookup.version} (or 'all') to allow it"
        )
    skip_without_tests(session, lookup.describe_miss().rstrip("."))


def register(
    name: str,
    doc: str,
    body: Callable[[nox.Session], None],
    **options: object,
) -> None:
    """Register a session whose name and description are computed, not written out."""
    body.__doc__ = doc
    body.__name__ = name.replace("-", "_").replace(".", "_")
    nox.session(name=name, **options)(body)  # type: ignore[call-overload]


# ------------------------------------------------------------------ tests-3.X


def _tests_session(version: str) -> None:
    name = f"tests-{version}"
    lookup = LOOKUPS[version]
    if lookup.interpreter is None:
        # Declared with its version, so `nox -p X.Y` still selects it; no venv, so
        # nox does not look for the interpreter itself: the body says where we looked.
        register(
            name,
            f"Run the suite on Python {version} (not found here: skipped).",
            lambda session: missing_interpreter(session, lookup),
            python=version,
            venv_backend="none",
            tags=["tests"],
        )
        return
    register(
        name,
        f"Run the suite on Python {version} ({lookup.interpreter}).",
        # A venv with only `pip install .` is built once, in the primary version's session.
        lambda session: run_suite(
            session, version, {"MLOPS_TEST_FRESH_INSTALL": "1"} if version == PRIMARY else {}
        ),
        python=version,  # found through .nox/_pythons (see expose_interpreters)
        reuse_venv=reuse_if_fresh(name, version),
        tags=["tests"],
    )


for _version in PYTHONS:
    _tests_session(_version)


# ------------------------------------------------------------------ pyenv


def _pyenv_suite(session: nox.Session) -> None:
    version = session.run(
        "python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])",
        silent=True, log=False,
    )  # fmt: skip
    version = str(version).strip()
    if version not in PYTHONS:
        session.error(
            f"pyenv selects Python {version}, which mlops does not support "
            f"({', '.join(PYTHONS)}); choose one with PYENV_VERSION=<version> nox -s pyenv"
        )
    run_suite(session, version, {"MLOPS_TEST_PYENV": "1"})


if PYENV_PYTHON is not None:
    register(
        "pyenv",
        "Run the suite in a venv on the pyenv-selected Python, real pyenv tests on "
        f"({PYENV_REASON}).",
        _pyenv_suite,
        python=str(PYENV_PYTHON),
        tags=["envs"],
    )
else:
    register(
        "pyenv",
        "Run the suite on the pyenv-selected Python (pyenv absent: skipped).",
        lambda session: skip_without_tests(session, PYENV_REASON),
        python=False,
        tags=["envs"],
    )


# ------------------------------------------------------------------ conda


def conda_channel(session: nox.Session) -> Path:
    """``$MLOPS_CONDA_CHANNEL``, else the local channel under .nox (built when its inputs
    changed): python from an interpreter of this machine, and pip."""
    given = os.environ.get("MLOPS_CONDA_CHANNEL")
    if given:
        return Path(given)
    if CONDA_PYTHON is None or CONDA_PYTHON.interpreter is None:
        skip_without_tests(session, "no interpreter to build the local conda channel from")
    session.install(
        "-c", str(constraints_for(PRIMARY)), "py-rattler", "py-rattler-build", "filelock"
    )  # fmt: skip
    session.run(
        "python", "-m", "nox_support.conda_channel", str(CONDA_CHANNEL_DIR),
        "--python", str(CONDA_PYTHON.interpreter), env={"PYTHONPATH": str(ROOT / "tools")},
    )  # fmt: skip
    return CONDA_CHANNEL_DIR


@nox.session(name="conda-channel", python=PRIMARY, default=False)
def conda_channel_session(session: nox.Session) -> None:
    """Build the local conda channel offline (.nox/_conda_channel): python, pip."""
    session.log(f"channel: {conda_channel(session)}")


def _rattler_conda_suite(session: nox.Session) -> None:
    """The suite in a conda prefix built by py-rattler from a channel, no conda binary."""
    channel = conda_channel(session)
    session.install("-c", str(constraints_for(PRIMARY)), "py-rattler")
    inputs = (channel / ".inputs.json").read_text(encoding="utf-8") if channel.is_dir() else ""
    version = CONDA_PYTHON.version if CONDA_PYTHON else PRIMARY
    prefix = NOX_DIR / "conda-prefix"
    python = str(conda.prefix_python(prefix))
    wheel = build_wheel(session)
    wanted = fingerprint.dependency_fingerprint(
        PYPROJECT, constraints_for(version), ("rattler", str(channel), inputs)
    )
    if fingerprint.read_marker(prefix) != wanted:
        shutil.rmtree(prefix, ignore_errors=True)
        session.log(f"building {prefix.relative_to(ROOT)} with py-rattler from {channel}")
        session.run(
            "python", "-m", "mlops.environment.rattler_env", "--prefix", str(prefix),
            "--channel", str(channel), f"python={version}", "pip",
            env={"PYTHONPATH": str(ROOT / "src")},
        )  # fmt: skip
        # The channel holds python and pip; the rest are wheels, installed by uv.
        session.log("from wheels inside the conda prefix: every dependency of mlops[all,dev]")
        has_uv, uv, _ = nox.virtualenv.find_uv()
        installer = (
            [uv, "pip", "install", "--python", python]
            if has_uv
            else [python, "-m", "pip", "install"]
        )
        session.run(
            *installer, "-c", str(constraints_for(version)),
            f"mlops[{','.join(EXTRAS)}] @ {wheel.as_uri()}", external=True,
        )  # fmt: skip
        fingerprint.write_marker(prefix, wanted)
    run_suite_in_prefix(session, prefix, wheel, {"MLOPS_CONDA_CHANNEL": str(channel)})


def run_suite_in_prefix(
    session: nox.Session, prefix: Path, wheel: Path, extra_env: Mapping[str, str]
) -> None:
    """Install today's wheel into the conda ``prefix`` and run the suite with its Python."""
    windows = sys.platform == "win32"
    python = str(conda.prefix_python(prefix, windows=windows))
    session.run(
        python, "-m", "pip", "install", "--no-deps", "--force-reinstall", str(wheel),
        external=True, silent=True,
    )  # fmt: skip
    run_pytest(
        session,
        python,
        {"MLOPS_TEST_CONDA": "1", "MLOPS_CONDA_PREFIX": str(prefix), **extra_env},
        path_prefix=conda.prefix_bin_paths(prefix, windows=windows),
    )


def _conda_suite(session: nox.Session) -> None:
    frontend = CONDA_FRONTEND
    if frontend is None:
        _rattler_conda_suite(session)
        return
    spec = conda.choose_spec(ROOT)
    prefix = NOX_DIR / "conda-prefix"
    wanted = fingerprint.dependency_fingerprint(PYPROJECT, spec.path, (frontend.name,))
    if fingerprint.read_marker(prefix) != wanted:
        shutil.rmtree(prefix, ignore_errors=True)
        session.log(
            f"building {prefix.relative_to(ROOT)} from {spec.path.name} with {frontend.name}"
        )
        session.run(*conda.create_argv(frontend, spec, prefix), external=True)
        fingerprint.write_marker(prefix, wanted)
    run_suite_in_prefix(session, prefix, build_wheel(session), {})


# Always in the default run: where no frontend exists it costs nothing and the
# summary says "skipped" with what to install, instead of silently leaving it out.
register(
    "conda",
    "Run the suite in a conda env, real conda tests on: "
    + (
        f"from environment.yml (or conda-lock.yml) with {CONDA_FRONTEND.name}."
        if CONDA_FRONTEND
        else "built by py-rattler from $MLOPS_CONDA_CHANNEL or the local channel."
    ),
    _conda_suite,
    python=PRIMARY,  # its venv holds py-rattler, which builds the prefix without conda
    tags=["envs"],
)


# ------------------------------------------------------------------ slurm

SLURM_PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")


def slurm_missing() -> list[str]:
    folders = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return [name for name in SLURM_PROGRAMS if shutil.which(name, path=folders) is None]


# Not in the default run: it starts SLURM daemons as root on this machine.
@nox.session(python=str(LOOKUPS[PRIMARY].interpreter or sys.executable), default=False)
def slurm(session: nox.Session) -> None:
    """Run `mlops run --cluster slurm` on a single-node SLURM started in a temp folder."""
    missing = slurm_missing()
    if missing:
        session.skip(f"not installed: {', '.join(missing)} (apt-get install slurm-wlm munge)")
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        session.skip("slurmd runs jobs as other users only when started as root")
    install_project(session, PRIMARY)
    run_pytest(session, "python", {"MLOPS_TEST_SLURM": "1"}, select=("-m", "slurm"))


# ------------------------------------------------------------------ e2e

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
E2E_OUTPUT = NOX_DIR / "_e2e"


def find_chromium() -> str | None:
    """``$MLOPS_CHROMIUM``, else a Chromium or Chrome on PATH (Playwright downloads none)."""
    chosen = os.environ.get("MLOPS_CHROMIUM")
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


@nox.session(
    python=str(LOOKUPS[PRIMARY].interpreter or sys.executable),
    reuse_venv=reuse_if_fresh("e2e", PRIMARY, "e2e"),
    tags=["e2e"],
)
def e2e(session: nox.Session) -> None:
    """Drive the UI in headless Chromium against `mlops serve`; screenshots in .nox/_e2e/."""
    chromium = find_chromium()
    if chromium is None:
        skip_without_tests(
            session,
            f"no Chromium: looked for $MLOPS_CHROMIUM and {', '.join(CHROMIUM_NAMES)} on PATH "
            "(apt-get install chromium)",
        )
    install_project(session, PRIMARY, "e2e")
    shutil.rmtree(E2E_OUTPUT, ignore_errors=True)
    env = {
        "MLOPS_TEST_BROWSER": "1",
        "MLOPS_CHROMIUM": chromium,
        "MLOPS_E2E_OUTPUT": str(E2E_OUTPUT),
    }
    run_pytest(session, "python", env, select=("-m", "browser"))
    session.log(f"screenshots: {E2E_OUTPUT.relative_to(ROOT)}")


# ------------------------------------------------------------------ coverage


#: The sessions of the default run that measure coverage.
COVERED_SESSIONS = (*(f"tests-{v}" for v in PYTHONS), "pyenv", "conda", "e2e")


# nox's own interpreter: the report only needs the pinned coverage release.
@nox.session(name="coverage-combine", python=None, reuse_venv=True)
def coverage_combine(session: nox.Session) -> None:
    """Merge every .coverage.<session>: terminal report, htmlcov/, xml, json, coverage.md.

    Every session of the default run must have left its data or a note saying
    why it skipped; a missing one fails the merge by name (its total would be
    wrong) unless ``-- --partial`` asks to merge what there is.
    """
    data_files = sorted(p for p in ROOT.glob(".coverage.*") if p.is_file())
    if not data_files:
        session.error(
            "no .coverage.<session> files at the repository root; run a tests session first "
            "(nox -s tests-3.11) or download the CI coverage artifacts here"
        )
    notes = {
        p.name.removesuffix(SKIP_NOTE): p.read_text(encoding="utf-8").strip()
        for p in REPORTS_DIR.glob(f"*{SKIP_NOTE}")
    }
    account = coverage_report.account_for_sessions(
        COVERED_SESSIONS, (p.name for p in data_files), notes
    )
    for name, reason in account.skipped.items():
        session.log(f"{name}: skipped, no coverage ({reason})")
    if account.missing and "--partial" not in session.posargs:
        session.error(
            f"no coverage from {', '.join(account.missing)}: not run, or broken before its "
            "tests; a total without them would not be the matrix's. Run them "
            "(nox -s NAME), or merge what there is: nox -s coverage-combine -- --partial"
        )
    session.install("-c", str(constraints_for(PRIMARY)), "coverage[toml]", "pyyaml")
    combined = ROOT / ".coverage"
    combined.unlink(missing_ok=True)
    session.run("coverage", "combine", "--keep", f"--data-file={combined}", *map(str, data_files))
    fail_under = float(PYPROJECT["tool"]["coverage"]["report"]["fail_under"])
    for kind in ("html", "xml", "json"):  # each would enforce fail_under; only `report` should
        session.run("coverage", kind, "--fail-under=0", f"--data-file={combined}", silent=True)
    report = json.loads((ROOT / "coverage.json").read_text(encoding="utf-8"))
    health = run_health_report(session, silent=True)
    markdown = (
        coverage_report.render(report, fail_under)
        + "\n"
        + account.markdown()
        + "\n"
        + health.read_text("utf-8")
    )
    (ROOT / "coverage.md").write_text(markdown, encoding="utf-8")
    session.log("wrote htmlcov/, coverage.xml, coverage.json, coverage.md (with the test health)")
    session.run("coverage", "report", f"--data-file={combined}")


# ------------------------------------------------------------------ health


@nox.session(python=None, default=False)
def health(session: nox.Session) -> None:
    """Mock usage, coverage by area, the slowest tests, flaky and quarantined: markdown.

    Reads what the last runs left (coverage.json, .nox/_reports, the flaky
    history); coverage-combine appends the same report to coverage.md.
    """
    session.install("-c", str(constraints_for(PRIMARY)), "pyyaml")
    run_health_report(session)


def run_health_report(session: nox.Session, *, silent: bool = False) -> Path:
    """Write .nox/_reports/health.md with the session's interpreter (it reads YAML)."""
    output = REPORTS_DIR / "health.md"
    session.run(
        "python", "-m", "nox_support.test_health", "--root", str(ROOT), "--output", str(output),
        env=SCRIPTS, silent=silent,
    )  # fmt: skip
    return output


# ------------------------------------------------------------------ flaky report


@nox.session(name="flaky-report", python=None, default=False)
def flaky_report(session: nox.Session) -> None:
    """Flaky, broken and environment-specific tests in .nox/flaky-history.json; the quarantine."""
    session.install("-c", str(constraints_for(PRIMARY)), "pyyaml")
    session.run(
        "python", "-m", "flakiness", str(NOX_DIR / "flaky-history.json"),
        "--quarantine", str(ROOT / "tests" / "quarantine.yaml"),
        env=SCRIPTS,
    )  # fmt: skip


# ------------------------------------------------------------------ lint, typecheck


@nox.session(python=None, tags=["checks"], default=False)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, import-linter layers, actionlint on the workflows."""
    session.install(
        "-c", str(constraints_for(PRIMARY)), *nox.project.dependency_groups(PYPROJECT, "lint")
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", env={"PYTHONPATH": str(ROOT / "src")})
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    session.run("actionlint", "-shellcheck=", "-pyflakes=", *workflows)


@nox.session(tags=["checks"], default=False)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/mlops, the noxfile and its helpers."""
    session.install(
        "-c", str(constraints_for(PRIMARY)),
        "-e", f"{ROOT}[{','.join(EXTRAS)}]",
        *nox.project.dependency_groups(PYPROJECT, "typecheck"),
    )  # fmt: skip
    session.run("mypy", *session.posargs)


# ------------------------------------------------------------------ lock


@nox.session(python=None, default=False)
def lock(session: nox.Session) -> None:
    """Write constraints/py3.X.txt with uv; refresh conda-lock.yml where a conda frontend exists."""
    has_uv, uv, _ = nox.virtualenv.find_uv()
    if not has_uv:
        session.error("`nox -s lock` needs uv: pip install 'nox[uv]'")
    CONSTRAINTS_DIR.mkdir(exist_ok=True)
    stamp = fingerprint.pyproject_lock_inputs(PYPROJECT)
    for version in PYTHONS:
        target = constraints_for(version)
        session.run(
            uv, "pip", "compile", str(ROOT / "pyproject.toml"),
            *[arg for extra in EXTRAS for arg in ("--extra", extra)],
            *[arg for group in LOCKED_GROUPS for arg in ("--group", f"pyproject.toml:{group}")],
            "--universal", "--python-version", version, "--quiet",
            "--custom-compile-command", "nox -s lock",
            "--output-file", str(target),
            external=True,
        )  # fmt: skip
        fingerprint.write_lock_stamp(target, stamp)
        session.log(f"locked {target.relative_to(ROOT)}")
    if CONDA_FRONTEND is None:
        session.warn(f"conda-lock.yml not refreshed: {conda.INSTALL_HINT}")
        return
    session.install("conda-lock")
    argv = conda.lock_argv(CONDA_FRONTEND, ROOT / conda.ENV_FILE, conda.LOCK_PLATFORMS)
    try:
        session.run(*argv)
    except nox.command.CommandFailed:
        session.error(
            "conda-lock could not solve environment.yml; are its channels reachable from here? "
            "constraints/ were written; conda-lock.yml is unchanged"
        )


# ------------------------------------------------------------------ mutation


@nox.session(python=str(LOOKUPS[PRIMARY].interpreter or sys.executable), default=False)
def mutation(session: nox.Session) -> None:
    """mutmut on the pure-logic modules ([tool.mutmut]); reports the kill rate (target 80%).

    Results are kept in mutants/, so a second run re-tests only what changed.
    ``nox -s mutation -- <mutant name>...`` re-tests chosen mutants. The report is
    .nox/_reports/mutation.md; the session fails when the kill rate is below 80%.
    """
    install_project(session, PRIMARY, "mutation")
    session.run("mutmut", "run", "--max-children", str(os.cpu_count() or 1), *session.posargs)
    report = REPORTS_DIR / "mutation.md"
    session.run("python", str(ROOT / "tools" / "nox_support" / "mutation_report.py"), "mutants",
                "--fail-under", "80", "--output", str(report))  # fmt: skip


# ------------------------------------------------------------------ soak


@nox.session(python=str(LOOKUPS[PRIMARY].interpreter or sys.executable), default=False)
def soak(session: nox.Session) -> None:
    """Worker tasks of changing code on fresh 2-worker clusters, under load; failures / rounds.

    Not in the default run. Each round starts a LocalCluster of two worker processes and
    runs the tasks of three versions of a project's code on it at once, with project-class
    results passed between them (tests/fixtures/code_versions.py), under subprocess
    coverage as the suite is, while busy loops hold every core.
    ``nox -s soak -- --rounds N`` (default 200) ``--load K`` (busy loops; default one per core).
    """
    parser = argparse.ArgumentParser(prog="nox -s soak --")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--load", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args(session.posargs)
    install_project(session, PRIMARY)
    session.log(f"{options.rounds} rounds beside {options.load} busy loop(s)")
    loops = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(options.load)
    ]
    env = {"MLOPS_TEST_SOAK": "1", "MLOPS_SOAK_ROUNDS": str(options.rounds)}
    # Shown live (-s), in one process; a round takes seconds, and far longer under load.
    select = ("-m", "soak", "-s", f"--timeout={120 * options.rounds}", "tests/integration")
    try:
        run_pytest(session, "python", env, select=select, parallel=False, forward_posargs=False)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


# ------------------------------------------------------------------ bench


@nox.session(python=str(LOOKUPS[PRIMARY].interpreter or sys.executable), default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks measured side by side; prints markdown tables (not part of the default run).

    ``nox -s bench`` runs every script in benchmarks/; ``nox -s bench -- benchmarks/storage.py``
    runs one, and what follows the scripts goes to each of them
    (``nox -s bench -- benchmarks/command.py --sizes 100,1000,5000``).
    """
    install_project(session, PRIMARY, "bench")
    scripts = list(itertools.takewhile(lambda arg: arg.endswith(".py"), session.posargs))
    options = session.posargs[len(scripts) :]
    scripts = scripts or sorted(str(p) for p in (ROOT / "benchmarks").glob("[!_]*.py"))
    # The session's own interpreter (session.python is only the version asked for).
    python = Path(session.bin) / "python"
    for script in scripts:
        session.run("python", script, *options, env={"MLOPS_BENCH_PYTHON": str(python)})
