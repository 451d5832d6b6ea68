"""User YAML under attack: bounded parsing, and ``config set`` fed junk.

The bounds are checked on the parser itself and, for the bomb, from the
outside (a real ``mlops`` process: its time and peak memory). The property
tests feed generated text to ``config set`` and to the config loader: they
must answer with one :class:`ConfigError` line (or accept it) and never leave
a changed file, a temp file or a lock file behind.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.config.schema import load_project_config
from mlops.config.yaml_files import (
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    parse_scalar,
    parse_yaml,
    plain_data,
)
from mlops.errors import ConfigError, MlopsError
from mlops.managers.project_manager import ProjectManager
from mlops.runtime.workspace import Workspace
from mlops.storage.atomic import atomic_write_text

BOMB = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'] + [
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)
]


def test_an_alias_bomb_is_refused_without_being_expanded() -> None:
    with pytest.raises(ConfigError, match=f"more than {MAX_YAML_NODES:,} values"):
        parse_yaml("\n".join(BOMB), "bomb.yaml")


def test_aliases_within_the_bound_are_kept() -> None:
    data = parse_yaml("base: &b {lr: 0.1}\nfirst: *b\nsecond: *b\n", "ok.yaml")
    assert plain_data(data) == {"base": {"lr": 0.1}, "first": {"lr": 0.1}, "second": {"lr": 0.1}}


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 5000])
def test_values_nested_too_deep_are_refused(depth: int) -> None:
    with pytest.raises(ConfigError, match=f"nested more than {MAX_YAML_DEPTH} levels deep"):
        parse_yaml("x: " + "[" * depth + "]" * depth, "deep.yaml")
    with pytest.raises(ConfigError, match="nested more than"):
        parse_scalar("[" * depth + "]" * depth)


def test_a_value_nested_too_deep_is_refused_where_the_bound_is_crossed() -> None:
    """At the first bracket past the bound, not after scanning the rest: the scanner looks
    at every open bracket for each token, so reading on would cost tokens x depth (a
    million brackets, 2 MB, would take hours)."""
    depth = 1_000_000
    text = "a: 1\nx: " + "[" * depth + "]" * depth
    with pytest.raises(ConfigError) as refused:
        parse_yaml(text, "deep.yaml")
    column = len("x: ") + MAX_YAML_DEPTH + 1  # the first bracket past the bound, from 1
    assert str(refused.value).startswith(f"deep.yaml:2:{column}: nested more than")
    with pytest.raises(ConfigError, match="nested more than"):
        parse_scalar("{a: " * 400_000 + "}" * 400_000)  # 2 MB, within the size bound


def test_nesting_up_to_the_bound_is_accepted() -> None:
    depth = MAX_YAML_DEPTH - 1  # the mapping holding x is one level
    assert parse_yaml("x: " + "[" * depth + "]" * depth, "ok.yaml") is not None


def test_a_value_that_contains_itself_is_refused() -> None:
    with pytest.raises(ConfigError, match="refers to itself"):
        parse_scalar("&a [1, *a]")
    # The round-trip loader of config files never builds the loop: the alias reads as null.
    assert plain_data(parse_yaml("a: &a [1, *a]\n", "loop.yaml")) == {"a": [1, None]}


def test_text_over_several_lines_is_kept_as_typed() -> None:
    value = parse_scalar("load slow\nslow final")
    assert value == "load slow\nslow final"
    assert parse_scalar("[1,\n 2]") == [1, 2]  # YAML over lines is still YAML


def test_config_set_keeps_a_multi_line_value_as_a_block(tmp_workspace: Path) -> None:
    manager = ProjectManager(Workspace.resolve())
    manager.create("demo")
    manager.config_set("demo", ["model.parameters.pipeline.process_adjlist=hello\nhello bye"])
    text = (tmp_workspace / "projects" / "demo" / "configs" / "project_config.yaml").read_text()
    assert "process_adjlist: |-\n        hello\n        hello bye\n" in text


@pytest.mark.parametrize("mode", [0o664, 0o640, 0o600])
def test_an_atomic_rewrite_keeps_the_file_mode(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "config.yaml"
    target.write_text("a: 1\n")
    target.chmod(mode)
    atomic_write_text(target, "a: 2\n")
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_text() == "a: 2\n"


def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644


# ------------------------------------------------------------------ junk, generated

YAML_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
JUNK_TEXT = st.one_of(
    st.text(YAML_ALPHABET, max_size=200),
    st.text(st.sampled_from("[]{}&*!|>-:,'\"#\n %@`?a1."), max_size=200),
    st.lists(
        st.sampled_from(["&a ", "*a", "[", "]", "{", "}", "a: ", "- ", "\n  ", "!!", "1"])
    ).map("".join),
)
JUNK_KEYS = st.one_of(
    st.text(YAML_ALPHABET, max_size=40),
    st.sampled_from(["model.name", "model.parameters.x", "storage.kv.backend", "a..b", ""]),
)


# Each example restores what it changed, so the function-scoped fixtures stay valid.
FIXTURES_ARE_RESET = [HealthCheck.function_scoped_fixture]


def _refusal(call: Callable[[], object]) -> MlopsError | None:
    try:
        call()
    except MlopsError as exc:
        return exc
    return None


def _tree(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def demo(tmp_workspace: Path) -> tuple[ProjectManager, Path]:
    manager = ProjectManager(Workspace.resolve())
    manager.create("demo")
    return manager, tmp_workspace


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=JUNK_KEYS, value=JUNK_TEXT)
def test_config_set_with_junk_changes_nothing_or_writes_a_valid_config(
    demo: tuple[ProjectManager, Path], key: str, value: str
) -> None:
    manager, root = demo
    config = root / "projects" / "demo" / "configs" / "project_config.yaml"
    before = _tree(root)
    started = time.monotonic()
    refused = _refusal(lambda: manager.config_set("demo", [f"{key}={value}"]))
    if refused is not None:
        assert "\n" not in refused.one_line()
        assert _tree(root) == before
    else:  # accepted: what is on disk loads and validates
        load_project_config(config)
        config.write_bytes(before[str(config.relative_to(root))] or b"")
    assert time.monotonic() - started < 30


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=JUNK_TEXT)
def test_the_config_loader_answers_junk_with_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "project_config.yaml"
    path.write_bytes(text.encode("utf-8"))
    refused = _refusal(lambda: load_project_config(path))
    assert refused is None or "\n" not in refused.one_line()
    assert path.read_bytes() == text.encode("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project_config.yaml"]


def test_a_value_reusing_an_anchor_name_reads_as_yaml_does() -> None:
    from mlops.config.yaml_files import parse_scalar

    assert parse_scalar("[&a 1, &a 2, *a]") == [1, 2, 2]  # the later anchor wins
