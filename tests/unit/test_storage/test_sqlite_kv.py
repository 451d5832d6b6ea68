"""SQLite specifics beyond the contract: connection lifetime, errors, files."""

from __future__ import annotations

import gc
import sqlite3
import threading
import warnings
from contextlib import closing
from pathlib import Path

import pytest

from mlops.errors import StorageError
from mlops.storage.backends.sqlite_kv import SqliteKVStore


def test_a_store_dropped_without_close_leaks_no_connection(tmp_path: Path) -> None:
    def use_from_two_threads() -> None:
        store = SqliteKVStore(tmp_path / "kv.sqlite3", "p")
        store.set("k", 1)
        worker = threading.Thread(target=lambda: store.namespaced("q").set("k", 2))
        worker.start()
        worker.join()

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        use_from_two_threads()  # the store goes out of scope unclosed
        gc.collect()


def test_the_database_uses_wal_and_lives_where_asked(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "kv.sqlite3"
    store = SqliteKVStore(path, "p")
    store.set("k", 1)
    with closing(sqlite3.connect(path)) as conn:  # sqlite3's own `with` does not close
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert "sqlite" in store.describe()
    assert str(path) in store.describe()
    store.close()


def test_a_corrupt_database_file_is_a_storage_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "kv.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = SqliteKVStore(path, "p")
    with pytest.raises(
        StorageError, match=r"sqlite: get of key 'k' in namespace 'p' at .*kv\.sqlite3"
    ):
        store.get("k")
    store.close()
    assert path.read_bytes().startswith(b"this is not a database")


def test_an_unwritable_folder_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StorageError, match="sqlite: cannot create"):
        SqliteKVStore(blocker / "kv.sqlite3")
