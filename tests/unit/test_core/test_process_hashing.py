"""Cache keys: stable for equal inputs, changed by any change of code, params, upstream, env."""

from __future__ import annotations

import dataclasses
import enum
import importlib.util
import re
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures.extras import require
from mlops.cache.process_hashing import (
    HashingError,
    code_hash,
    file_digest,
    pickled_digest,
    process_cache_key,
    stable_hash,
)

ModuleFactory = Callable[..., ModuleType]


@pytest.fixture
def load_module(tmp_path: Path) -> Iterator[ModuleFactory]:
    """Write source to a fresh module file under tmp_path and import it."""
    names: list[str] = []

    def load(text: str, folder: Path | None = None) -> ModuleType:
        name = f"hashmod_{uuid.uuid4().hex[:8]}"
        path = (folder or tmp_path) / f"{name}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        names.append(name)
        spec.loader.exec_module(module)
        return module

    yield load
    for name in names:
        sys.modules.pop(name, None)


# ------------------------------------------------------------------ values


class Colour(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Point:
    x: int
    y: int


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_stable_hash_is_deterministic(value: object) -> None:
    assert stable_hash(value) == stable_hash(value)


@given(st.dictionaries(st.text(max_size=4), st.integers(), min_size=2, max_size=6))
def test_dict_order_does_not_matter(value: dict[str, int]) -> None:
    reversed_order = dict(reversed(list(value.items())))
    assert stable_hash(value) == stable_hash(reversed_order)


@pytest.mark.parametrize(
    ("left", "right"),
    [(1, "1"), (1, 1.0), (True, 1), ([1, 2], (1, 2)), ([1, 2], [2, 1]), (b"a", "a"),
     ({"a": 1}, {"a": 2}), ({"a": 1}, {"b": 1}), (None, "None"), ({1, 2}, [1, 2]),
     (Point(1, 2), Point(2, 1)), (Colour.RED, 1), (0.1, 0.1000000001)],
    ids=["int-str", "int-float", "bool-int", "list-tuple", "list-order", "bytes-str", "dict-value",
         "dict-key", "none-str", "set-list", "dataclass", "enum-int", "float-precision"],
)  # fmt: skip
def test_different_values_hash_differently(left: object, right: object) -> None:
    assert stable_hash(left) != stable_hash(right)


def test_sets_and_paths_and_arrays() -> None:
    assert stable_hash({3, 1, 2}) == stable_hash(frozenset({1, 2, 3}))
    assert stable_hash(Path("a/b")) == stable_hash(Path("a") / "b")
    numpy = require("numpy")
    a = numpy.arange(6, dtype="int64")
    assert stable_hash(a) == stable_hash(numpy.arange(6, dtype="int64"))
    assert stable_hash(a) != stable_hash(a.reshape(2, 3))
    assert stable_hash(a) != stable_hash(a.astype("int32"))
    assert stable_hash(numpy.array(["x", None], dtype=object)) == stable_hash(
        numpy.array(["x", None], dtype=object)
    )


def test_unpicklable_values_raise_instead_of_weakening_the_key() -> None:
    with pytest.raises(
        HashingError, match="cannot hash the argument: lock objects cannot be pickled"
    ):
        stable_hash({"lock": threading.Lock()}, what="the argument")
    with pytest.raises(HashingError) as caught:
        pickled_digest(threading.Lock())
    # Python's own reason sits in the middle; what mlops says around it is fixed.
    assert re.fullmatch(
        r"cannot hash value: lock objects cannot be pickled \(.+\) "
        r"\(pass plain data \(numbers, strings, lists, dicts, arrays\) or a picklable object\)",
        caught.value.one_line(),
    )


def test_deep_nesting_is_refused() -> None:
    value: list[object] = []
    for _ in range(300):
        value = [value]
    with pytest.raises(HashingError, match="nested more than 200 levels"):
        stable_hash(value)


def test_file_digest_reads_content(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"x,y\n1,2\n")
    first = file_digest(path)
    path.write_bytes(b"x,y\n1,3\n")
    assert file_digest(path) != first


# ------------------------------------------------------------------ code


BASE = """
    import math

    THRESHOLD = 0.5

    def helper(x):
        return x * 2

    def process(x):
        '''Docstring.'''
        # a comment
        return helper(x) + math.sqrt(THRESHOLD)
"""


def test_code_hash_ignores_comments_docstrings_and_blank_lines(load_module: ModuleFactory) -> None:
    one = load_module(BASE)
    other = load_module(
        BASE.replace("# a comment", "").replace("'''Docstring.'''", "'''Another one.'''") + "\n\n"
    )
    assert code_hash(one.process) == code_hash(other.process)


@pytest.mark.parametrize(
    "change",
    [("return x * 2", "return x * 3"), ("THRESHOLD = 0.5", "THRESHOLD = 0.6"),
     ("+ math.sqrt", "- math.sqrt")],
    ids=["called-helper", "module-constant", "own-body"],
)  # fmt: skip
def test_code_hash_follows_project_local_code(
    load_module: ModuleFactory, change: tuple[str, str]
) -> None:
    one = load_module(BASE)
    other = load_module(BASE.replace(*change))
    assert code_hash(one.process) != code_hash(other.process)


def test_code_hash_follows_helpers_in_other_local_modules(
    load_module: ModuleFactory, tmp_path: Path
) -> None:
    helpers = load_module("def clean(x):\n    return x.strip()\n")
    user = f"""
        import {helpers.__name__} as helpers

        def process(x):
            return helpers.clean(x)
    """
    first = code_hash(load_module(user).process, local_roots=[tmp_path])
    changed = load_module("def clean(x):\n    return x.lower()\n")
    second = code_hash(
        load_module(user.replace(helpers.__name__, changed.__name__)).process,
        local_roots=[tmp_path],
    )
    assert first != second


def test_code_outside_the_local_roots_is_not_followed(
    load_module: ModuleFactory, tmp_path: Path
) -> None:
    """Library code is covered by the environment hash, not walked into the key."""
    project, library = tmp_path / "project", tmp_path / "library"
    lib = load_module("def clean(x):\n    return x.strip()\n", library)
    user = load_module(
        f"import {lib.__name__} as lib\n\ndef process(x):\n    return lib.clean(x)\n", project
    )
    outside = code_hash(user.process, local_roots=[project])
    inside = code_hash(user.process, local_roots=[project, library])
    assert outside != inside  # walking the helper adds it to the key; outside roots it is not


def _exec_file(path: Path) -> ModuleType:
    """The module in ``path``, executed as written (no dedent), under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"exec_{uuid.uuid4().hex[:8]}", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_function_hashes_its_multi_line_strings_as_they_are(tmp_path: Path) -> None:
    # A line of spaces inside a string is part of the value: a function read
    # alone and dedented (textwrap empties whitespace-only lines) would lose it.
    source = 'def render():\n    return """a\n    \nb"""\n'
    (tmp_path / "one.py").write_text(source)
    (tmp_path / "other.py").write_text(source.replace("a\n    \nb", "a\n\nb"))
    one, other = _exec_file(tmp_path / "one.py"), _exec_file(tmp_path / "other.py")
    assert one.render() != other.render()
    assert code_hash(one.render) != code_hash(other.render)


def test_functions_of_one_file_hash_apart_and_an_edited_file_is_read_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "edited_module.py"
    text = (
        "import functools\n\n\n@functools.lru_cache\ndef first(x):\n    return x + 1\n\n\n"
        "def second(x):\n    return x + 1\n"
    )
    path.write_text(text)
    module = _exec_file(path)
    assert code_hash(module.first) != code_hash(module.second)  # the decorator counts
    path.write_text(text.replace("return x + 1\n\n\ndef", "return x + 2\n\n\ndef") + "# more\n")
    edited = _exec_file(path)
    assert code_hash(edited.first) != code_hash(module.first)
    assert code_hash(edited.second) == code_hash(module.second)


def test_recursive_and_mutually_recursive_functions_terminate(load_module: ModuleFactory) -> None:
    module = load_module(
        """
        def even(n):
            return True if n == 0 else odd(n - 1)

        def odd(n):
            return False if n == 0 else even(n - 1)
        """
    )
    assert len(code_hash(module.even)) == 64


SCALER = """
    class Scaler:
        factor = FACTOR
        def apply(self, x):
            return x * self.factor

    def make(k):
        def process(x):
            return Scaler().apply(x) + k
        return process
"""


def test_closures_and_classes_count(load_module: ModuleFactory) -> None:
    module = load_module(SCALER.replace("FACTOR", "2"))
    changed = load_module(SCALER.replace("FACTOR", "3"))
    assert code_hash(module.make(1)) != code_hash(changed.make(1))
    assert code_hash(module.make(1)) != code_hash(module.make(2))


def test_functions_without_source_hash_their_bytecode() -> None:
    namespace: dict[str, object] = {}
    exec("def f(x):\n    return x + 1\n", namespace)  # noqa: S102 - a function with no file
    exec("def g(x):\n    return x + 2\n", namespace)  # noqa: S102
    f, g = namespace["f"], namespace["g"]
    assert callable(f)
    assert callable(g)
    assert code_hash(f) != code_hash(g)


def test_builtins_without_code_are_refused() -> None:
    with pytest.raises(HashingError) as caught:
        code_hash(len)
    assert re.fullmatch(
        r"cannot hash the code of 'len': its source is not available \(.+\) "
        r"\(define processes and steps in \.py files of the project's src/ folder\)",
        caught.value.one_line(),
    )


# ------------------------------------------------------------------ keys


def key(**changes: object) -> str:
    parts: dict[str, object] = {
        "name": "train",
        "code": "c" * 64,
        "params": {"lr": 0.1},
        "upstream": {"load": "u" * 64},
        "env": "e" * 64,
        "inputs": {"data.csv": "d" * 64},
    }
    parts.update(changes)
    return process_cache_key(**parts).key  # type: ignore[arg-type]


def test_cache_key_is_stable_and_sensitive_to_every_part() -> None:
    base = key()
    assert base == key()
    variants = {
        "name": key(name="evaluate"),
        "code": key(code="x" * 64),
        "params": key(params={"lr": 0.2}),
        "upstream": key(upstream={"load": "v" * 64}),
        "env": key(env="f" * 64),
        "inputs": key(inputs={"data.csv": "z" * 64}),
    }
    assert base not in variants.values()
    assert len(set(variants.values())) == len(variants)


def test_changed_parts_names_what_changed() -> None:
    first = process_cache_key(name="p", code="a", params={"x": 1}, upstream={}, env="e")
    second = process_cache_key(name="p", code="b", params={"x": 1}, upstream={}, env="e")
    assert second.changed_parts(first.components) == ["code"]
    assert second.changed_parts(None) == []


def test_unhashable_params_are_a_clear_error() -> None:
    with pytest.raises(HashingError, match="the parameters of process 'p'"):
        process_cache_key(
            name="p", code="a", params={"lock": threading.Lock()}, upstream={}, env=""
        )


DIGESTS = st.text("0123456789abcdef", min_size=64, max_size=64)
PART_VALUES: dict[str, st.SearchStrategy[object]] = {
    "name": st.text(min_size=1, max_size=12),
    "code": DIGESTS,
    "params": st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4),
    "upstream": st.dictionaries(st.text(min_size=1, max_size=6), DIGESTS, max_size=3),
    "env": DIGESTS,
    "inputs": st.dictionaries(st.text(min_size=1, max_size=8), DIGESTS, max_size=2),
    "seed": st.none() | st.integers(0, 2**32),
}
KEY_PARTS = st.fixed_dictionaries(PART_VALUES)


def reordered(parts: dict[str, object]) -> dict[str, object]:
    """The same parts with every mapping's insertion order reversed."""
    return {
        k: dict(reversed(list(v.items()))) if isinstance(v, dict) else v for k, v in parts.items()
    }


@given(KEY_PARTS)
def test_equal_parts_give_equal_keys_in_any_order(parts: dict[str, object]) -> None:
    first = process_cache_key(**parts)  # type: ignore[arg-type]
    second = process_cache_key(**reordered(parts))  # type: ignore[arg-type]
    assert first.key == second.key
    assert second.changed_parts(first.components) == []


@given(KEY_PARTS, KEY_PARTS, st.sampled_from(sorted(PART_VALUES)))
def test_any_change_of_one_part_changes_the_key_and_is_named(
    parts: dict[str, object], other: dict[str, object], part: str
) -> None:
    changed = {**parts, part: other[part]}
    before = process_cache_key(**parts)  # type: ignore[arg-type]
    after = process_cache_key(**changed)  # type: ignore[arg-type]
    if stable_hash(parts[part]) == stable_hash(other[part]):
        assert after.key == before.key  # the same value drawn twice
    else:
        assert after.key != before.key
        assert after.changed_parts(before.components) == [part]


# ------------------------------------------------------------------ a stable format


class GoldenMode(enum.Enum):
    FAST = 1


@dataclasses.dataclass
class GoldenPair:
    a: int
    b: str


# Type names are part of a digest; a fixed module name keeps these independent of
# how pytest names this test module.
GoldenMode.__module__ = GoldenPair.__module__ = "golden"


def golden_values() -> dict[str, object]:
    import numpy as np
    from pydantic import BaseModel

    class Settings(BaseModel):
        __module__ = "golden"
        lr: float = 0.1

    return {
        "none": None, "true": True, "false": False, "int": 42, "negative": -7, "float": 0.1,
        "str": "héllo", "bytes": b"\x00\x01", "bytearray": bytearray(b"ab"),
        "path": PurePosixPath("data/x.csv"), "list": [1, "a"], "tuple": (1, "a"),
        "dict": {"b": 1, "a": [True, None]}, "set": {1, 2}, "frozenset": frozenset({"x"}),
        "nested": {"k": [{"z": (1.5,)}]}, "empty_list": [], "empty_dict": {},
        "array": np.arange(6, dtype="<i8").reshape(2, 3), "complex": complex(1, 2),
        "object_array": np.array([1, "a", None], dtype=object),
        "enum": GoldenMode.FAST, "dataclass": GoldenPair(1, "x"), "model": Settings(),
    }  # fmt: skip


# Cache keys are stored with results: a digest that changes between releases (or
# Python versions) silently invalidates every user's cache. These are the format;
# a change here must be deliberate and announced.
GOLDEN_DIGESTS = {
    "none": "8ce86a6ae65d3692e7305e2c58ac62eebd97d3d943e093f577da25c36988246b",
    "true": "e632b7095b0bf32c260fa4c539e9fd7b852d0de454e9be26f24d0d6f91d069d3",
    "false": "f67ab10ad4e4c53121b6a5fe4da9c10ddee905b978d3788d2723d7bfacbe28a9",
    "int": "8a66f9e950ff73c60e337cc14d04ed17abc683bba3123a32857699af2ff3067f",
    "negative": "efce324ccfeb16bbca6b1e6a1d59895b83c36c66f800b5ca2cff1a518889b476",
    "float": "8d6862e968b9a01c4ac6bbab2bc1a7fca43bd05fa45f59c383cada23e83edf8e",
    "str": "405b3ed3f540e228f6358fcb87709553aa473c316dd90b38cb4b424da3ea3f37",
    "bytes": "11c46463d9a58419cf0869dadf12b2d7c6746bfa5cc1d18b5d0fa6ee9ec442dc",
    "bytearray": "0f722ba11bf19ee72b21044e614da8dc07af99e4d3be54d40718d7c4a36f09bb",
    "path": "c79768ec0de085d2870de8f2c5f701dae7e27090630042167cae79ad145f9981",
    "list": "f25a299c1f756e24873f9d8b898b77ee076170659e6fd37a737ef0de90626b3f",
    "tuple": "8722782c756d377b11ab6f32fae18f5e10a9a97e9156880efb3a2a62830573fc",
    "dict": "c88808408a5dc15a6c23d2aa3d1bcd8da76f2988c42130e7f50560667b64a3a0",
    "set": "7355f15bc6cec67fb57c43f52348884292a74c947fd34e6b7021c66dacc882ea",
    "frozenset": "db06f36f1544e1399b5abb5e42b7eef3c41ef7c37130d529c016676f55317f05",
    "nested": "50aa93df28d142a123fb060048b153fff9a6d2b1b8a75351eb5818b6ab6d1269",
    "empty_list": "63d63c64950f7d33cf10e33ecc46a9d76de68153d6c143b450c94aeb1c59479c",
    "empty_dict": "5a3590fbe3ffbfe0a65167de3111dcd0cde5e8025d0fc5db3aec6ee0f4cedcfb",
    "array": "958772abd09b00c46121a83090523f1adcf8fe04a8065d78d8f8fdb9140bd48a",
    "complex": "ac7a01b3eaa5ec72f1b24adb7124989cb26dbbcd6591a0d73ce4712bf38683aa",
    "object_array": "80c145e3c05fb7e4adea9f68bab28b5ac3de3a1adcab8728452bb123d50e41c6",
    "enum": "95be9b43baca9f7b69f60e7aeb6e943cb5574bd76c84baf8d7b668a2d899e891",
    "dataclass": "1e3e70340ad897cb8316f6351ff445cdd15e48f20258fda75ecd3e4312940034",
    "model": "820d0ab13735185db7d6d7a368c66725cce3eac52f47fd4dc28ee9dc216adab7",
}


GOLDEN_KEY = "ea00f0efac88daf0cf6f2d0e6f638cf5f05afc47c2c61fd5ef4517f048dc58d3"


@pytest.mark.parametrize("kind", sorted(GOLDEN_DIGESTS))
def test_value_digests_are_a_stable_format(kind: str) -> None:
    assert stable_hash(golden_values()[kind]) == GOLDEN_DIGESTS[kind]


def test_cache_key_digest_is_a_stable_format() -> None:
    key = process_cache_key(
        name="train", code="c" * 64, params={"lr": 0.1}, upstream={"load": "u" * 64},
        env="e" * 64, inputs={"data.csv": "d" * 64}, seed=7,
    )  # fmt: skip
    assert key.key == GOLDEN_KEY
    assert key.components["seed"] == stable_hash(7)
    assert key.components["code"] == "c" * 64
