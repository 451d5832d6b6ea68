"""Generated pipelines: results follow the graph, whatever the executor or worker count,
and a change reruns exactly what depends on it."""

from __future__ import annotations

import pytest

import generators as gen
from fixtures.projects import ProjectFactory
from mlops.session.platform import MLPlatform, RunReport

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


def statuses(report: RunReport) -> dict[str, str]:
    return {name: record.status.value for name, record in report.processes.items()}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("change", ["code", "params", "comment"])
def test_a_change_reruns_exactly_the_changed_process_and_its_descendants(
    seed: int, change: str, make_project: ProjectFactory
) -> None:
    """Cache keys are stable for equal inputs and change with code, params or upstream."""
    dag = gen.random_dag(8, edge_probability=0.4, seed=seed)
    # A node in the middle: with upstream processes (reused) and descendants (rerun).
    middle = [n for n in dag.nodes if dag.upstream(n) and dag.descendants(n)]
    changed = middle[seed % len(middle)]
    make_project("keys", gen.pipeline_source(dag), dag.adjlist(), params={"scale": 2})
    platform = MLPlatform()
    first = platform.run_pipeline_for_project("keys", executor="sequential")
    assert set(statuses(first).values()) == {"completed"}
    again = platform.run_pipeline_for_project("keys", executor="sequential")
    assert set(statuses(again).values()) == {"cached"}  # equal inputs, equal keys

    source, processes = gen.pipeline_source(dag), None
    if change == "code":
        source = gen.pipeline_source(dag, weights={changed: 1000})
    elif change == "params":
        processes = {changed: {"params": {"scale": 5}}}
    else:  # a comment is not code: nothing reruns
        source = source.replace(f"def {changed}(", f"# why: a note\ndef {changed}(")
    make_project("keys", source, dag.adjlist(), params={"scale": 2}, processes=processes)
    after = platform.run_pipeline_for_project("keys", executor="sequential")

    rerun = set() if change == "comment" else {changed} | dag.descendants(changed)
    assert {n for n, s in statuses(after).items() if s == "completed"} == rerun
    assert {n for n, s in statuses(after).items() if s == "cached"} == set(dag.nodes) - rerun
    if rerun:
        reason = after.processes[changed].reason or ""
        assert ("code changed" if change == "code" else "parameters changed") in reason, reason
        for name in dag.descendants(changed):
            assert "upstream results changed" in (after.processes[name].reason or ""), name
