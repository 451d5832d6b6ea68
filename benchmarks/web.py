"""The web API under load, measured side by side in one run.

A workspace holds one project with 500 runs: one real run of the custom
template, and 499 more written by the same run recorder a run uses (every
process completed, with timings and metrics), so records have their real
shape and size. ``mlops serve`` runs it as a user starts it (uvicorn, a
subprocess on loopback), and one client sends requests from a bounded loop
over a keep-alive connection, sequentially:

- ``/api/health``: the server's floor (routing, middleware, JSON), for scale;
- ``/api/projects/bench/runs``: the runs endpoint as the page asks for it
  (50) and with the default page size (100); the target is on this endpoint;
- ``/api/projects/bench/runs/<id>``: one run with its processes.

Target: 2,000 requests to the runs endpoint with p95 <= 50 ms and no errors.

Run by ``nox -s bench -- benchmarks/web.py``; ``--quick`` shrinks sizes.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the suite's loopback server helper
from fixtures.servers import mlops_server  # noqa: E402
from mlops.engine.scheduler import ProcessRecord  # noqa: E402
from mlops.managers.project_manager import ProjectManager  # noqa: E402
from mlops.runtime.workspace import Workspace  # noqa: E402
from mlops.session.platform import MLPlatform  # noqa: E402
from mlops.tracking.run_records import RunRecorder, new_run_id  # noqa: E402
from mlops.tracking.status import ProcessStatus, RunStatus  # noqa: E402

P95_TARGET_MS = 50.0


@dataclass
class Latencies:
    label: str
    samples_ms: list[float]
    errors: int
    wall_s: float

    def percentile(self, q: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    def row(self, floor_p95: float) -> str:
        p95 = self.percentile(95)
        return (
            f"| {self.label} | {len(self.samples_ms)} | {statistics.median(self.samples_ms):.1f} "
            f"| {p95:.1f} | {self.percentile(99):.1f} | {max(self.samples_ms):.1f} "
            f"| {self.errors} | {len(self.samples_ms) / self.wall_s:.0f} | {p95 / floor_p95:.1f}x |"
        )


def make_workspace(folder: Path, runs: int) -> tuple[Workspace, str]:
    """The project with one real run and ``runs - 1`` recorded ones; returns a run id."""
    workspace = Workspace.resolve(folder)
    ProjectManager(workspace).create("bench", template="custom")
    platform = MLPlatform(workspace)
    report = platform.run_pipeline_for_project("bench")
    if not report.ok:
        raise SystemExit(f"the real run failed: {report.failed_process}")
    _, config = platform.load("bench")
    graph = platform.graph("bench", config)
    stores = platform.open_stores("bench", config)
    try:
        for index in range(runs - 1):
            recorder = RunRecorder(
                stores.kv, run_id=new_run_id(), project="bench", graph=graph,
                details={"executor": "sequential", "selection": None},
            )  # fmt: skip
            for name in graph.order:
                record = ProcessRecord(name, ProcessStatus.COMPLETED, duration=0.01 * index)
                record.metrics = [{"name": "loss", "value": 1 / (index + 1), "step": 0}]
                recorder.update(record)
            recorder.finish(RunStatus.COMPLETED)
    finally:
        stores.kv.close()
        stores.objects.close()
    return workspace, report.run_id


def measure(port: int, label: str, path: str, requests: int, warmup: int) -> Latencies:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples: list[float] = []
    errors = 0
    try:
        for index in range(warmup + requests):
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and body[:1] in (b"{", b"[")
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
            elapsed = (time.perf_counter() - started) * 1000
            if index >= warmup:
                samples.append(elapsed)
                errors += 0 if ok else 1
    finally:
        connection.close()
    return Latencies(label, samples, errors, sum(samples) / 1000)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 runs, 200 requests")
    args = parser.parse_args(argv)
    runs, requests = (100, 200) if args.quick else (500, 2000)
    with tempfile.TemporaryDirectory(prefix="mlops-bench-web-") as tmp:
        started = time.perf_counter()
        workspace, run_id = make_workspace(Path(tmp) / "ws", runs)
        setup = time.perf_counter() - started
        with mlops_server(workspace.root) as server:
            base = "/api/projects/bench"
            cases = [
                ("`/api/health` (floor)", "/api/health"),
                ("`runs?limit=50` (the page)", f"{base}/runs?limit=50"),
                ("`runs` (default limit 100)", f"{base}/runs"),
                ("`runs/<id>` (one run)", f"{base}/runs/{run_id}"),
            ]
            results = [
                measure(server.port, label, path, requests, warmup=requests // 20)
                for label, path in cases
            ]
    floor = results[0].percentile(95)
    print(f"## Web API under load ({os.cpu_count()} cores, Python {sys.version.split()[0]})\n")
    print(
        f"{runs} runs stored (SQLite KV, set up in {setup:.1f} s); `mlops serve` on loopback; "
        f"{requests} sequential requests per row on one keep-alive connection.\n"
    )
    print("| endpoint | requests | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | errors | req/s "
          "| p95 vs floor |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(result.row(floor))
    target = results[2]
    met = target.percentile(95) <= P95_TARGET_MS and target.errors == 0
    print(
        f"\nTarget (runs endpoint, p95 <= {P95_TARGET_MS:.0f} ms, 0 errors): "
        f"{'met' if met else 'MISSED'} (p95 {target.percentile(95):.1f} ms, "
        f"{target.errors} errors)."
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
