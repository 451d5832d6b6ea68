"""The projects' stores as the web server reads them, opened once per server.

Runs and sweeps are read from the project's KV store and, when that store is
remote (Redis, Firestore), also from the local file it falls back to: a run
made while the server was unreachable is listed too, marked ``store: local``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from mlops.session.platform import MLPlatform
from mlops.session.settings import ProjectStores
from mlops.storage.factory import fallback_kv_store
from mlops.storage.interfaces.kv_store import KVStore
from mlops.tracking.run_records import get_run, list_runs
from mlops.tracking.sweep_records import list_sweeps


@dataclass
class OpenProject:
    """A project's stores, plus the local file its remote KV store falls back to, if any."""

    stores: ProjectStores
    fallback: KVStore | None

    @property
    def kvs(self) -> list[KVStore]:
        return [self.stores.kv] + ([self.fallback] if self.fallback is not None else [])

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first; runs only in the fallback file are marked ``store: local``."""
        found: dict[str, dict[str, Any]] = {}
        for index, kv in enumerate(self.kvs):
            for run in list_runs(kv):
                if str(run.get("run_id")) not in found:
                    found[str(run.get("run_id"))] = {**run, "store": "local"} if index else run
        return sorted(found.values(), key=lambda r: (str(r.get("started_at")), str(r["run_id"])))

    def sweeps(self) -> list[dict[str, Any]]:
        """Every sweep, newest first; those only in the fallback file marked ``store: local``."""
        found: dict[str, dict[str, Any]] = {}
        for index, kv in enumerate(self.kvs):
            for sweep in list_sweeps(kv):
                if str(sweep.get("sweep_id")) not in found:
                    found[str(sweep.get("sweep_id"))] = (
                        {**sweep, "store": "local"} if index else sweep
                    )
        every = sorted(
            found.values(), key=lambda s: (str(s.get("started_at")), str(s.get("sweep_id")))
        )
        return list(reversed(every))

    def run(self, run_id: str) -> tuple[dict[str, Any], KVStore] | None:
        for kv in self.kvs:
            record = get_run(kv, run_id)
            if record is not None:
                return record, kv
        return None

    def close(self) -> None:
        for kv in self.kvs:
            kv.close()
        self.stores.objects.close()


class ProjectStoresCache:
    """The projects' stores, opened once per server (SQLite connections are per thread)."""

    def __init__(self, platform: MLPlatform) -> None:
        self.platform = platform
        self._open: dict[str, OpenProject] = {}
        self._lock = threading.Lock()

    def get(self, project_id: str) -> OpenProject:
        with self._lock:
            opened = self._open.get(project_id)
            if opened is None:
                _, config = self.platform.load(project_id)
                stores = self.platform.open_stores(project_id, config)
                fallback = fallback_kv_store(
                    stores.kv_config,
                    state_dir=self.platform.workspace.state_dir,
                    namespace=project_id,
                )
                opened = self._open[project_id] = OpenProject(stores, fallback)
            return opened

    def close(self) -> None:
        with self._lock:
            for opened in self._open.values():
                opened.close()
            self._open.clear()


__all__ = ["OpenProject", "ProjectStoresCache"]
