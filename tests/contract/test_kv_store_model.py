"""Every KVStore behaves like a dict under any sequence of operations (Hypothesis stateful)."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from fixtures.storage import KVFactory
from mlops.storage.interfaces.kv_store import KVStore

KEYS = st.sampled_from(["a", "ab", "abc", "b", "b/1", "b/2", "ключ", "🔑", "a*", "a_"])
PREFIXES = st.sampled_from(["", "a", "ab", "b/", "к", "a*", "zz"])
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _machine(factory: KVFactory) -> type[RuleBasedStateMachine]:
    class KVModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.store: KVStore = factory()
            self.model: dict[str, Any] = {}

        @rule(key=KEYS, value=JSON)
        def set(self, key: str, value: Any) -> None:
            self.store.set(key, value)
            self.model[key] = value

        @rule(key=KEYS, value=JSON)
        def set_if_absent(self, key: str, value: Any) -> None:
            stored = self.store.set_if_absent(key, value)
            assert stored == (key not in self.model)
            self.model.setdefault(key, value)

        @rule(key=KEYS)
        def delete(self, key: str) -> None:
            assert self.store.delete(key) == (key in self.model)
            self.model.pop(key, None)

        @rule(key=KEYS)
        def get(self, key: str) -> None:
            assert self.store.get(key, default="<absent>") == self.model.get(key, "<absent>")
            assert self.store.exists(key) == (key in self.model)

        @rule(prefix=PREFIXES)
        def keys(self, prefix: str) -> None:
            assert self.store.keys(prefix) == sorted(k for k in self.model if k.startswith(prefix))

        @invariant()
        def same_size(self) -> None:
            assert len(self.store.keys()) == len(self.model)

    return KVModel


def test_kv_store_matches_a_dict_model(kv_factory: KVFactory) -> None:
    run_state_machine_as_test(
        _machine(kv_factory),
        settings=settings(max_examples=25, stateful_step_count=20, deadline=None),
    )
