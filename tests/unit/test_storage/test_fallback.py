from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from fakes.flaky_kv import FlakyKVStore
from mlops.errors import StorageError
from mlops.storage.backends.memory import MemoryKVStore
from mlops.storage.fallback import FallbackKVStore, StorageFallbackWarning


def _pair() -> tuple[FlakyKVStore, MemoryKVStore, FallbackKVStore]:
    primary, local = FlakyKVStore("p"), MemoryKVStore("p")
    return primary, local, FallbackKVStore(primary, local.namespaced)


@pytest.mark.parametrize(
    "operation",
    ["get", "set", "set_if_absent", "delete", "exists", "keys"],
    ids=str,
)
def test_every_operation_falls_back_once_the_primary_is_down(operation: str) -> None:
    primary, local, store = _pair()
    local.set("k", "local")
    primary.down = True
    calls = {
        "get": lambda: store.get("k"),
        "set": lambda: store.set("k", "new"),
        "set_if_absent": lambda: store.set_if_absent("fresh", 1),
        "delete": lambda: store.delete("k"),
        "exists": lambda: store.exists("k"),
        "keys": store.keys,
    }
    with pytest.warns(StorageFallbackWarning, match=r"flaky: server #\d+ is down"):
        calls[operation]()
    assert store.active is not primary
    before = primary.calls
    store.get("k")
    assert primary.calls == before  # the primary is not retried once the switch tripped


def test_the_warning_is_given_once_per_primary() -> None:
    primary, _, store = _pair()
    primary.down = True
    with pytest.warns(StorageFallbackWarning) as record:
        store.set("a", 1)
    assert len(record) == 1
    other = FallbackKVStore(primary, MemoryKVStore("p").namespaced)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other.set("b", 2)  # same primary: already reported


def test_required_turns_the_loss_into_an_error_naming_the_key_path() -> None:
    primary = FlakyKVStore("p")
    store = FallbackKVStore(
        primary, MemoryKVStore("p").namespaced, required=True, key_path="storage.kv"
    )
    primary.down = True
    with pytest.raises(StorageError) as info:
        store.keys()
    assert "storage.kv.required is true" in str(info.value)
    assert store.active is primary


def test_untranslated_backend_errors_propagate_unchanged() -> None:
    primary, _, store = _pair()
    primary.broken_with = ValueError("a bug, not an outage")
    with pytest.raises(ValueError, match="a bug, not an outage"):
        store.get("k")
    assert store.active is primary


def test_a_failing_fallback_is_not_retried_forever(tmp_path: Path) -> None:
    primary, fallback = FlakyKVStore("p"), FlakyKVStore("p")
    store = FallbackKVStore(primary, lambda ns: fallback)
    primary.down = fallback.down = True
    with pytest.warns(StorageFallbackWarning), pytest.raises(StorageError, match="flaky"):
        store.get("k")
