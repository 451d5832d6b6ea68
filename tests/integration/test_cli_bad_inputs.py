"""Every user mistake: exit status 2, one line on stderr naming the problem, nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.main import main


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder (None) under ``root``: lock files included.

    Not Python's own bytecode cache (``__pycache__``): importing a project's module to
    check it writes one there, as any import does where bytecode may be written.
    """
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
        if "__pycache__" not in p.parts
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    assert main(["--workspace", str(ws), "create", "demo"]) == 0
    assert main(["--workspace", str(ws), "create", "broken"]) == 0
    (ws / "projects" / "broken" / "configs" / "project_config.yaml").write_text(
        "model:\n  name: b\n  framwork: x\n"
    )
    for name, adjlist in (("piped", "load fit"), ("cyclic", "load fit\n        fit load")):
        assert main(["--workspace", str(ws), "create", name]) == 0
        (ws / "projects" / name / "configs" / "project_config.yaml").write_text(
            f"model:\n  name: {name}\n  parameters:\n    pipeline:\n"
            f"      process_adjlist: |\n        {adjlist}\n"
        )
    for name, adjlist in (("typo", "load fitt"), ("unfilled", "load fit")):
        assert main(["--workspace", str(ws), "create", name]) == 0
        project = ws / "projects" / name
        (project / "configs" / "project_config.yaml").write_text(
            f"model:\n  name: {name}\n  parameters:\n    pipeline:\n"
            f"      process_adjlist: {adjlist}\n"
        )
        (project / "src").mkdir(exist_ok=True)
        (project / "src" / "pipeline.py").write_text(CODE)
    for name in ("latin", "bomb", "exits", "headless"):
        assert main(["--workspace", str(ws), "create", name]) == 0
    (ws / "projects" / "latin" / "configs" / "project_config.yaml").write_bytes(
        b"model:\n  name: caf\xe9\n"
    )
    (ws / "projects" / "bomb" / "configs" / "project_config.yaml").write_text(
        "model:\n  name: bomb\n  parameters:\n" + "".join(f"    {line}\n" for line in BOMB)
    )
    (ws / "projects" / "exits" / "src" / "setup.py").write_text("import sys\nsys.exit(3)\n")
    (ws / "projects" / "headless" / "configs" / "project_config.yaml").unlink()
    (tmp_path / "latin.yaml").write_bytes(b"model:\n  name: caf\xe9\n")
    (tmp_path / "huge.yaml").write_text("x: " + "a" * (3 * 1024 * 1024) + "\n")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    (tmp_path / "syntax.yaml").write_text("model:\n  name: [\n")
    (tmp_path / "ok.yaml").write_text("executor:\n  n_workers: 2\n")
    return ws


PROCESSES = "model.parameters.pipeline.processes"
# A "billion laughs": nine aliases of nine aliases, nine levels deep, in 600 bytes.
BOMB = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'] + [
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)
]
BOMB_VALUE = "{" + ", ".join(BOMB) + "}"
LONG_ID = "x" * 300
CODE = """
from mlops import process

@process
def load():
    return [1, 2]

@process
def fit(load, epochs):
    return sum(load) * epochs
"""
CASES = [
    ("empty-id", ["create", ""], "project id is empty"),
    ("dotdot-id", ["create", ".."], "invalid project id '..'"),
    ("slash-id", ["create", "a/b"], "invalid project id 'a/b'"),
    ("reserved-id", ["create", "CON"], "is reserved"),
    ("long-id", ["create", "x" * 65], "invalid project id"),
    ("unknown-template", ["create", "new", "--template", "nope"], "unknown template 'nope'"),
    ("exists", ["create", "demo"], "project 'demo' already exists"),
    ("info-missing", ["info", "ghost"], "no project 'ghost'"),
    ("delete-missing", ["delete", "ghost", "--force"], "no project 'ghost'"),
    ("delete-unconfirmed", ["delete", "demo"], "without confirmation"),
    ("config-missing-project", ["config", "ghost"], "no project 'ghost'"),
    ("get-missing-key", ["config", "demo", "get", "model.nope"], "no key 'model.nope'"),
    ("set-no-equals", ["config", "demo", "set", "novalue"], "expected KEY=VALUE"),
    ("set-no-key", ["config", "demo", "set", "=1"], "expected KEY=VALUE"),
    ("set-empty-part", ["config", "demo", "set", "a..b=1"], "empty part between dots"),
    ("set-bad-yaml", ["config", "demo", "set", "x=[1, 2"], "bad value"),
    ("set-wrong-type", ["config", "demo", "set", "reproducibility.random_seed=abc"],
     "reproducibility.random_seed: expected an integer, found 'abc'"),
    ("set-unknown-key", ["config", "demo", "set", "model.framwork=x"], "did you mean 'framework'"),
    ("set-unknown-backend", ["config", "demo", "set", "storage.kv.backend=mongo"],
     "unknown storage backend 'mongo'"),
    ("set-second-manager", ["config", "demo", "set", "environment.venv={}"],
     "expected exactly one of venv, conda, pyenv, system"),
    ("set-through-scalar", ["config", "demo", "set", "model.name.first=x"], "not a mapping"),
    ("set-bad-workers", ["config", "demo", "set", "executor.n_workers=0"], "executor.n_workers"),
    ("set-nothing", ["config", "demo", "set"], "usage: mlops config NAME set KEY=VALUE"),
    ("get-no-key", ["config", "demo", "get"], "usage: mlops config NAME get KEY"),
    ("bad-action", ["config", "demo", "frobnicate"],
     "'frobnicate' is not one of 'show', 'get', 'set', 'validate'"),
    ("merge-missing-file", ["config", "demo", "--file", "{tmp}/absent.yaml"], "cannot read"),
    ("merge-list", ["config", "demo", "--file", "{tmp}/list.yaml"], "expected a mapping"),
    ("merge-syntax", ["config", "demo", "--file", "{tmp}/syntax.yaml"], "invalid YAML"),
    ("merge-and-action", ["config", "demo", "set", "a=1", "--file", "{tmp}/ok.yaml"],
     "--file cannot be combined"),
    ("validate-broken", ["config", "broken", "validate"], "did you mean 'framework'"),
    ("set-retries-word", ["config", "piped", "set", f"{PROCESSES}.fit.retries=one"],
     f"project_config.yaml:4:5: {PROCESSES}.fit.retries: expected an integer, found 'one'"),
    ("set-negative-timeout", ["config", "piped", "set", f"{PROCESSES}.fit.timeout=-5"],
     f"{PROCESSES}.fit.timeout: expected a value > 0, found -5"),
    ("set-adjlist-typo", ["config", "piped", "set", "model.parameters.pipeline.proces_adjlist=a"],
     "pipeline.proces_adjlist: unknown key (did you mean 'process_adjlist'?)"),
    ("set-unknown-process", ["config", "piped", "set", f"{PROCESSES}.fitt.retries=1"],
     f"{PROCESSES}.fitt: no such process in the pipeline (did you mean 'fit'?)"),
    ("set-cycle", ["config", "piped", "set",
                   "model.parameters.pipeline.process_adjlist={load: [fit], fit: [load]}"],
     "the pipeline has a cycle: load -> fit -> load"),
    ("validate-cycle", ["config", "cyclic", "validate"],
     ("project_config.yaml:5:7: model.parameters.pipeline.process_adjlist: the pipeline has a "
      "cycle: load -> fit -> load")),
    ("run-cycle", ["run", "cyclic", "--local"], "the pipeline has a cycle: load -> fit -> load"),
    ("validate-unknown-process", ["config", "typo", "validate"],
     "unknown process 'fitt' (did you mean 'fit'?)"),
    ("validate-unfilled-argument", ["config", "unfilled", "validate"],
     "process 'fit' takes argument 'epochs', which is not an upstream process, a parameter"),
    ("unknown-command", ["frobnicate"], "No such command 'frobnicate'"),
    # Files that are not UTF-8 text, for every command that reads one.
    ("latin-show", ["config", "latin", "show"],
     "project_config.yaml:2: the file is not UTF-8 text (byte 0xe9) (save it as UTF-8)"),
    ("latin-get", ["config", "latin", "get", "model.name"], "is not UTF-8 text"),
    ("latin-set", ["config", "latin", "set", "model.name=x"], "is not UTF-8 text"),
    ("latin-validate", ["config", "latin", "validate"], "is not UTF-8 text"),
    ("latin-run", ["run", "latin", "--local"], "is not UTF-8 text"),
    ("latin-runs", ["runs", "latin"], "is not UTF-8 text"),
    ("merge-latin", ["config", "demo", "--file", "{tmp}/latin.yaml"],
     "latin.yaml:2: the file is not UTF-8 text"),
    ("merge-huge", ["config", "demo", "--file", "{tmp}/huge.yaml"],
     "larger than 2 MiB of YAML (keep large data in a file"),
    # Values no parser should walk: too deep, self-referencing, exploding.
    ("set-deep", ["config", "demo", "set", "model.parameters.x=" + "[" * 5000],
     "nested more than 64 levels deep (flatten the value"),
    ("set-deep-closed", ["config", "demo", "set", "model.parameters.x=" + "[" * 70 + "]" * 70],
     "nested more than 64 levels deep"),
    ("set-self-alias", ["config", "demo", "set", "model.parameters.x=&a [*a]"],
     "a value refers to itself"),
    ("set-alias-bomb", ["config", "demo", "set", f"model.parameters.x={BOMB_VALUE}"],
     "more than 200,000 values once aliases are expanded"),
    ("bomb-validate", ["config", "bomb", "validate"], "once aliases are expanded"),
    ("bomb-run", ["run", "bomb", "--local"], "once aliases are expanded"),
    ("bomb-runs", ["runs", "bomb"], "once aliases are expanded"),
    # Scheduler addresses Dask cannot connect to, refused before any connection.
    ("scheduler-ipv6", ["run", "demo", "--local", "--cluster", "ansible", "--scheduler",
                        "tcp://[::1"], "'tcp://[::1' is not a scheduler address"),
    ("scheduler-http", ["run", "demo", "--local", "--cluster", "ansible", "--scheduler",
                        "http://x:8786"], "protocol 'http' is not one Dask speaks"),
    ("scheduler-port", ["run", "demo", "--local", "--cluster", "ansible", "--scheduler",
                        "tcp://host:port"], "is not a scheduler address"),
    ("set-scheduler", ["config", "demo", "set", "cluster.scheduler_address=tcp://h:0"],
     "port 0 is not a port to connect to"),
    # A project module that ends the interpreter at import.
    ("module-exits-run", ["run", "exits", "--local"],
     "cannot import project module 'setup': SystemExit: 3"),
    ("module-exits-validate", ["config", "exits", "validate"], "SystemExit: 3"),
    # Ids that must not reach the disk: no lock file, nothing outside the workspace.
    ("dotdot-set", ["config", "../evil", "set", "a=1"], "invalid project id '../evil'"),
    ("dotdot-run", ["run", "../evil", "--local"], "invalid project id '../evil'"),
    ("dotdot-delete", ["delete", "../evil", "--force"], "invalid project id '../evil'"),
    ("dotdot-runs", ["runs", "../evil"], "invalid project id '../evil'"),
    ("long-id-set", ["config", LONG_ID, "set", "a=1"], "use 1-64 letters"),
    ("long-id-run", ["run", LONG_ID, "--local"], "use 1-64 letters"),
    ("long-id-delete", ["delete", LONG_ID, "--force"], "use 1-64 letters"),
    ("long-id-info", ["info", LONG_ID], "use 1-64 letters"),
    # A project folder whose config is gone: every error names the way out.
    ("headless-run", ["run", "headless", "--local"],
     ("project 'headless' has no config file projects/headless/configs/project_config.yaml "
      "(restore it, or remove the project with `mlops delete headless --force`)")),
    ("headless-show", ["config", "headless", "show"], "`mlops delete headless --force`"),
    ("headless-set", ["config", "headless", "set", "a=1"], "`mlops delete headless --force`"),
    ("headless-create", ["create", "headless"], "`mlops delete` it first"),
    ("unknown-option", ["create", "x", "--colour"], "No such option '--colour'"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    workspace: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    tmp = workspace.parent
    args = [a.replace("{tmp}", str(tmp)) for a in argv]
    before = _snapshot(tmp)
    capsys.readouterr()
    code = main(["--workspace", str(workspace), *args])
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("mlops: error: ")
    assert message in lines[0]
    assert "Traceback" not in captured.err
    assert _snapshot(tmp) == before


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 70


def test_a_project_without_its_config_is_listed_and_can_be_deleted(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--workspace", str(workspace), "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("headless"))
    assert row.split()[-1] == "invalid"
    assert main(["--workspace", str(workspace), "delete", "headless", "--force"]) == 0
    assert not (workspace / "projects" / "headless").exists()
    assert main(["--workspace", str(workspace), "create", "headless"]) == 0
