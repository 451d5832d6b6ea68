"""Without an extra installed, remote backends say which extra to install."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from mlops.errors import StorageError
from mlops.storage.factory import create_kv_store, create_object_store


@pytest.mark.parametrize(
    ("hidden", "config", "extra"),
    [
        (["redis"], {"backend": "redis"}, "mlops[redis]"),
        (["google.cloud.firestore"], {"backend": "firestore"}, "mlops[gcp]"),
    ],
    ids=["redis", "firestore"],
)
def test_missing_kv_client_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hidden: list[str], config: dict[str, str],
    extra: str,
) -> None:  # fmt: skip
    for module in hidden:
        monkeypatch.setitem(sys.modules, module, None)
        parent, _, child = module.rpartition(".")
        if parent in sys.modules:  # an earlier import left the attribute on the parent
            monkeypatch.delattr(sys.modules[parent], child, raising=False)
    with pytest.raises(StorageError, match=re.escape(f"pip install '{extra}'")):
        create_kv_store(config, state_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_gcs_client_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import google.cloud

    monkeypatch.setitem(sys.modules, "google.cloud.storage", None)
    monkeypatch.delattr(google.cloud, "storage", raising=False)
    with pytest.raises(StorageError, match=r"pip install 'mlops\[gcp\]'"):
        create_object_store({"backend": "gcs", "bucket": "b"}, state_dir=tmp_path)
