"""The engine: a run's plan carried out, process by process.

The scheduler (:mod:`~mlops.engine.scheduler`) walks the plan's graph,
reuses cached results and submits the rest to an executor; each process runs
on a worker (:mod:`~mlops.engine.worker`) through its attempts, in the step
system that gives it its context (:mod:`~mlops.engine.step_system`).
"""
