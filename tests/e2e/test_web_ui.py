"""The packaged UI in a real headless Chromium against ``mlops serve`` on loopback.

Runs in ``nox -s e2e`` (or with MLOPS_TEST_BROWSER=1): Playwright's client
drives the system's Chromium (``fixtures.browser``); no browser is downloaded.
Skipped with the reason where either is missing. Screenshots go to
``$MLOPS_E2E_OUTPUT`` (the e2e session points it at ``.nox/_e2e``), else the
test's temp folder.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from fixtures.browser import CHROMIUM
from fixtures.projects import CHARTED_PIPELINE, CHARTS, ProjectFactory
from fixtures.servers import Server, mlops_server
from mlops.session.platform import MLPlatform
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.run_records import RunRecorder, new_run_id
from mlops.tracking.status import ProcessStatus, RunStatus

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (the e2e dependency group)"
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no Chromium (apt-get install chromium, or set MLOPS_CHROMIUM)"
    ),
]


@pytest.fixture
def runs(make_project: ProjectFactory, tmp_workspace: Path) -> dict[str, str]:
    """A completed run, then one where ``train`` fails (prepare reused, report skipped)."""
    adjlist = "prepare train\ntrain report"
    make_project("demo", CHARTED_PIPELINE, adjlist, extra=CHARTS)
    platform = MLPlatform()
    completed = platform.run_pipeline_for_project("demo")
    # A parameter of train alone: prepare's key is unchanged, so it is reused.
    make_project(
        "demo",
        CHARTED_PIPELINE,
        adjlist,
        extra=CHARTS,
        processes={"train": {"params": {"fail": True}}},
    )
    failed = platform.run_pipeline_for_project("demo")
    assert completed.ok
    assert not failed.ok
    return {"completed": completed.run_id, "failed": failed.run_id}


def graph_statuses(page: Any) -> dict[str, str]:
    groups = page.locator("#graph g[data-process]")
    return {
        groups.nth(i).get_attribute("data-process"): groups.nth(i).get_attribute("data-status")
        for i in range(groups.count())
    }


def wait_for_graph(page: Any, expected: dict[str, str]) -> None:
    page.wait_for_function(
        """expected => Object.entries(expected).every(([name, status]) =>
             document.querySelector(`#graph g[data-process="${name}"]`)
               ?.getAttribute("data-status") === status)""",
        arg=expected,
    )


def test_a_run_opened_in_the_browser_shows_its_graph_statuses_metrics_and_charts(
    page: Any, runs: dict[str, str], tmp_workspace: Path, output_dir: Path
) -> None:
    with mlops_server(tmp_workspace) as server:
        page.goto(server.url + "/")
        project = page.locator('a[data-project="demo"]')
        project.wait_for()
        assert "custom" in project.inner_text()

        project.click()
        page.locator(f'#runs tr[data-run="{runs["completed"]}"]').wait_for()
        assert page.locator("#runs tbody tr").count() == 2
        # The newest run is selected first: train failed, prepare reused, report skipped.
        failed = {"prepare": "cached", "train": "failed", "report": "skipped"}
        wait_for_graph(page, failed)
        assert graph_statuses(page) == failed
        assert "diverged" in page.locator('#processes tr[data-process="train"]').inner_text()
        page.screenshot(path=str(output_dir / "failed-run.png"), full_page=True)

        page.locator(f'#runs tr[data-run="{runs["completed"]}"]').click()
        completed = dict.fromkeys(failed, "completed")
        wait_for_graph(page, completed)
        assert page.locator("#run-title").inner_text().endswith("completed")
        assert page.locator("#metrics tbody tr").count() == 4  # rows of prepare, loss at steps 0..2

        image = page.locator('figure[data-chart="loss"] img')
        image.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert image.evaluate("img => img.naturalWidth") > 100
        dynamic = page.locator('figure[data-chart="loss_data"]')
        points = dynamic.locator("polyline").get_attribute("points")
        assert points is not None
        assert len(points.split()) == 3  # loss at steps 0..2, as a line
        assert dynamic.locator("circle").count() == 3  # and as a scatter
        labels = dynamic.locator("text").evaluate_all("nodes => nodes.map(n => n.textContent)")
        assert {"step", "loss", "loss (points)"} <= set(labels)
        assert dynamic.locator("line.axis").count() == 2
        page.screenshot(path=str(output_dir / "completed-run.png"), full_page=True)

    assert (output_dir / "completed-run.png").stat().st_size > 10_000


def test_two_runs_picked_in_the_browser_are_compared_side_by_side(
    page: Any, runs: dict[str, str], tmp_workspace: Path, output_dir: Path
) -> None:
    with mlops_server(tmp_workspace) as server:
        page.goto(server.url + "/#/projects/demo")
        for run_id in (runs["completed"], runs["failed"]):
            page.locator(f'input.pick[data-run="{run_id}"]').check()
        button = page.locator("#compare-button")
        assert button.inner_text() == "Compare selected (2)"
        button.click()

        fail = page.locator('#comparison tr[data-key="params:train.fail"]')
        fail.wait_for()
        header = page.locator("#comparison thead th").all_inner_texts()
        assert header[2:] == [runs["completed"], runs["failed"]]
        # train's own parameter: unset in the first run, true in the second; marked.
        assert fail.locator("td").all_inner_texts() == ["≠", "param train.fail", "-", "true"]
        loss = page.locator('#comparison tr[data-key="metrics:train.loss"]')
        assert loss.locator("td").first.inner_text() == "≠"
        rows = page.locator('#comparison tr[data-key="metrics:prepare.rows"]')
        assert rows.locator("td").all_inner_texts() == ["", "metric prepare.rows", "10", "10"]
        # The metric that differs is drawn across the runs: one point (train failed in the other).
        assert page.locator("#metric-choice").input_value() == "train.loss"
        assert page.locator("#metric-chart circle").count() == 1
        page.screenshot(path=str(output_dir / "compare-runs.png"), full_page=True)

        page.locator("#only-changed").check()
        assert rows.count() == 0
        assert fail.count() == 1

        page.locator(f'#runs tr[data-run="{runs["failed"]}"] td.nowrap').first.click()
        page.locator('#params tr:has-text("fail")').wait_for()
        assert page.locator("#compare-view").is_hidden()
        page.screenshot(path=str(output_dir / "run-params.png"), full_page=True)

    assert (output_dir / "compare-runs.png").stat().st_size > 10_000


WIDE_PIPELINE = "\n".join(
    ["from mlops import process"]
    + [
        f"@process\ndef {name}(ctx):\n    return {index}\n"
        for index, name in enumerate(
            ["load_raw_companies", "load_raw_shuttles", "load_raw_reviews"]
            + [f"preprocess_step_number_{i}" for i in range(12)]
        )
    ]
)


def test_a_graph_of_fifteen_processes_keeps_every_name_and_edge_visible(
    page: Any, make_project: ProjectFactory, tmp_workspace: Path, output_dir: Path
) -> None:
    # Three sources feeding a chain of twelve, one edge skipping several columns.
    chain = [f"preprocess_step_number_{i}" for i in range(12)]
    adjlist = "\n".join(
        [f"load_raw_companies {chain[0]} {chain[7]}", f"load_raw_shuttles {chain[0]}",
         f"load_raw_reviews {chain[0]}"]
        + [f"{a} {b}" for a, b in itertools.pairwise(chain)]
    )  # fmt: skip
    make_project("wide", WIDE_PIPELINE, adjlist)
    assert MLPlatform().run_pipeline_for_project("wide").ok
    with mlops_server(tmp_workspace) as server:
        page.goto(server.url + "/#/projects/wide")
        wait_for_graph(page, {"preprocess_step_number_11": "completed"})
        # As drawn on the screen: each label whole, inside its box, at a readable size,
        # and no two boxes overlapping.
        fits = page.evaluate(
            """() => [...document.querySelectorAll("#graph g[data-process]")].map(g => {
                 const box = g.querySelector("rect").getBoundingClientRect();
                 const text = g.querySelector("text");
                 const label = text.getBoundingClientRect();
                 return {name: g.getAttribute("data-process"), label: text.textContent,
                         inside: label.right <= box.right - 4 && label.left >= box.left,
                         height: label.height, box: [box.left, box.top, box.right, box.bottom]};
               })"""
        )
        assert len(fits) == 15
        for node in fits:
            assert node["label"] == f"{node['name']} · completed"  # whole, the tables' word
            assert node["inside"], f"{node['name']}'s label overflows its box"
            assert node["height"] >= 11, f"{node['name']}'s label is shrunk ({node['height']} px)"
        boxes = [node["box"] for node in fits]
        for i, (l1, t1, r1, b1) in enumerate(boxes):
            for l2, t2, r2, b2 in boxes[i + 1 :]:
                assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, "two boxes overlap"
        # Every edge is drawn after (above) every node, so none hides behind a box.
        order = page.evaluate(
            """() => [...document.querySelector("#graph svg").children]
                 .filter(n => n.matches("g[data-process], path.edge"))
                 .map(n => n.tagName)"""
        )
        assert order == ["g"] * 15 + ["path"] * 15
        page.screenshot(path=str(output_dir / "wide-graph.png"), full_page=True)


def test_the_page_follows_a_run_in_progress_until_it_finishes(
    page: Any, runs: dict[str, str], tmp_workspace: Path
) -> None:
    platform = MLPlatform()
    _, config = platform.load("demo")
    graph = platform.graph("demo", config)
    stores = platform.open_stores("demo", config)
    recorder = RunRecorder(stores.kv, run_id=new_run_id(), project="demo", graph=graph)
    try:
        recorder.update(ProcessRecord("prepare", ProcessStatus.CACHED, cache_hit=True))
        recorder.update(ProcessRecord("train", ProcessStatus.RUNNING))
        with mlops_server(tmp_workspace) as server:
            page.goto(f"{server.url}/#/projects/demo")
            running = f'#runs tr[data-run="{recorder.run_id}"] td.status.running'
            page.locator(running).wait_for()
            wait_for_graph(page, {"prepare": "cached", "train": "running", "report": "pending"})

            for name in ("train", "report"):
                recorder.update(ProcessRecord(name, ProcessStatus.COMPLETED, duration=0.1))
            recorder.finish(RunStatus.COMPLETED)

            # No reload: the page polls while a run is in progress.
            page.locator(f'#runs tr[data-run="{recorder.run_id}"] td.status.completed').wait_for()
            wait_for_graph(page, {"prepare": "cached", "train": "completed", "report": "completed"})
    finally:
        stores.kv.close()
        stores.objects.close()


def test_a_token_guarded_server_serves_the_page_only_with_its_token(
    page: Any, runs: dict[str, str], tmp_workspace: Path
) -> None:
    token = "e2e-secret-token"  # noqa: S105 - a test token
    with mlops_server(tmp_workspace, token=token) as server:
        page.goto(f"{server.url}/?token={token}#/projects/demo")
        page.locator(f'#runs tr[data-run="{runs["completed"]}"]').click()
        image = page.locator('figure[data-chart="loss"] img')
        image.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )

        _expect_refused(page, server)


def _expect_refused(page: Any, server: Server) -> None:
    """Without the token the API answers 401 and the page shows it, in one line."""
    other = page.context.new_page()
    try:
        other.goto(server.url + "/")
        error = other.locator("#error")
        error.wait_for()
        assert error.inner_text().startswith("401")
    finally:
        other.close()
