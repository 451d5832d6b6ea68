"""What lives under ``.mlops/envs``: ``mlops env list`` and ``mlops env prune``."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.environment.base import LOCKS_DIR_NAME, MANIFEST_NAME
from mlops.storage.file_locks import LockFile


@dataclass(frozen=True)
class EnvironmentRecord:
    name: str
    path: Path
    manager: str
    spec_hash: str
    complete: bool
    size_bytes: int
    created_at: str | None
    project_dir: str | None
    tool: str | None
    channels: tuple[str, ...] = ()  # a conda environment's, as built

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": str(self.path), "manager": self.manager,
            "spec_hash": self.spec_hash, "complete": self.complete,
            "size_bytes": self.size_bytes, "created_at": self.created_at,
            "project_dir": self.project_dir, "tool": self.tool, "channels": list(self.channels),
        }  # fmt: skip


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return total


def list_environments(envs_dir: Path) -> list[EnvironmentRecord]:
    """Every environment folder, complete or not (an interrupted build has no manifest)."""
    if not envs_dir.is_dir():
        return []
    records = []
    for path in sorted(envs_dir.iterdir()):
        if path.name.startswith(".") or not path.is_dir():
            continue
        manager, _, spec_hash = path.name.partition("-")
        try:
            manifest = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None
        info = manifest if isinstance(manifest, dict) else {}
        records.append(
            EnvironmentRecord(
                name=path.name,
                path=path,
                manager=manager,
                spec_hash=spec_hash,
                complete=bool(info),
                size_bytes=_size(path),
                created_at=info.get("created_at"),
                project_dir=info.get("project_dir"),
                tool=info.get("tool"),
                channels=_channels(info),
            )
        )
    return records


def _channels(manifest: dict[str, Any]) -> tuple[str, ...]:
    spec = manifest.get("spec")
    options = spec.get("options") if isinstance(spec, dict) else None
    channels = options.get("channels") if isinstance(options, dict) else None
    return tuple(str(c) for c in channels) if isinstance(channels, list) else ()


def prune(
    envs_dir: Path, keep: Collection[str], *, everything: bool = False, dry_run: bool = False
) -> list[EnvironmentRecord]:
    """Remove environments no project uses now (``keep``: names in use), or all of them.

    An environment being built (its lock held) is left alone.
    """
    removed = []
    locks = envs_dir / LOCKS_DIR_NAME
    for record in list_environments(envs_dir):
        if not everything and record.name in keep:
            continue
        lock = LockFile(locks / f"{record.name}.lock")
        if not lock.acquire(timeout=0):
            continue
        try:
            if not dry_run:
                shutil.rmtree(record.path)
            removed.append(record)
        finally:
            lock.release()
    return removed


__all__ = ["EnvironmentRecord", "list_environments", "prune"]
