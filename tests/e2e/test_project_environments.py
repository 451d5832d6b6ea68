"""`mlops run` in the project's environment, and `mlops env list/prune`, through the real CLI.

The project's venv gets a wheel built by the test (offline) and mlops itself
installed the way the running mlops is installed; the run record tells which
interpreter ran the processes.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures.cli import run_mlops
from fixtures.projects import ProjectFactory, last_run
from fixtures.wheels import build_wheel
from mlops.environment.setup_env import runtime_requirements

pytestmark = [pytest.mark.venv, pytest.mark.slow]

PIPELINE = """
from mlops import process

@process
def probe():
    import sys
    import mlops_probe
    return {"prefix": sys.prefix, "value": mlops_probe.VALUE}
"""


def env_list(workspace: Path) -> list[dict[str, Any]]:
    listed = run_mlops(workspace, "env", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    return rows


def test_run_happens_inside_the_project_environment(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    requirement = "./wheels/mlops_probe-1.0-py3-none-any.whl"
    project = make_project(
        "isolated", PIPELINE, {"probe": []},
        extra={"environment": {"venv": {"requirements": [requirement]}}},
    )  # fmt: skip
    build_wheel(project / "wheels")

    first = run_mlops(tmp_workspace, "run", "isolated", timeout=600)
    assert first.returncode == 0, first.stderr
    envs = tmp_workspace / ".mlops" / "envs"
    (env_row,) = env_list(tmp_workspace)
    assert env_row["used_by"] == ["isolated"]
    assert env_row["complete"]
    prefix = envs / env_row["name"]
    assert f"running in {prefix} (built in " in first.stderr
    # The build says each step as it starts: no silent minutes.
    assert f"mlops: creating {prefix}\n" in first.stderr
    # The requirements and mlops itself go in with one install (one resolve).
    (install,) = [line for line in first.stderr.splitlines() if "installing with " in line]
    runtime = [arg for line in runtime_requirements() for arg in shlex.split(line)]
    assert [requirement, *runtime] == install.split(": ", 2)[2].split(", "), install
    record = last_run("isolated")
    assert Path(record["environment"]["executable"]).parent.parent == prefix
    assert record["environment"]["executable"] != sys.executable
    assert record["environment"]["spec_hash"] == env_row["spec_hash"]

    again = run_mlops(tmp_workspace, "run", "isolated", "-vv")
    assert again.returncode == 0, again.stderr
    assert f"running in {prefix} (reused)" in again.stderr
    # One read of the config, in the environment: the launch cache started it without
    # reading the config here, and the request crossed as JSON.
    validated = [line for line in again.stderr.splitlines() if line.endswith("validated "
                 "projects/isolated/configs/project_config.yaml")]  # fmt: skip
    assert len(validated) == 1, again.stderr
    assert "reused" in again.stdout  # the process result too: same code, same environment

    local = run_mlops(tmp_workspace, "run", "isolated", "--local", "--no-cache")
    # The wheel is only in the project's environment: this interpreter cannot import it.
    assert local.returncode == 1
    assert "No module named 'mlops_probe'" in local.stderr + local.stdout


def test_prune_removes_what_no_project_uses(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    requirement = "./wheels/mlops_probe-1.0-py3-none-any.whl"
    project = make_project(
        "pruned", PIPELINE, {"probe": []},
        extra={"environment": {"venv": {"requirements": [requirement]}}},
    )  # fmt: skip
    build_wheel(project / "wheels")
    assert run_mlops(tmp_workspace, "run", "pruned", timeout=600).returncode == 0
    build_wheel(project / "wheels", value="changed")  # new wheel content: a new spec
    changed = run_mlops(tmp_workspace, "run", "pruned", timeout=600)
    assert changed.returncode == 0, changed.stderr
    rows = env_list(tmp_workspace)
    assert len(rows) == 2
    (current,) = [r for r in rows if r["used_by"] == ["pruned"]]
    # The config did not change, so the launch cache started the old environment; the
    # run there saw that its spec is another and ran in the new one instead.
    record = last_run("pruned")
    assert record["environment"]["spec_hash"] == current["spec_hash"]
    assert Path(record["environment"]["executable"]).parent.parent.name == current["name"]
    dry = run_mlops(tmp_workspace, "env", "prune", "--dry-run")
    assert "Would remove 1 environment(s)" in dry.stdout
    assert len(env_list(tmp_workspace)) == 2
    pruned = run_mlops(tmp_workspace, "env", "prune")
    assert pruned.returncode == 0
    assert "Removed 1 environment(s)" in pruned.stdout
    assert [r["name"] for r in env_list(tmp_workspace)] == [current["name"]]


THING = """

class Thing:
    def __init__(self, size):
        self.size = size
"""

MAKES_A_THING = """
from mlops import process

@process
def make():
    import mlops_probe
    return mlops_probe.Thing(3)
"""


def test_a_result_needing_the_environment_is_read_through_shell_and_exec(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    requirement = "./wheels/mlops_probe-1.0-py3-none-any.whl"
    project = make_project(
        "things", MAKES_A_THING, {"make": []},
        extra={"environment": {"venv": {"requirements": [requirement]}}},
    )  # fmt: skip
    build_wheel(project / "wheels", source=THING)
    built = run_mlops(tmp_workspace, "run", "things", timeout=600)
    assert built.returncode == 0, built.stderr
    (env_row,) = env_list(tmp_workspace)
    prefix = tmp_workspace / ".mlops" / "envs" / env_row["name"]

    # This interpreter has no mlops_probe: the error names the process, the module and
    # the way into the project's environment.
    script = f"import mlops; mlops.load_result('things', 'make', workspace={str(tmp_workspace)!r})"
    here = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert here.returncode == 1
    last = here.stderr.strip().splitlines()[-1]
    assert "cannot load the result of process 'make' (run " in last, last
    assert "it needs the module 'mlops_probe'" in last, last
    assert "`mlops shell things`" in last, last
    assert "`mlops exec things -- CMD`" in last, last

    # mlops shell without a terminal runs the script on stdin, load_result ready.
    shell = run_mlops(
        tmp_workspace, "shell", "things", "-q",
        stdin="import sys\nprint(load_result('things', 'make').size, sys.prefix)\n",
    )  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split() == ["3", str(prefix)]
    assert shell.stderr == ""
    failing = run_mlops(tmp_workspace, "shell", "things", "-q", stdin="raise SystemExit(5)\n")
    assert failing.returncode == 5

    # mlops exec: a command of the environment, with the workspace and project set.
    probe = (
        "import os, sys, mlops_probe; print(sys.prefix, os.environ['MLOPS_WORKSPACE_DIR'], "
        "os.environ['MLOPS_PROJECT_ID'], os.environ['MLOPS_PROJECT_DIR'], mlops_probe.VALUE)"
    )
    inside = run_mlops(tmp_workspace, "exec", "things", "-q", "--", "python", "-c", probe)
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout.split() == [
        str(prefix),
        str(tmp_workspace),
        "things",
        str(project),
        "probe",
    ]
    # An mlops run started there runs in place (no second environment, no re-exec).
    rerun = run_mlops(tmp_workspace, "exec", "things", "-q", "--", "mlops", "run", "things")
    assert rerun.returncode == 0, rerun.stderr
    assert "running in" not in rerun.stderr
    assert "reused" in rerun.stdout
    status = run_mlops(tmp_workspace, "exec", "things", "-q", "--", "python", "-c", "exit(7)")
    assert status.returncode == 7

    # Bad input: one line, exit 2, nothing changed.
    before = sorted(p.relative_to(tmp_workspace) for p in tmp_workspace.rglob("*"))
    for argv, message in (
        (["exec", "things", "--", "no-such-tool"], "'no-such-tool' is not a command in"),
        (["exec", "things"], "Missing argument 'COMMAND...'"),
        (["shell", "nope"], "no project 'nope'"),
    ):
        done = run_mlops(tmp_workspace, "-q", *argv)
        assert done.returncode == 2, (argv, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (argv, done.stderr)
        assert message in done.stderr, (argv, done.stderr)
    assert sorted(p.relative_to(tmp_workspace) for p in tmp_workspace.rglob("*")) == before
