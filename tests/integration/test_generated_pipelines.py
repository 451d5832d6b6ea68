"""Generated pipelines: the results are the graph's, whatever the executor or worker count."""

from __future__ import annotations

import pytest

import generators as gen
from fixtures.projects import ProjectFactory
from mlops.platform import MLPlatform

pytestmark = pytest.mark.slow

SHAPES = {
    "linear": gen.linear(5),
    "diamond": gen.diamond(),
    "fan": gen.fan_out_fan_in(4),
    **{f"random{seed}": gen.random_dag(8, seed=seed) for seed in range(3)},
}
EXECUTORS = [("sequential", None), ("threads", 1), ("threads", 3)]


@pytest.mark.parametrize("shape", sorted(SHAPES), ids=str)
def test_results_do_not_depend_on_executor_or_worker_count(
    shape: str, generated_project: ProjectFactory
) -> None:
    dag = SHAPES[shape]
    generated_project("generated", dag, params={"scale": 3})
    platform = MLPlatform()
    expected = gen.expected_results(dag, scale=3)

    for executor, workers in EXECUTORS:
        report = platform.run_pipeline_for_project(
            "generated", executor=executor, n_workers=workers, use_cache=False
        )
        assert report.ok, (shape, executor, workers, report.pipeline.failed_process)
        got = {name: report.pipeline.result(name) for name in dag.nodes}
        assert got == expected, (shape, executor, workers)


def test_cache_keys_are_the_same_for_every_executor(generated_project: ProjectFactory) -> None:
    dag = gen.random_dag(8, seed=11)
    generated_project("generated", dag, params={"scale": 2})
    platform = MLPlatform()
    keys = []
    for executor, workers in EXECUTORS:
        report = platform.run_pipeline_for_project(
            "generated", executor=executor, n_workers=workers, use_cache=False
        )
        keys.append({name: record.key for name, record in report.processes.items()})
    assert keys[0] == keys[1] == keys[2]
    assert all(keys[0].values())
