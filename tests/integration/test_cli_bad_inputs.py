"""Every user mistake: exit status 2, one line on stderr naming the problem, nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.main import main


def _snapshot(root: Path) -> dict[str, bytes]:
    # Lock files are the lock mechanism's own, not data; everything else must be untouched.
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "locks" not in p.relative_to(root).parts
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
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    (tmp_path / "syntax.yaml").write_text("model:\n  name: [\n")
    (tmp_path / "ok.yaml").write_text("executor:\n  n_workers: 2\n")
    return ws


PROCESSES = "model.parameters.pipeline.processes"
CODE = """
from mlops.core.step_system import process

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
    assert len(CASES) >= 25
