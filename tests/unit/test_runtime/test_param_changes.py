"""A change of recorded parameters, named at the leaf."""

from __future__ import annotations

from typing import Any

import pytest

from mlops.runtime.param_changes import leaf_values, param_changes

FEATURES = ["engines", "passenger_capacity", "crew", "d_check_complete", "moon_clearance"]


@pytest.mark.parametrize(
    ("before", "now", "changes"),
    [({"lr": 0.1}, {"lr": 0.2}, ["lr: 0.1 -> 0.2"]),
     ({"o": {"a": 1, "b": {"c": [1, 2]}}}, {"o": {"a": 1, "b": {"c": [1, 3]}}},
      ["o.b.c: [1, 2] -> [1, 3]"]),
     ({"o": {"features": FEATURES}}, {"o": {"features": [*FEATURES, "iata"]}},
      ["o.features: 5 items -> 6 items (added 'iata')"]),
     ({"f": FEATURES}, {"f": FEATURES[::-1]}, ["f: 5 items -> 5 items (reordered)"]),
     ({"f": FEATURES}, {"f": FEATURES[:1]},
      [("f: 5 items -> 1 items (removed 'passenger_capacity', 'crew', 'd_check_complete' "
       "and 1 more)")]),
     ({"k": 1}, {"j": 1}, ["j: (unset) -> 1", "k: 1 -> (unset)"]),
     ({"o": {"a": 1}}, {"o": {"a": 1}}, []),
     ({"s": "x" * 50}, {"s": "y" * 50}, [f"s: '{'x' * 36}... -> '{'y' * 36}..."])],
    ids=["flat", "nested", "long-list-added", "reordered", "removed", "unset", "same", "cut"],
)  # fmt: skip
def test_changes_are_named_at_the_leaf(
    before: dict[str, Any], now: dict[str, Any], changes: list[str]
) -> None:
    assert param_changes(before, now) == changes


def test_leaves_join_keys_with_dots_and_keep_empty_mappings() -> None:
    assert leaf_values({"a": {"b": 1, "c": {}}, "d": [1]}) == {"a.b": 1, "a.c": {}, "d": [1]}
