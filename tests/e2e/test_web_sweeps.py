"""A real sweep in the browser at 1,400 px: its page, the runs table by sweep, N runs compared.

The project is swept by the real command (``mlops sweep --grid ... --local``, the
threads executor): eight points over two parameters, the two with a negative
rate failing. Every check is made on the page as drawn: labels are whole when no
cell's content is wider than the cell and every plot label lies inside its plot,
and every plot inside the 1,400 px window. Screenshots as in ``test_web_ui.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.browser import CHROMIUM, PageFactory
from fixtures.cli import run_mlops
from fixtures.projects import SWEPT_GRID, SWEPT_PARAMS, SWEPT_PIPELINE, ProjectFactory
from fixtures.servers import Server, mlops_server

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

WIDTH = 1400
RATE, DEPTH = "model.parameters.learning_rate", "model.parameters.depth"
METRIC = "evaluate.accuracy"
# A long list among the run's parameters: each run's comparison column must hold it.
FEATURES = [
    "engines", "passenger_capacity", "crew", "d_check_complete", "moon_clearance_complete",
    "iata_approved", "company_rating", "review_scores_rating", "shuttle_type", "cost_per_km",
]  # fmt: skip

# Everything under `root` as drawn: a cell whose content is wider than the cell, a plot
# label outside its plot, a plot beyond the window's right edge.
CUT_LABELS = """root => {
  const cut = [], right = document.documentElement.clientWidth;
  for (const plot of root.querySelectorAll("svg")) {
    const box = plot.getBoundingClientRect();
    if (!box.width) continue;
    const name = plot.getAttribute("aria-label");
    if (box.right > right + 0.5) cut.push(`plot ${name} ends at ${box.right} px`);
    for (const text of plot.querySelectorAll("text")) {
      const r = text.getBoundingClientRect();
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5
          || r.bottom > box.bottom + 0.5) cut.push(`"${text.textContent}" sticks out of ${name}`);
    }
  }
  for (const cell of root.querySelectorAll("th, td, th button")) {
    if (cell.getBoundingClientRect().width && cell.scrollWidth > cell.clientWidth + 1)
      cut.push(`"${cell.textContent}" is cut: ${cell.scrollWidth} > ${cell.clientWidth} px`);
  }
  return cut;
}"""


@pytest.fixture
def swept(make_project: ProjectFactory, tmp_workspace: Path) -> Iterator[dict[str, Any]]:
    """A plain run, then a sweep of eight points through ``mlops sweep``; and the server."""
    params = {**SWEPT_PARAMS, "feature_columns": FEATURES}
    make_project("tune", SWEPT_PIPELINE, "prepare train\ntrain evaluate", params=params)
    plain = run_mlops(tmp_workspace, "run", "tune", "--local")
    assert plain.returncode == 0, plain.stderr
    grid = run_mlops(tmp_workspace, "sweep", "tune", *SWEPT_GRID, "--executor", "threads",
                     "--local")  # fmt: skip
    assert grid.returncode == 1, grid.stderr  # the two negative rates failed, the rest went on
    shown = run_mlops(tmp_workspace, "sweeps", "tune", "show", "latest", "--json")
    record = json.loads(shown.stdout)
    with mlops_server(tmp_workspace) as server:
        yield {"server": server, "record": record, "best": record["best"]}


def open_wide(open_page: PageFactory, server: Server, path: str) -> Any:
    page = open_page(WIDTH, 1000)
    page.goto(f"{server.url}/{path}")
    return page


def column(page: Any, name: str) -> list[float | None]:
    texts = page.locator(f'#runs tbody td[data-column="{name}"]').all_inner_texts()
    return [None if text == "-" else float(text) for text in texts]


def assert_sorted_with_missing_last(values: list[float | None], *, descending: bool) -> None:
    present = [v for v in values if v is not None]
    assert values == present + [None] * (len(values) - len(present)), values
    assert present == sorted(present, reverse=descending), values


def test_the_sweep_page_shows_its_points_best_first_and_plots_them_with_the_best_marked(
    open_page: PageFactory, swept: dict[str, Any], output_dir: Path
) -> None:
    page = open_wide(open_page, swept["server"], "#/projects/tune")
    sweep_id = swept["record"]["sweep_id"]
    page.locator(f'#sweeps tr[data-sweep="{sweep_id}"] a').click()
    page.locator("#sweep-parallel svg").wait_for()

    rows = page.locator("#sweep-points tbody tr")
    assert rows.count() == 8
    best = page.locator('#sweep-points tr[data-best="true"]')
    assert best.count() == 1
    assert best.get_attribute("data-point") == str(swept["best"]["index"])
    assert rows.first.get_attribute("data-best") == "true"  # best first
    assert "best" in (rows.first.get_attribute("class") or "")
    assert rows.first.locator("td").nth(0).inner_text() == "★ best"
    assert rows.first.locator(f'td[data-column="param:{RATE}"]').inner_text() == "0.1"
    assert rows.first.locator(f'td[data-column="param:{DEPTH}"]').inner_text() == "6"
    shown = page.locator(f'#sweep-points tbody td[data-column="metric:{METRIC}"]').all_inner_texts()
    scored = [float(v) for v in shown[:6]]
    assert scored == sorted(scored, reverse=True)  # maximize: highest first
    assert shown[6:] == ["-", "-"]
    reasons = page.locator("#sweep-points tbody td.reason").all_inner_texts()
    assert all("learning_rate must not be negative" in r for r in reasons[6:])
    assert "maximize evaluate.accuracy" in page.locator("#sweep-summary").inner_text()

    # The metric against each swept parameter: six dots each, the best one marked.
    for name in ("learning_rate", "depth"):
        plot = page.locator(f'#sweep-scatter svg[data-param="{name}"]')
        assert plot.locator("circle").count() == 6
        marked = plot.locator("circle.best")
        assert marked.count() == 1
        assert marked.get_attribute("data-point") == str(swept["best"]["index"])
        assert float(marked.get_attribute("r") or 0) > float(
            plot.locator("circle:not(.best)").first.get_attribute("r") or 0
        )
    # Every parameter and the metric: a line per point, the best one marked and on top.
    parallel = page.locator("#sweep-parallel svg")
    assert parallel.locator("polyline").count() == 8
    assert parallel.locator("polyline.failed").count() == 2
    line = parallel.locator("polyline.best")
    assert line.count() == 1
    assert line.get_attribute("data-point") == str(swept["best"]["index"])
    assert parallel.locator("polyline").last.get_attribute("data-best") == "true"
    axes = parallel.locator("text.axis-name").evaluate_all("ts => ts.map(t => t.textContent)")
    assert axes == ["learning_rate", "depth", METRIC]

    assert page.evaluate(CUT_LABELS, page.locator("#sweep-view").element_handle()) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    page.screenshot(path=str(output_dir / "sweep-page.png"), full_page=True)
    assert (output_dir / "sweep-page.png").stat().st_size > 10_000

    # From the sweep to its runs: the runs table of its points, with its columns.
    page.locator("#sweep-runs").click()
    page.locator(f'#runs th[data-column="metric:{METRIC}"]').wait_for()
    assert page.locator("#runs tbody tr").count() == 8
    assert page.locator("#sweep-filter").input_value() == sweep_id


def test_the_runs_table_filters_by_sweep_with_sortable_parameter_and_metric_columns(
    open_page: PageFactory, swept: dict[str, Any], output_dir: Path
) -> None:
    page = open_wide(open_page, swept["server"], "#/projects/tune")
    page.locator("#runs tbody tr").first.wait_for()
    assert page.locator("#runs tbody tr").count() == 9

    page.locator("#sweep-filter").select_option(swept["record"]["sweep_id"])
    metric = page.locator(f'#runs th[data-column="metric:{METRIC}"]')
    metric.wait_for()
    assert page.locator("#runs tbody tr").count() == 8
    assert page.locator("#runs-total").inner_text().startswith("8 runs of sweep")
    header = page.locator("#runs thead th").evaluate_all(
        "cells => cells.map(c => c.getAttribute('data-column'))"
    )
    assert header[2:5] == [f"param:{RATE}", f"param:{DEPTH}", f"metric:{METRIC}"]
    # Ranked by the sweep's goal at first (maximize: highest first), the failed points last.
    assert metric.get_attribute("aria-sort") == "descending"
    assert_sorted_with_missing_last(column(page, f"metric:{METRIC}"), descending=True)
    top = page.locator("#runs tbody tr").first
    assert top.locator(f'td[data-column="param:{RATE}"]').inner_text() == "0.1"

    metric.locator("button.sort").click()
    page.locator(f'#runs th[data-column="metric:{METRIC}"][aria-sort="ascending"]').wait_for()
    assert_sorted_with_missing_last(column(page, f"metric:{METRIC}"), descending=False)

    page.locator(f'#runs th[data-column="param:{RATE}"] button.sort').click()
    page.locator(f'#runs th[data-column="param:{RATE}"][aria-sort="ascending"]').wait_for()
    assert column(page, f"param:{RATE}") == [-0.1, -0.1, 0.05, 0.05, 0.1, 0.1, 0.3, 0.3]
    assert page.evaluate(CUT_LABELS, page.locator("#runs").element_handle()) == []
    # The whole table on screen at 1,400 px: nothing scrolled out of its box.
    assert page.locator("#runs-scroll").evaluate("box => box.scrollWidth <= box.clientWidth")
    page.screenshot(path=str(output_dir / "runs-by-sweep.png"), full_page=True)

    # Any parameter or metric of the runs can be added as a column, and removed.
    page.locator("#add-column").select_option("metric:train.loss")
    added = page.locator('#runs th[data-column="metric:train.loss"]')
    added.wait_for()
    assert len(column(page, "metric:train.loss")) == 8
    added.locator("button.remove").click()
    added.wait_for(state="detached")

    page.locator("#sweep-filter").select_option("")
    page.locator("#runs tbody tr").nth(8).wait_for()
    assert page.locator("#runs tbody tr").count() == 9


def test_n_runs_compared_at_1400_px_keep_the_first_column_and_every_label_whole(
    open_page: PageFactory, swept: dict[str, Any], output_dir: Path
) -> None:
    page = open_wide(
        open_page, swept["server"], f"#/projects/tune/sweeps/{swept['record']['sweep_id']}"
    )
    # The page's own text stands until the sweep is read: wait for the count.
    link = page.locator("#sweep-compare", has_text="compare the 6 completed points")
    link.wait_for()
    link.click()
    features = page.locator('#comparison tr[data-key="params:run.feature_columns"]')
    features.wait_for()
    runs = page.locator("#comparison thead th.run")
    assert runs.count() == 6
    # The pipeline graph beside the runs: every process label inside its box, on screen.
    page.wait_for_function("document.querySelectorAll('#graph g[data-process]').length === 3")
    labels = page.evaluate(
        """() => [...document.querySelectorAll("#graph g[data-process]")].map(g => {
             const box = g.querySelector("rect").getBoundingClientRect();
             const label = g.querySelector("text").getBoundingClientRect();
             return label.left >= box.left && label.right <= box.right - 4
               && box.right <= document.documentElement.clientWidth;
           })"""
    )
    assert labels == [True] * 3

    scroller = page.locator("#comparison-scroll")
    view = scroller.bounding_box()
    assert view is not None
    assert view["x"] + view["width"] <= WIDTH
    # Each run has a column of one width: the long list wraps inside the first run's
    # cell, and the second run's column is on screen beside it.
    widths = {round(box["width"]) for box in (runs.nth(i).bounding_box() for i in range(6)) if box}
    assert len(widths) == 1, widths
    second = runs.nth(1).bounding_box()
    assert second is not None
    assert second["x"] + second["width"] <= view["x"] + view["width"]
    value = features.locator("td.value").first
    assert value.inner_text().startswith('["engines", "passenger_capacity"')
    one_line = page.locator('#comparison tr[data-key="params:run.depth"]').bounding_box()
    wrapped = features.bounding_box()
    assert one_line is not None
    assert wrapped is not None
    assert wrapped["height"] > 2 * one_line["height"]
    assert page.evaluate(CUT_LABELS, page.locator("#compare-view").element_handle()) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    page.screenshot(path=str(output_dir / "compare-6-runs.png"), full_page=True)

    # Scrolled to the last run: the parameter names stay where they were, the last run shows.
    key = features.locator("td.key")
    before = key.bounding_box()
    scroller.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    page.wait_for_function("box => box.scrollLeft > 0", arg=scroller.element_handle())
    after = key.bounding_box()
    last = runs.nth(5).bounding_box()
    assert before is not None
    assert after is not None
    assert last is not None
    assert abs(after["x"] - before["x"]) < 1
    assert last["x"] >= after["x"] + after["width"] - 1
    assert last["x"] + last["width"] <= view["x"] + view["width"] + 1
    assert runs.nth(5).evaluate("th => th.scrollWidth <= th.clientWidth")
    page.locator("#compare-view").screenshot(path=str(output_dir / "compare-6-runs-scrolled.png"))
    assert (output_dir / "compare-6-runs.png").stat().st_size > 10_000
