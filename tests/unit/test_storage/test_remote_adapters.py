"""Backend specifics of the remote stores beyond the shared contract: errors and edges."""

from __future__ import annotations

import datetime as dt
from typing import Any

import fakeredis
import pytest
from google.api_core import exceptions as gexc

from fakes.firestore import FakeFirestoreClient
from fixtures.servers import Server
from mlops.errors import StorageError
from mlops.storage.backends.gcp_kv import FirestoreKVStore
from mlops.storage.backends.gcs_objects import GcsObjectStore
from mlops.storage.backends.redis_kv import RedisKVStore
from mlops.storage.interfaces.kv_store import StorageUnavailableError

pytestmark = pytest.mark.gcp


# ------------------------------------------------------------------ Firestore


class _RacingClient(FakeFirestoreClient):
    """Someone else rewrites the document between our read and our conditional update."""

    def write_option(self, *, last_update_time: dt.datetime) -> Any:
        return super().write_option(last_update_time=last_update_time - dt.timedelta(seconds=1))


def test_firestore_takeover_of_an_expired_entry_loses_a_race_cleanly() -> None:
    store = FirestoreKVStore(_RacingClient(), "p")
    store.set("lease", "old", ttl=0.001)
    import time

    time.sleep(0.01)
    assert store.set_if_absent("lease", "mine") is False
    assert store.get("lease") is None  # still the expired entry: nobody took it


def test_firestore_delete_of_an_expired_entry_reports_absent() -> None:
    store = FirestoreKVStore(FakeFirestoreClient(), "p")
    store.set("k", 1, ttl=0.001)
    import time

    time.sleep(0.01)
    assert store.delete("k") is False
    assert store.keys() == []


@pytest.mark.parametrize(
    ("failure", "expected", "text"),
    [
        (gexc.ServiceUnavailable("down"), StorageUnavailableError, "Firestore unreachable"),
        (gexc.DeadlineExceeded("slow"), StorageUnavailableError, "Firestore unreachable"),
        (gexc.PermissionDenied("no"), StorageError, r"get of key 'k' failed \(firestore"),
    ],
    ids=["unavailable", "deadline", "permission"],
)
def test_firestore_errors_are_translated(
    failure: Exception, expected: type[StorageError], text: str
) -> None:
    client = FakeFirestoreClient(project="proj-x")
    store = FirestoreKVStore(client, "p", collection="coll")
    client.fail_with = failure
    with pytest.raises(expected, match=text) as info:
        store.get("k")
    assert "firestore proj-x/coll" in str(info.value)
    assert isinstance(info.value.__cause__, type(failure))


def test_firestore_bugs_are_not_disguised_as_storage_errors() -> None:
    client = FakeFirestoreClient()
    client.fail_with = KeyError("bug")
    with pytest.raises(KeyError):
        FirestoreKVStore(client, "p").get("k")


# ------------------------------------------------------------------ Redis


@pytest.mark.redis
def test_redis_server_errors_become_storage_errors() -> None:
    client = fakeredis.FakeRedis(decode_responses=True)
    store = RedisKVStore(client, "p")
    client.lpush("mlops:p:k", "a list, not a string")
    with pytest.raises(StorageError, match=r"redis: get of key 'k' failed") as info:
        store.get("k")
    assert not isinstance(info.value, StorageUnavailableError)


@pytest.mark.redis
def test_redis_views_share_the_client_and_only_the_owner_closes_it() -> None:
    store = RedisKVStore(fakeredis.FakeRedis(decode_responses=True), "p", prefix="ws1")
    view = store.namespaced("q")
    view.set("k", 1)
    view.close()  # a view does not own the connection
    assert store.namespaced("q").get("k") == 1
    assert store.client.get("ws1:q:k") == "1"
    assert store.describe().startswith("redis ")


# ------------------------------------------------------------------ GCS


def test_gcs_api_errors_become_storage_errors(gcs_emulator: Server) -> None:
    store = GcsObjectStore.connect("exists", endpoint=gcs_emulator.url, create_bucket=True)
    missing = GcsObjectStore(store.client, "no-such-bucket")
    with pytest.raises(StorageError, match=r"gcs: put of 'k' in gcs gs://no-such-bucket failed"):
        missing.put("k", b"x")


def test_gcs_without_the_bucket_says_how_to_create_it(gcs_emulator: Server) -> None:
    with pytest.raises(StorageError, match=r"bucket 'absent' does not exist.*create_bucket: true"):
        GcsObjectStore.connect("absent", endpoint=gcs_emulator.url)


def test_gcs_prefix_keeps_stores_apart(gcs_emulator: Server) -> None:
    a = GcsObjectStore.connect("shared", "team-a", endpoint=gcs_emulator.url, create_bucket=True)
    b = GcsObjectStore.connect("shared", "team-b/", endpoint=gcs_emulator.url)
    a.put("x", b"a")
    b.put("x", b"b")
    assert (a.get("x"), b.get("x")) == (b"a", b"b")
    assert a.uri("x") == "gs://shared/team-a/x"
    assert b.describe() == "gcs gs://shared/team-b"
