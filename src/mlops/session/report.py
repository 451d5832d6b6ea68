"""What a run returns (:class:`RunReport`), and where its progress goes while it runs.

The scheduler reports each process's record as it settles; the listeners
pass it on to the run record, the experiment tracker (metrics as they come)
and the caller's display, and close the record and the tracker's run with
the run's status.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops.engine.executors import Executor
from mlops.engine.scheduler import PipelineRun
from mlops.runtime.interrupts import held, signal_of
from mlops.tracking.experiment_tracker import flat_params
from mlops.tracking.mid_run_tracking import MidRunTracking
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_records import RunRecorder
from mlops.tracking.status import RunStatus


@dataclass
class RunReport:
    """What ``run_pipeline_for_project`` returns: the run and where it is recorded."""

    project: str
    record: dict[str, Any]
    pipeline: PipelineRun
    warnings: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.pipeline.run_id

    @property
    def status(self) -> RunStatus:
        return self.pipeline.status

    @property
    def processes(self) -> dict[str, ProcessRecord]:
        return self.pipeline.processes

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.COMPLETED

    @property
    def failed_process(self) -> str | None:
        return self.pipeline.failed_process

    def result(self, process: str) -> Any:
        return self.pipeline.result(process)


@dataclass
class RunListeners:
    """Where a run's progress goes: its record, the experiment tracker, the caller's display.

    Made once everything it passes progress to exists; the scheduler is given
    :meth:`update` when it runs.
    """

    recorder: RunRecorder
    tracking: MidRunTracking
    on_update: Callable[[ProcessRecord], None] | None = None
    notes: list[str] = field(default_factory=list)  # the run summary's "warnings"

    def update(self, record: ProcessRecord) -> None:
        self.recorder.update(record)
        if record.status.finished_ok:
            if record.params:  # as <process>.<param>, nested keys joined with dots
                self.tracking.log_params(flat_params({record.name: record.params}))
            if record.artifacts:
                self.tracking.log_artifacts(record.artifacts, folder=record.name)
            for point in record.metrics:
                self.tracking.log_metric(
                    f"{record.name}.{point['name']}", point["value"], point.get("step")
                )
        if self.on_update is not None:
            self.on_update(record)

    def attach_artifacts(self, artifacts: list[dict[str, Any]]) -> None:
        """Files of the whole run (its charts): on the record and to the tracker."""
        if artifacts:
            self.recorder.attach_artifacts(artifacts)
            self.tracking.log_artifacts(artifacts)

    def interrupted(self, exc: BaseException, engine: Executor) -> None:
        """A stop signal (``exc``) ended the run: it is recorded ``interrupted``, and its
        executor let go without waiting (its close would wait for the running processes)."""
        # Written whatever signal comes next: a second Ctrl-C, or the SIGTERM a launcher
        # passes on after the terminal's SIGHUP, must not cut the record short.
        with contextlib.suppress(KeyboardInterrupt), held():
            self.finish(RunStatus.INTERRUPTED, {"message": f"interrupted ({signal_of(exc).name})"})
            engine.abandon()

    def finish(self, status: RunStatus, error: dict[str, Any] | None) -> None:
        self.tracking.end_run(status.value)
        if self.tracking.lost:
            self.notes.append(self.tracking.lost)  # before the summary is written
        self.recorder.finish(status, error=error)


__all__ = ["RunListeners", "RunReport"]
