"""KV store on Google Cloud Firestore.

Layout: ``<collection>/<namespace>/entries/<sha256(key)>`` holding the fields
``key``, ``value`` (the JSON text) and ``expires_at``. Hashed document ids
accept any key (Firestore forbids ``/`` and limits id length); one
sub-collection per namespace keeps prefix listings to single-field range
queries, which Firestore indexes automatically. TTL is enforced on read;
Firestore's own TTL policy can be pointed at ``expires_at`` to purge.

With ``FIRESTORE_EMULATOR_HOST`` set, the client talks to the emulator.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from mlops.errors import StorageError
from mlops.storage.backends import client_module
from mlops.storage.interfaces.kv_store import DEFAULT_NAMESPACE, KVStore, StorageUnavailableError

DEFAULT_COLLECTION = "mlops"
_HIGHEST = "\U0010ffff"


def doc_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class FirestoreKVStore(KVStore):
    backend = "gcp"

    def __init__(
        self,
        client: Any,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        collection: str = DEFAULT_COLLECTION,
    ) -> None:
        super().__init__(namespace)
        self.client = client
        self.collection = collection
        self._entries = client.collection(collection).document(namespace).collection("entries")

    @classmethod
    def connect(
        cls,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        project: str | None = None,
        database: str | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> FirestoreKVStore:
        firestore = client_module(
            "google.cloud.firestore",
            backend="gcp",
            distribution="google-cloud-firestore",
            extra="gcp",
        )
        options: dict[str, Any] = {"project": project}
        if database:
            options["database"] = database
        try:
            client = firestore.Client(**options)
        except Exception as exc:
            raise StorageUnavailableError(
                f"gcp: cannot create a Firestore client (project {project!r}): {exc}; "
                "set GOOGLE_CLOUD_PROJECT and credentials, or FIRESTORE_EMULATOR_HOST"
            ) from exc
        return cls(client, namespace, collection=collection)

    def describe(self) -> str:
        project = getattr(self.client, "project", "?")
        return f"firestore {project}/{self.collection}"

    def ping(self, timeout: float = 10.0) -> None:
        """Raise StorageUnavailableError unless Firestore answers a read within ``timeout``.

        The bound covers retries: the client's default retries an unreachable
        server for a minute.
        """
        from google.api_core.retry import Retry

        probe = self._entries.document("ping")
        self._call("ping", "-", lambda: probe.get(timeout=timeout, retry=Retry(timeout=timeout)))

    @staticmethod
    def _live(data: dict[str, Any] | None, now: float) -> bool:
        if not data:
            return False
        expires = data.get("expires_at")
        return expires is None or float(expires) > now

    def _get(self, key: str) -> str | None:
        snapshot = self._entries.document(doc_id(key)).get()
        data = snapshot.to_dict() if snapshot.exists else None
        return str(data["value"]) if data and self._live(data, time.time()) else None

    def _set(self, key: str, raw: str, expires_at: float | None) -> None:
        self._entries.document(doc_id(key)).set(
            {"key": key, "value": raw, "expires_at": expires_at}
        )

    def _set_if_absent(self, key: str, raw: str, expires_at: float | None) -> bool:
        from google.api_core import exceptions as gexc

        ref = self._entries.document(doc_id(key))
        data = {"key": key, "value": raw, "expires_at": expires_at}
        try:
            ref.create(data)
            return True
        except gexc.Conflict:
            pass
        snapshot = ref.get()
        if snapshot.exists and self._live(snapshot.to_dict(), time.time()):
            return False
        # Take over an expired entry only if nobody changed it since we read it.
        try:
            if snapshot.exists:
                option = self.client.write_option(last_update_time=snapshot.update_time)
                ref.update(data, option=option)
            else:
                ref.create(data)
        except (gexc.FailedPrecondition, gexc.Conflict, gexc.NotFound):
            return False
        return True

    def _delete(self, key: str) -> bool:
        ref = self._entries.document(doc_id(key))
        snapshot = ref.get()
        live = snapshot.exists and self._live(snapshot.to_dict(), time.time())
        if snapshot.exists:
            ref.delete()
        return bool(live)

    def _keys(self, prefix: str) -> list[str]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self._entries
        if prefix:
            query = query.where(filter=FieldFilter("key", ">=", prefix)).where(
                filter=FieldFilter("key", "<", prefix + _HIGHEST)
            )
        now = time.time()
        found = []
        for snapshot in query.stream():
            data = snapshot.to_dict()
            if self._live(data, now) and str(data["key"]).startswith(prefix):
                found.append(str(data["key"]))
        return found

    def _with_namespace(self, namespace: str) -> KVStore:
        return FirestoreKVStore(self.client, namespace, collection=self.collection)

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if callable(close):
            close()

    def _translate(self, exc: Exception, operation: str, key: str) -> StorageError | None:
        from google.api_core import exceptions as gexc

        where = f"{self.describe()} namespace {self.namespace!r}"
        if isinstance(
            exc, gexc.ServiceUnavailable | gexc.DeadlineExceeded | gexc.RetryError | ConnectionError
        ):
            return StorageUnavailableError(
                f"gcp: {operation} of key {key!r} failed: Firestore unreachable ({where}): {exc}"
            )
        if isinstance(exc, gexc.GoogleAPIError):
            return StorageError(f"gcp: {operation} of key {key!r} failed ({where}): {exc}")
        return None
