"""Where third-party exceptions become :class:`~mlops.errors.StorageError`, once for all stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from mlops.errors import StorageError

T = TypeVar("T")


class TranslatingBoundary:
    """Runs backend calls and maps their exceptions through :meth:`_translate`."""

    def _translate(self, exc: Exception, operation: str, key: str) -> StorageError | None:
        """A StorageError for ``exc``, or None to let it propagate unchanged.

        Backends return :class:`~mlops.storage.interfaces.kv_store.StorageUnavailableError`
        for lost connections so the factory's fallback can take over.
        """
        return None

    def _call(self, operation: str, key: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except StorageError:
            raise
        except Exception as exc:
            translated = self._translate(exc, operation, key)
            if translated is None:
                raise
            raise translated from exc
