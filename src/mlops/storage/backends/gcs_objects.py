"""Objects in Google Cloud Storage (google-cloud-storage).

Blob names are ``<prefix>/<key>``. Streams are uploaded in chunks (resumable
uploads) and read back through ``Blob.open("rb")``, so large payloads never
sit whole in memory. ``endpoint`` (or ``STORAGE_EMULATOR_HOST``) points the
client at an emulator, with anonymous credentials.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from mlops.errors import StorageError
from mlops.storage.backends import client_module
from mlops.storage.interfaces.kv_store import StorageUnavailableError
from mlops.storage.interfaces.object_store import CHUNK_SIZE, ObjectInfo, ObjectStore
from mlops.storage.path_utils import normalize_key

UPLOAD_CHUNK = 8 * CHUNK_SIZE  # a multiple of 256 KiB, as resumable uploads require


class GcsObjectStore(ObjectStore):
    backend = "gcs"

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket_name = bucket
        self.prefix = normalize_key(prefix, allow_empty=True, what="gcs prefix")
        self._bucket = client.bucket(bucket)

    @classmethod
    def connect(
        cls,
        bucket: str,
        prefix: str = "",
        *,
        project: str | None = None,
        endpoint: str | None = None,
        create_bucket: bool = False,
        timeout: float = 10.0,
    ) -> GcsObjectStore:
        storage = client_module(
            "google.cloud.storage",
            backend="gcs",
            distribution="google-cloud-storage",
            extra="gcp",
        )
        from google.auth.credentials import AnonymousCredentials  # installed with the client

        options: dict[str, Any] = {"project": project}
        if endpoint:
            url = endpoint if "://" in endpoint else f"http://{endpoint}"
            options.update(
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                client_options={"api_endpoint": url},
                project=project or "mlops-local",
            )
        try:
            client = storage.Client(**options)
        except Exception as exc:
            raise StorageUnavailableError(
                f"gcs: cannot create a storage client (project {project!r}): {exc}; "
                "set GOOGLE_CLOUD_PROJECT and credentials, or STORAGE_EMULATOR_HOST"
            ) from exc
        store = cls(client, bucket, prefix)
        store.check_bucket(create=create_bucket, timeout=timeout)
        return store

    def check_bucket(self, *, create: bool = False, timeout: float = 10.0) -> None:
        """Raise unless the bucket exists (creating it first when ``create``).

        Bounded by ``timeout`` seconds in all, retries included: the client's
        default would keep retrying a refused connection for two minutes.
        """
        from google.api_core.retry import Retry

        retry = Retry(timeout=timeout)

        def check() -> None:
            if self._bucket.exists(timeout=timeout, retry=retry):
                return
            if not create:
                raise StorageError(
                    f"gcs: bucket {self.bucket_name!r} does not exist; create it or set "
                    "create_bucket: true"
                )
            self.client.create_bucket(self.bucket_name, timeout=timeout, retry=retry)

        self._call("check_bucket", self.bucket_name, check)

    def describe(self) -> str:
        return f"gcs gs://{self.bucket_name}/{self.prefix}".rstrip("/")

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        blob = self._bucket.blob(self._name(key))
        blob.upload_from_string(data, content_type="application/octet-stream")
        return ObjectInfo(key, len(data), self._uri(key))

    def _put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        blob = self._bucket.blob(self._name(key), chunk_size=UPLOAD_CHUNK)
        blob.upload_from_file(stream, content_type="application/octet-stream")
        blob.reload()
        return ObjectInfo(key, int(blob.size or 0), self._uri(key))

    def _get(self, key: str) -> bytes:
        from google.api_core import exceptions as gexc

        try:
            data: bytes = self._bucket.blob(self._name(key)).download_as_bytes()
        except gexc.NotFound:
            raise self._not_found(key) from None
        return data

    def _open(self, key: str) -> BinaryIO:
        blob = self._bucket.blob(self._name(key))
        if not blob.exists():
            raise self._not_found(key)
        stream: BinaryIO = blob.open("rb", chunk_size=UPLOAD_CHUNK)
        return stream

    def _exists(self, key: str) -> bool:
        return bool(self._bucket.blob(self._name(key)).exists())

    def _delete(self, key: str) -> bool:
        from google.api_core import exceptions as gexc

        try:
            self._bucket.blob(self._name(key)).delete()
        except gexc.NotFound:
            return False
        return True

    def _list(self, prefix: str) -> list[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        blobs = self.client.list_blobs(self.bucket_name, prefix=base + prefix)
        return [blob.name[len(base) :] for blob in blobs]

    def _uri(self, key: str) -> str:
        return f"gs://{self.bucket_name}/{self._name(key)}"

    def _translate(self, exc: Exception, operation: str, key: str) -> StorageError | None:
        from google.api_core import exceptions as gexc
        from requests import exceptions as rexc

        where = self.describe()
        unreachable = (
            rexc.ConnectionError | rexc.Timeout | gexc.ServiceUnavailable | gexc.RetryError
        )
        if isinstance(exc, unreachable):
            return StorageUnavailableError(
                f"gcs: {operation} of {key!r} failed: {where} unreachable: {exc}"
            )
        if isinstance(exc, gexc.GoogleAPIError | rexc.RequestException):
            return StorageError(f"gcs: {operation} of {key!r} in {where} failed: {exc}")
        return None
