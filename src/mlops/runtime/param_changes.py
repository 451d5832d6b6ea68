"""What changed between two sets of recorded parameters, named at the leaf.

A nested parameter (``model_options: {features: [...], random_state: 3}``) is
compared leaf by leaf, its keys joined with dots, so a change reads
``model_options.features: 5 items -> 6 items (added 'iata_approved')`` rather
than two cut dicts that look the same. Both sides are parameters as recorded
(:func:`~mlops.runtime.json_values.record_params`): JSON-shaped values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Longer values are cut, with ``...``.
SHOWN_WIDTH = 40
_UNSET = object()


def leaf_values(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``params`` as one level: nested mappings' keys joined with dots (an empty one is a
    leaf)."""
    leaves: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            leaves.update(leaf_values(value, f"{name}."))
        else:
            leaves[name] = value
    return leaves


def shown(value: Any, width: int = SHOWN_WIDTH) -> str:
    """``value``'s repr, cut to ``width`` characters."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def param_changes(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """``leaf: old -> new`` for each leaf that differs, in key order (``(unset)`` for a
    leaf one side lacks)."""
    old, new = leaf_values(before), leaf_values(now)
    return [
        f"{key}: {_change(old.get(key, _UNSET), new.get(key, _UNSET))}"
        for key in sorted({*old, *new})
        if old.get(key, _UNSET) != new.get(key, _UNSET)
    ]


def _change(old: Any, new: Any) -> str:
    lists = isinstance(old, list) and isinstance(new, list)
    if lists and max(len(repr(old)), len(repr(new))) > SHOWN_WIDTH:
        return _list_change(old, new)
    return f"{_side(old)} -> {_side(new)}"


def _side(value: Any) -> str:
    return "(unset)" if value is _UNSET else shown(value)


def _list_change(old: list[Any], new: list[Any]) -> str:
    """Two long lists: their lengths, and which items came and went (or that the order
    or the items' values moved)."""
    added = [item for item in new if item not in old]
    removed = [item for item in old if item not in new]
    what = [
        f"{label} {', '.join(shown(item) for item in items[:3])}"
        + (f" and {len(items) - 3} more" if len(items) > 3 else "")
        for label, items in (("added", added), ("removed", removed))
        if items
    ]
    same_items = sorted(map(repr, old)) == sorted(map(repr, new))
    detail = "; ".join(what) or ("reordered" if same_items else "items repeated differently")
    return f"{len(old)} items -> {len(new)} items ({detail})"


__all__ = ["SHOWN_WIDTH", "leaf_values", "param_changes", "shown"]
