"""Storage throughput, measured side by side in one run.

(a) set and get operations per second for the memory, sqlite and redis KV
    stores (redis: a real redis-server started on loopback for the run), with
    the same 2,000 small JSON documents.
(b) Spilling a 100 MB payload: pickled straight into the local object store
    (temp file, atomic rename; durable adds fsync) vs a plain ``pickle.dump``
    to a file.

Run by ``nox -s bench``; prints markdown tables. Options: ``--repeat N``.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from _timing import median_seconds
from mlops.storage.backends.local_objects import LocalObjectStore
from mlops.storage.backends.memory import MemoryKVStore
from mlops.storage.backends.redis_kv import RedisKVStore
from mlops.storage.backends.sqlite_kv import SqliteKVStore
from mlops.storage.interfaces.kv_store import KVStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the suite's loopback server helpers
from fixtures.servers import redis_server, redis_server_binary  # noqa: E402

OPS = 2_000
PAYLOAD_MB = 100


def kv_rates(store: KVStore, repeat: int) -> tuple[float, float]:
    docs = [{"run": i, "metric": i * 0.5, "tags": ["a", "b"]} for i in range(OPS)]

    def sets() -> None:
        for i, doc in enumerate(docs):
            store.set(f"runs/{i}", doc)

    def gets() -> None:
        for i in range(OPS):
            store.get(f"runs/{i}")

    return OPS / median_seconds(sets, repeat), OPS / median_seconds(gets, repeat)


def spill_times(where: Path, repeat: int) -> tuple[float, float, float]:
    """Seconds to spill: durable object store, non-durable object store, plain pickle."""
    # A payload like a model's weights: many medium-sized binary blocks.
    payload = {"layers": [bytes([i % 256]) * (1024 * 1024) for i in range(PAYLOAD_MB)]}
    durable = LocalObjectStore(where / "durable")
    fast = LocalObjectStore(where / "fast", durable=False)

    def spill(store: LocalObjectStore) -> Callable[[], None]:
        def run() -> None:
            with store.writer("runs/1/payload.pkl") as stream:
                pickle.dump(payload, stream, protocol=pickle.HIGHEST_PROTOCOL)

        return run

    def plain() -> None:
        with (where / "plain.pkl").open("wb") as handle:
            pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)

    return (
        median_seconds(spill(durable), repeat),
        median_seconds(spill(fast), repeat),
        median_seconds(plain, repeat),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="mlops-bench-storage-") as tmp:
        where = Path(tmp)
        rows.append(("memory", *kv_rates(MemoryKVStore("bench"), args.repeat)))
        sqlite = SqliteKVStore(where / "kv.sqlite3", "bench")
        rows.append(("sqlite (WAL, file)", *kv_rates(sqlite, args.repeat)))
        sqlite.close()
        if redis_server_binary():
            with redis_server(where / "redis") as server:
                redis = RedisKVStore.from_url(server.url, "bench")
                rows.append(("redis (real server, loopback)", *kv_rates(redis, args.repeat)))
                redis.close()
        durable, fast, plain = spill_times(where, args.repeat)

    base_set, base_get = rows[0][1], rows[0][2]
    print(f"\n### KV stores ({OPS} small JSON documents, median of {args.repeat})\n")
    print("| backend | set ops/s | get ops/s | set vs memory | get vs memory |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, set_rate, get_rate in rows:
        print(
            f"| {name} | {set_rate:,.0f} | {get_rate:,.0f} | "
            f"{set_rate / base_set:.3f}x | {get_rate / base_get:.3f}x |"
        )
    if not redis_server_binary():
        print("\nredis-server not installed: redis row left out (apt-get install redis-server).")
    print(f"\n### Spilling a {PAYLOAD_MB} MB payload (median of {args.repeat})\n")
    print("| spill | time | vs plain pickle.dump |")
    print("| --- | ---: | ---: |")
    print(f"| object store, durable (fsync + rename, the default) | {durable:.2f} s "
          f"| {durable / plain:.2f}x |")  # fmt: skip
    print(f"| object store, durable: false (rename only) | {fast:.2f} s | {fast / plain:.2f}x |")
    print(f"| plain pickle.dump to a file | {plain:.2f} s | 1.00x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
