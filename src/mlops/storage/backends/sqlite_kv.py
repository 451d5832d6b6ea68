"""The embedded default KV store: one SQLite file under ``<workspace>/.mlops/``.

WAL journal so readers never block the writer; a busy timeout so several
processes (parallel runs, Dask workers on one machine) wait for each other
instead of failing; one connection per thread, because sqlite3 connections are
not shareable. Writes are single statements or ``BEGIN IMMEDIATE``
transactions, so a process killed mid-write leaves the previous value intact.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path

from mlops.errors import StorageError
from mlops.storage.interfaces.kv_store import DEFAULT_NAMESPACE, KVStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    namespace  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at REAL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID
"""
BUSY_TIMEOUT_S = 30.0
#: The default KV store's file, in the workspace's state folder.
DEFAULT_FILE = "kv.sqlite3"
# Keys per batched read: below the 999 bound variables older SQLite builds allow.
BATCH_SIZE = 500


def _close_all(connections: list[sqlite3.Connection]) -> None:
    for conn in connections:
        conn.close()
    connections.clear()


class _Connections:
    """One connection per thread to one database file, created on first use.

    Connections are closed by :meth:`close`, or when the last store using them
    is garbage-collected, so a forgotten ``close()`` leaks no file handles.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        weakref.finalize(self, _close_all, self._all)

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Setup is serialised: SQLite answers "database is locked" at once, without
            # waiting, when connections switch a fresh file to WAL at the same time.
            with self._lock:
                conn = self._open()
                self._all.append(conn)
            self._local.conn = conn
        self._check_in_place()
        return conn

    def _check_in_place(self) -> None:
        """The file opened is still the one at the path.

        SQLite goes on writing to a database file removed while open (its inode
        lives on), so a store deleted mid-run would take every later record with
        it, silently. One ``stat`` per operation makes that an error instead.
        """
        try:
            now = _identity_of(self.path)
        except FileNotFoundError:
            now = None
        if self._identity is not None and now != self._identity:
            raise sqlite3.OperationalError(
                "the database file was removed or replaced while in use; "
                "what was written to it since is lost"
            )

    def _open(self) -> sqlite3.Connection:
        if self.path.exists() and not os.access(self.path, os.W_OK):
            return self._open_read_only()
        created = not self.path.exists()
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.01
        while True:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(SCHEMA)
            except sqlite3.OperationalError as exc:
                conn.close()
                # Another process is setting up the same file: wait for it, bounded.
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    self._remove_failed_setup(created=created)
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            except BaseException:
                conn.close()  # not a usable database: do not keep the handle
                self._remove_failed_setup(created=created)
                raise
            if self._identity is None:
                self._identity = _identity_of(self.path)
            return conn

    def _open_read_only(self) -> sqlite3.Connection:
        """A store this process may not write: read as an immutable file.

        In WAL mode, SQLite creates ``-wal`` and ``-shm`` files beside the
        database to read it, and cannot remove them after, since it cannot
        checkpoint a file it may not write. Read immutable, it creates nothing;
        any write is refused ("attempt to write a readonly database").
        """
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        if self._identity is None:
            self._identity = _identity_of(self.path)
        return conn

    def _remove_failed_setup(self, *, created: bool) -> None:
        """What a setup that failed (a full disk, say) left beside the database.

        Only when no connection of this process is open (their locks would not
        show to the check below: POSIX record locks are per process).
        """
        if self._all:
            return
        _remove_idle_wal_files(self.path)
        if created:
            with contextlib.suppress(OSError):
                if self.path.stat().st_size == 0:  # nothing was written to it
                    self.path.unlink()

    def close(self) -> None:
        with self._lock:
            _close_all(self._all)
        self._local = threading.local()


def _identity_of(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


# SQLite's unix VFS holds a shared lock on this byte of the -shm file for as long
# as a connection uses it (its "dead man switch"): a write lock taken on it proves
# no connection of any process is using the files.
_SHM_DMS_BYTE = 128


def _remove_idle_wal_files(path: Path) -> None:
    """Remove ``-wal`` and ``-shm`` when no connection uses them and the WAL holds nothing."""
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    try:
        descriptor = os.open(shm, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
        if wal.exists() and wal.stat().st_size > 0:
            return  # frames not checkpointed into the database: they are data
        wal.unlink(missing_ok=True)
        shm.unlink(missing_ok=True)
    except OSError:
        return  # in use by another process, or not ours to remove
    finally:
        os.close(descriptor)


class SqliteKVStore(KVStore):
    backend = "sqlite"

    def __init__(
        self,
        path: str | Path,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        _connections: _Connections | None = None,
    ) -> None:
        super().__init__(namespace)
        self.path = Path(path)
        if _connections is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"sqlite: cannot create {self.path.parent}: {exc}") from exc
            _connections = _Connections(self.path)
        self._connections = _connections

    def describe(self) -> str:
        return f"sqlite {self.path}"

    def _get(self, key: str) -> str | None:
        row = (
            self._connections.get()
            .execute(
                "SELECT value FROM kv WHERE namespace = ? AND key = ? "
                "AND (expires_at IS NULL OR expires_at > ?)",
                (self.namespace, key, time.time()),
            )
            .fetchone()
        )
        return None if row is None else str(row[0])

    def _get_many(self, keys: list[str]) -> dict[str, str]:
        connection = self._connections.get()
        found: dict[str, str] = {}
        now = time.time()
        for start in range(0, len(keys), BATCH_SIZE):
            chunk = keys[start : start + BATCH_SIZE]
            rows = connection.execute(
                "SELECT key, value FROM kv WHERE namespace = ? "  # noqa: S608 - placeholders only
                f"AND key IN ({', '.join('?' * len(chunk))}) "
                "AND (expires_at IS NULL OR expires_at > ?)",
                (self.namespace, *chunk, now),
            ).fetchall()
            found.update((str(key), str(value)) for key, value in rows)
        return found

    def _set(self, key: str, raw: str, expires_at: float | None) -> None:
        self._connections.get().execute(
            "INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (namespace, key) DO UPDATE SET "
            "value = excluded.value, expires_at = excluded.expires_at",
            (self.namespace, key, raw, expires_at),
        )

    def _set_many(self, items: list[tuple[str, str]]) -> None:
        # One transaction: one commit (and one WAL sync) for all of them, all or none.
        connection = self._connections.get()
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, NULL) "
                "ON CONFLICT (namespace, key) DO UPDATE SET "
                "value = excluded.value, expires_at = NULL",
                [(self.namespace, key, raw) for key, raw in items],
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _set_if_absent(self, key: str, raw: str, expires_at: float | None) -> bool:
        # One statement: insert, or take over a row whose ttl has run out.
        cursor = self._connections.get().execute(
            "INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (namespace, key) DO UPDATE SET "
            "value = excluded.value, expires_at = excluded.expires_at "
            "WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?",
            (self.namespace, key, raw, expires_at, time.time()),
        )
        return cursor.rowcount == 1

    def _delete(self, key: str) -> bool:
        conn = self._connections.get()
        conn.execute("BEGIN IMMEDIATE")
        try:
            live = conn.execute(
                "SELECT 1 FROM kv WHERE namespace = ? AND key = ? "
                "AND (expires_at IS NULL OR expires_at > ?)",
                (self.namespace, key, time.time()),
            ).fetchone()
            conn.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (self.namespace, key))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return live is not None

    def _keys(self, prefix: str) -> list[str]:
        rows = (
            self._connections.get()
            .execute(
                "SELECT key FROM kv WHERE namespace = ? AND key >= ? "
                "AND substr(key, 1, ?) = ? AND (expires_at IS NULL OR expires_at > ?)",
                (self.namespace, prefix, len(prefix), prefix, time.time()),
            )
            .fetchall()
        )
        return [str(row[0]) for row in rows]

    def _with_namespace(self, namespace: str) -> KVStore:
        return SqliteKVStore(self.path, namespace, _connections=self._connections)

    def close(self) -> None:
        self._connections.close()

    def _translate(self, exc: Exception, operation: str, key: str) -> StorageError | None:
        if isinstance(exc, sqlite3.Error):
            return StorageError(
                f"sqlite: {operation} of key {key!r} in namespace {self.namespace!r} at "
                f"{self.path} failed: {exc}",
                hint=_hint_for(str(exc), self.path),
            )
        return None


def _hint_for(message: str, path: Path) -> str | None:
    """How to fix what SQLite reported, where the user can."""
    if "disk is full" in message or "disk I/O error" in message:
        return f"free space on the disk that holds {path.parent} and run the command again"
    if "readonly" in message:
        return f"make {path} and its folder writable, or point storage.kv elsewhere"
    if "removed or replaced" in message:
        return "keep the workspace's .mlops folder in place while a command uses it"
    return None
