"""A fake of the google-cloud-firestore client: the subset FirestoreKVStore uses.

Documents live in a dict keyed by path; writes stamp an update time so
``write_option(last_update_time=...)`` preconditions behave like Firestore's.
Raises the real ``google.api_core`` exceptions. ``fail_with`` makes every call
raise, to simulate an outage.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as gexc

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


@dataclass
class _Doc:
    data: dict[str, Any]
    update_time: dt.datetime


@dataclass(frozen=True)
class _Precondition:
    last_update_time: dt.datetime


class FakeSnapshot:
    def __init__(self, doc_id: str, doc: _Doc | None) -> None:
        self.id = doc_id
        self.exists = doc is not None
        self._data = dict(doc.data) if doc else None
        self.update_time = doc.update_time if doc else None

    def to_dict(self) -> dict[str, Any] | None:
        return dict(self._data) if self._data is not None else None


class FakeFirestoreClient:
    def __init__(self, project: str = "fake-project") -> None:
        self.project = project
        self.docs: dict[str, _Doc] = {}
        self.lock = threading.Lock()
        self.fail_with: Exception | None = None
        self._clock = itertools.count(1)

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def _now(self) -> dt.datetime:
        base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return base + dt.timedelta(microseconds=next(self._clock))

    def collection(self, name: str) -> FakeCollection:
        return FakeCollection(self, name)

    def write_option(self, *, last_update_time: dt.datetime) -> _Precondition:
        return _Precondition(last_update_time)

    def close(self) -> None:
        pass


class FakeDocument:
    def __init__(self, client: FakeFirestoreClient, path: str) -> None:
        self._client = client
        self.path = path
        self.id = path.rsplit("/", 1)[-1]

    def collection(self, name: str) -> FakeCollection:
        return FakeCollection(self._client, f"{self.path}/{name}")

    def get(self, **_options: Any) -> FakeSnapshot:  # timeout/retry, as the client takes
        self._client._check()
        with self._client.lock:
            return FakeSnapshot(self.id, self._client.docs.get(self.path))

    def set(self, data: dict[str, Any]) -> None:
        self._client._check()
        with self._client.lock:
            self._client.docs[self.path] = _Doc(dict(data), self._client._now())

    def create(self, data: dict[str, Any]) -> None:
        self._client._check()
        with self._client.lock:
            if self.path in self._client.docs:
                raise gexc.AlreadyExists(f"Document already exists: {self.path}")
            self._client.docs[self.path] = _Doc(dict(data), self._client._now())

    def update(self, data: dict[str, Any], option: _Precondition | None = None) -> None:
        self._client._check()
        with self._client.lock:
            doc = self._client.docs.get(self.path)
            if doc is None:
                raise gexc.NotFound(f"No document to update: {self.path}")
            if option is not None and doc.update_time != option.last_update_time:
                raise gexc.FailedPrecondition("the stored version does not match")
            self._client.docs[self.path] = _Doc({**doc.data, **data}, self._client._now())

    def delete(self) -> None:
        self._client._check()
        with self._client.lock:
            self._client.docs.pop(self.path, None)


class FakeQuery:
    def __init__(self, client: FakeFirestoreClient, path: str, filters: tuple[Any, ...]) -> None:
        self._client = client
        self._path = path
        self._filters = filters

    def where(self, *, filter: Any) -> FakeQuery:
        return FakeQuery(self._client, self._path, (*self._filters, filter))

    def _match(self, data: dict[str, Any]) -> bool:
        return all(
            f.field_path in data and _OPS[f.op_string](data[f.field_path], f.value)
            for f in self._filters
        )

    def stream(self) -> Iterator[FakeSnapshot]:
        self._client._check()
        prefix = self._path + "/"
        with self._client.lock:
            found = [
                FakeSnapshot(path[len(prefix) :], doc)
                for path, doc in sorted(self._client.docs.items())
                if path.startswith(prefix) and "/" not in path[len(prefix) :]
                and self._match(doc.data)
            ]  # fmt: skip
        yield from found


class FakeCollection(FakeQuery):
    def __init__(self, client: FakeFirestoreClient, path: str) -> None:
        super().__init__(client, path, ())

    def document(self, doc_id: str) -> FakeDocument:
        return FakeDocument(self._client, f"{self._path}/{doc_id}")
