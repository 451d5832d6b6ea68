"""pandas objects by content, for the digests of results.

A process's result digest is part of every downstream cache key. Pickles of
equal data frames differ with the frame's history (how its blocks were
consolidated, whether a column was copied), so ``astype(float)`` and
``astype("float64")`` of the same frame would give two digests and rerun what
follows. A frame is digested instead from what makes it equal: its type, shape,
column and index labels, and each column's dtype and values.

pandas is never imported here: a value is recognised by its type's module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlops.cache import plain_pickle

_FRAME_TYPES = {"DataFrame", "Series"}


def is_frame(value: Any) -> bool:
    """A pandas DataFrame, Series or Index (of any pandas version)."""
    kind = type(value)
    if kind.__module__.partition(".")[0] != "pandas":
        return False
    return kind.__name__ in _FRAME_TYPES or (
        hasattr(value, "is_unique") and hasattr(value, "names") and hasattr(value, "dtype")
    )


def frame_parts(value: Any) -> Iterator[bytes]:
    """What a frame is equal by, as byte strings in a fixed order."""
    if type(value).__name__ == "DataFrame":
        yield f"{value.shape}".encode()
        yield from _index_parts(value.columns)
        yield from _index_parts(value.index)
        for position in range(value.shape[1]):
            yield from _values_parts(value.iloc[:, position])
    elif type(value).__name__ == "Series":
        yield plain_pickle.dumps(value.name)
        yield from _index_parts(value.index)
        yield from _values_parts(value)
    else:
        yield from _index_parts(value)


def _index_parts(index: Any) -> Iterator[bytes]:
    yield plain_pickle.dumps(list(index.names))
    yield from _values_parts(index)


def _values_parts(values: Any) -> Iterator[bytes]:
    # repr, not str: a categorical dtype's repr holds its categories and order.
    dtype = values.dtype
    yield repr(dtype).encode()
    array = values.to_numpy()
    if getattr(array.dtype, "hasobject", True) or array.dtype.kind not in "biufcmMS":
        yield plain_pickle.dumps(array.tolist())
    else:
        yield f"{array.dtype.str}|{array.shape}".encode()
        yield bytes(array.tobytes(order="C"))


__all__ = ["frame_parts", "is_frame"]
