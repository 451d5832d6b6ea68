"""A plain install (the README's ``pip install .``, no extras): every command works, or
says in one line which extra it needs.

The venv is built here from the checkout, with no extra, so a dependency that
moved into an extra (or a command that imports an optional package at the
top) is caught before a user meets a 28-line ModuleNotFoundError.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fixtures.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO_ROOT / "constraints" / f"py{sys.version_info.major}.{sys.version_info.minor}.txt"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("MLOPS_TEST_FRESH_INSTALL") != "1",
        reason="builds a venv from the checkout: run in the primary tests session "
        "(or MLOPS_TEST_FRESH_INSTALL=1)",
    ),
]

#: One invocation of each command, as a new user would type it after `mlops create demo`.
INVOCATIONS: dict[str, list[list[str]]] = {
    "workspace": [["workspace"]],
    "create": [["create", "other"]],
    "list": [["list"]],
    "info": [["info", "demo"]],
    "config": [["config", "demo"], ["config", "demo", "validate"]],
    "run": [["run", "demo", "--local"]],
    "runs": [["runs", "demo"], ["runs", "demo", "show", "latest"]],
    "sweep": [
        ["sweep", "demo", "--grid", "model.parameters.greeting=hi,hello", "--local"],
        [
            "sweep",
            "demo",
            "--method",
            "optuna",
            "--param",
            "model.parameters.greeting={choice: [hi, hello]}",
            "--metric",
            "hello.length",
            "--local",
        ],
    ],
    "sweeps": [["sweeps", "demo"], ["sweeps", "demo", "show", "latest"]],
    "charts render": [["charts", "render", "demo", "--local"]],
    "job run": [["job", "run", "--project", "demo"]],
    "env list": [["env", "list"]],
    "env prune": [["env", "prune", "--dry-run"]],
    "shell": [["shell", "demo", "--local"]],  # stdin is no terminal: runs what it reads
    "exec": [["exec", "demo", "--local", "--", "python", "-c", "import mlops"]],
    "quickstart": [["quickstart", "--name", "tour"]],
    "delete": [["delete", "other", "--force"]],
}


CHART = """

from mlops import chart


@chart(kind="dynamic")
def length(ctx):
    return {"series": [{"name": "length", "points": [[0, 1]]}]}
"""


def _uv() -> str:
    found = shutil.which("uv")
    if found is None:
        try:
            import uv  # the uv wheel, when it is a Python package here
        except ImportError:
            pytest.fail("uv is needed to build the fresh venv (pip install uv)")
        found = uv.find_uv_bin()
    return found


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``mlops`` script of a venv where only ``pip install .`` ran."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    uv = _uv()
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "-c", str(CONSTRAINTS),
         str(REPO_ROOT)],
        check=True, timeout=600,
    )  # fmt: skip
    return venv / "bin" / "mlops"


def _commands(mlops: Path, *group: str) -> list[str]:
    """The command names a ``--help`` lists, subcommands of groups included."""
    shown = subprocess.run(
        [str(mlops), *group, "--help"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    listed = shown.split("Commands:", 1)[1] if "Commands:" in shown else ""
    names = re.findall(r"^  (\S+)", listed, flags=re.MULTILINE)
    found = []
    for name in names:
        sub = subprocess.run(
            [str(mlops), *group, name, "--help"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert sub.returncode == 0, (group, name, sub.stderr)
        inner = _commands(mlops, *group, name) if "Commands:" in sub.stdout else []
        found.extend(inner or [" ".join([*group, name])])
    return found


def _works_or_names_its_extra(done: subprocess.CompletedProcess[str], argv: list[str]) -> None:
    if done.returncode == 0:
        return
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr, (argv, done.stderr)
    assert len(lines) == 1, (argv, done.stderr)
    assert re.search(r"pip install 'mlops\[\w+\]'", lines[0]), (argv, lines[0])


def test_every_command_of_a_plain_install_works_or_names_its_extra(
    plain_install: Path, tmp_path: Path
) -> None:
    commands = _commands(plain_install)
    assert set(commands) == set(INVOCATIONS) | {"serve"}, "a command without an invocation here"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "COV_", "COVERAGE"))}
    env["MLOPS_WORKSPACE_DIR"] = str(tmp_path / "ws")
    created = subprocess.run(
        [str(plain_install), "create", "demo"], capture_output=True, text=True, env=env, check=False
    )
    assert created.returncode == 0, created.stderr
    demo = tmp_path / "ws" / "projects" / "demo"
    with (demo / "src" / "pipeline.py").open("a") as source:
        source.write(CHART)
    charted = subprocess.run(
        [str(plain_install), "config", "demo", "set", "reporting.charts=[{name: length}]"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert charted.returncode == 0, charted.stderr
    for invocations in INVOCATIONS.values():
        for argv in invocations:
            done = subprocess.run(
                [str(plain_install), *argv],
                capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=300,
            )  # fmt: skip
            _works_or_names_its_extra(done, argv)
    port = free_port()
    server = subprocess.Popen(
        [str(plain_install), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as r:
                    assert json.load(r)["status"] == "ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, "mlops serve did not answer in 60 s"
                time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
