"""Shared by the benchmark scripts: how a measurement is taken."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` runs of ``action``, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


#: The CPU-bound work benchmarks give their processes: pure Python, no I/O, so
#: it holds the GIL and only processes run it side by side.
BURN = """
def burn(loops):
    total = 0
    for i in range(loops):
        total += i * i % 7
    return total
"""


def burn_loops(seconds: float) -> int:
    """How many loops of :data:`BURN`'s ``burn`` take about ``seconds`` of CPU here."""
    namespace: dict[str, Any] = {}
    exec(BURN, namespace)  # noqa: S102 - this module's own constant
    loops = 200_000
    while True:
        started = time.process_time()
        namespace["burn"](loops)
        took = time.process_time() - started
        if took > 0.2:
            return int(loops * seconds / took)
        loops *= 2
