"""Experiment tracking once a run is under way: a lost tracker never costs the run.

The run's results, cache and record live in mlops' own stores; the tracker
(an MLflow server, say) is a copy for people to browse. Its failures are
treated accordingly:

- at the start of a run they are errors: the run stops before any process
  runs, so a wrong URI or a server that is down is seen at once;
- once processes run, the first failure is kept, reported as a
  :class:`TrackingWarning` and on the run record, and tracking stops for the
  rest of the run: a server that is gone would otherwise add a timeout (and
  the client's retries) to every metric of an hours-long run.
"""

from __future__ import annotations

import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from mlops.storage.interfaces.object_store import ObjectStore
from mlops.tracking.experiment_tracker import ExperimentTracker, TrackingError


class TrackingWarning(UserWarning):
    """Tracking stopped during a run; the run itself went on."""


class MidRunTracking:
    """Forwards metrics and the end of the run to ``tracker`` until it first fails."""

    def __init__(
        self, tracker: ExperimentTracker, run_id: str, objects: ObjectStore | None = None
    ) -> None:
        self.tracker = tracker
        self.run_id = run_id
        self.objects = objects  # where artifacts are read from, for trackers that copy them
        self.lost: str | None = None
        # Metrics arrive from executor callbacks, possibly on several threads.
        self._lock = threading.Lock()

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        self._forward(lambda: self.tracker.log_metric(name, value, step))

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._forward(lambda: self.tracker.log_params(params))

    def log_artifacts(self, artifacts: list[dict[str, Any]], folder: str | None = None) -> None:
        """Copy artifacts to a tracker that keeps its own (MLflow); the local tracker reads
        the run record, which lists them already."""
        if self.objects is None or not getattr(self.tracker, "copies_artifacts", False):
            return
        objects = self.objects

        def copy() -> None:
            with tempfile.TemporaryDirectory(prefix="mlops-artifacts-") as staging:
                for entry in artifacts:
                    name = f"{folder}/{entry['name']}" if folder else str(entry["name"])
                    staged = Path(staging) / PurePosixPath(name).name
                    staged.write_bytes(objects.get(str(entry["key"])))
                    self.tracker.log_artifact(staged, name)

        self._forward(copy)

    def end_run(self, status: str) -> None:
        self._forward(lambda: self.tracker.end_run(status))

    def _forward(self, call: Callable[[], None]) -> None:
        with self._lock:
            if self.lost is not None:
                return
            try:
                call()
            except TrackingError as exc:
                self.lost = (
                    f"experiment tracking stopped during run {self.run_id}: {exc.one_line()}"
                )
                warnings.warn(self.lost, TrackingWarning, stacklevel=4)


__all__ = ["MidRunTracking", "TrackingWarning"]
