"""Result digests by content: equal arrays and frames are equal to the cache, unequal
ones are not, and anything else is digested by its pickle."""

from __future__ import annotations

import pickle

import pytest

from mlops.cache.payload_spill import encode_result

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")


def _content(value: object) -> str:
    return encode_result(value, what="the value").content


def _frames() -> tuple[object, object]:
    by_column = pd.DataFrame({"a": [1, 2]})
    by_column["b"] = [1.0, 2.0]
    by_column["c"] = [3.0, 4.0]
    at_once = pd.DataFrame({"a": [1, 2], "b": [1.0, 2.0], "c": [3.0, 4.0]})
    return by_column, at_once


def test_equal_frames_with_different_pickles_have_one_digest() -> None:
    by_column, at_once = _frames()
    assert by_column.equals(at_once)
    assert pickle.dumps(by_column) != pickle.dumps(at_once)
    assert _content(by_column) == _content(at_once)
    assert _content((by_column, by_column["a"])) == _content((at_once, at_once["a"]))
    assert _content({"train": by_column}) == _content({"train": at_once})


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.astype({"a": "float64"}),  # a dtype
        lambda f: f.set_index("b"),  # the index
        lambda f: f.rename(columns={"a": "z"}),  # a label
        lambda f: f.iloc[::-1],  # the order
        lambda f: f.assign(c=[3.0, 5.0]),  # a value
        lambda f: f["a"],  # a Series of it
    ],
)
def test_a_frame_that_is_not_equal_has_another_digest(change: object) -> None:
    _, frame = _frames()
    assert _content(change(frame)) != _content(frame)  # type: ignore[operator]


def test_categories_and_nullable_values_count() -> None:
    first = pd.Series(pd.Categorical(["a", "b"], categories=["a", "b"]))
    other = pd.Series(pd.Categorical(["a", "b"], categories=["b", "a"]))
    assert _content(first) != _content(other)
    assert _content(pd.Series([1, None], dtype="Int64")) != _content(
        pd.Series([1, 2], dtype="Int64")
    )


def test_other_values_keep_their_pickle_digest() -> None:
    encoded = encode_result({"rows": list(range(100))}, what="the value")
    assert encoded.content == encoded.digest
    array = encode_result(np.arange(3), what="the value")
    assert array.content != array.digest
    assert _content(np.arange(3)) == _content(np.arange(3).copy())
