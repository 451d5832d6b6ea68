// The runs table: the run's own fields, chosen parameter and metric columns, sorted by any
// of them (by the server, before the page is cut) and filtered to one sweep's points.
"use strict";

const FIELDS = [
  { key: "run_id", label: "run" }, { key: "status", label: "status" },
  { key: "started_at", label: "started" }, { key: "duration", label: "duration" },
];
const table = { project: null, sweep: "", params: [], metrics: [], sort: "started_at", order: "desc" };
let knownSweeps = [];

function resetTable(projectId) {
  if (table.project === projectId) return;
  Object.assign(table, { project: projectId, sweep: "", params: [], metrics: [], sort: "started_at", order: "desc" });
}

function runsQuery() {
  const query = new URLSearchParams({ limit: "50", sort: table.sort, order: table.order });
  if (table.sweep) query.set("sweep", table.sweep);
  for (const name of table.params) query.append("param", name);
  for (const name of table.metrics) query.append("metric", name);
  return query.toString();
}

async function loadRuns(projectId) {
  return api(`${projectPath(projectId)}/runs?${runsQuery()}`);
}

// Only the points of `sweep`, with its parameters and metric as columns, best first.
function filterRunsBySweep(projectId, sweep) {
  resetTable(projectId);
  table.sweep = sweep.sweep_id;
  table.params = [...sweep.parameters];
  table.metrics = sweep.metric ? [sweep.metric] : [];
  if (sweep.metric) Object.assign(table, { sort: `metric:${sweep.metric}`, order: sweep.goal === "maximize" ? "desc" : "asc" });
}

function columnLabel(column) {
  const [kind, ...rest] = column.split(":");
  const name = rest.join(":");
  return kind === "param" ? paramLabel(name) : name;
}

function sortBy(projectId, column, runId) {
  if (table.sort === column) table.order = table.order === "asc" ? "desc" : "asc";
  else Object.assign(table, { sort: column, order: column === "started_at" ? "desc" : "asc" });
  refreshRuns(projectId, runId).catch(showError);
}

function removeColumn(projectId, column, runId) {
  const [kind, ...rest] = column.split(":");
  const name = rest.join(":");
  if (kind === "param") table.params = table.params.filter((p) => p !== name);
  else table.metrics = table.metrics.filter((m) => m !== name);
  if (table.sort === column) Object.assign(table, { sort: "started_at", order: "desc" });
  refreshRuns(projectId, runId).catch(showError);
}

function sortableHeader(projectId, column, text, runId, removable) {
  const sorted = table.sort === column;
  const arrow = sorted ? (table.order === "asc" ? " ▲" : " ▼") : "";
  const th = el("th", { "data-column": column, "aria-sort": sorted ? (table.order === "asc" ? "ascending" : "descending") : "none",
    title: column.includes(":") ? column.split(":").slice(1).join(":") : text },
  el("button", { type: "button", class: "sort", onclick: () => sortBy(projectId, column, runId) }, text + arrow));
  if (removable) {
    th.append(el("button", { type: "button", class: "remove", "aria-label": `remove column ${text}`,
      onclick: () => removeColumn(projectId, column, runId) }, "×"));
  }
  return th;
}

function chosenColumns() {
  return [...table.params.map((p) => `param:${p}`), ...table.metrics.map((m) => `metric:${m}`)];
}

function drawRunsTable(projectId, runs, runId) {
  const columns = chosenColumns();
  const field = (key) => FIELDS.find((f) => f.key === key);
  document.querySelector("#runs thead tr").replaceChildren(
    el("th", {}, el("span", { class: "muted" }, "pick")),
    sortableHeader(projectId, "run_id", field("run_id").label, runId, false),
    ...columns.map((column) => sortableHeader(projectId, column, columnLabel(column), runId, true)),
    ...["status", "started_at", "duration"].map((key) => sortableHeader(projectId, key, field(key).label, runId, false)),
    el("th", {}, "processes"));
  const body = document.querySelector("#runs tbody");
  body.replaceChildren();
  for (const run of runs.runs) {
    const counts = Object.entries(run.counts || {}).map(([k, v]) => `${v} ${k}`).join(", ");
    const pick = el("input", {
      type: "checkbox", class: "pick", "data-run": run.run_id, "aria-label": `compare ${run.run_id}`,
      onclick: (event) => {
        event.stopPropagation();
        if (event.target.checked) picked.add(run.run_id); else picked.delete(run.run_id);
        updateCompareButton(projectId);
      },
    });
    pick.checked = picked.has(run.run_id);
    const chosen = run.columns || { params: {}, metrics: {} };
    const values = columns.map((column) => {
      const [kind, ...rest] = column.split(":");
      const value = (kind === "param" ? chosen.params : chosen.metrics)[rest.join(":")];
      return el("td", { class: "num", "data-column": column }, shown(value));
    });
    body.append(el("tr", {
      class: "selectable" + (run.run_id === runId ? " selected" : ""),
      "data-run": run.run_id,
      onclick: () => { window.location.hash = `#/projects/${encodeURIComponent(projectId)}/runs/${run.run_id}`; },
    }, el("td", {}, pick), el("td", { class: "nowrap" }, run.run_id), ...values, statusCell(run.status),
       el("td", { class: "nowrap" }, when(run.started_at)),
       el("td", { class: "num" }, seconds(run.duration)), el("td", {}, counts)));
  }
  const sweep = knownSweeps.find((s) => s.sweep_id === runs.sweep);
  document.getElementById("runs-total").textContent =
    `${runs.runs.length < runs.total ? `${runs.runs.length} of ` : ""}${runs.total} run${runs.total === 1 ? "" : "s"}` +
    (sweep ? ` of sweep ${sweep.name || sweep.sweep_id}` : "");
  drawToolbar(projectId, runs, runId);
}

function drawToolbar(projectId, runs, runId) {
  const filter = document.getElementById("sweep-filter");
  filter.replaceChildren(el("option", { value: "" }, "all runs"), ...knownSweeps.map((sweep) =>
    el("option", { value: sweep.sweep_id }, `${sweep.name ? `${sweep.name}: ` : ""}${sweep.sweep_id} (${sweep.counts.points} points)`)));
  filter.value = runs.sweep || "";
  filter.onchange = () => {
    const sweep = knownSweeps.find((s) => s.sweep_id === filter.value);
    if (sweep) filterRunsBySweep(projectId, sweep);
    else table.sweep = "";
    refreshRuns(projectId, runId).catch(showError);
  };
  const link = document.getElementById("sweep-link");
  link.hidden = !runs.sweep;
  if (runs.sweep) link.href = sweepPath(projectId, runs.sweep);
  const add = document.getElementById("add-column");
  const available = runs.available || { params: [], metrics: [] };
  const group = (label, kind, names, chosen) => el("optgroup", { label },
    ...names.filter((name) => !chosen.includes(name)).map((name) => el("option", { value: `${kind}:${name}` }, name)));
  add.replaceChildren(el("option", { value: "" }, "add a parameter or metric"),
    group("parameters", "param", available.params, table.params),
    group("metrics", "metric", available.metrics, table.metrics));
  add.value = "";
  add.onchange = () => {
    const [kind, ...rest] = add.value.split(":");
    const name = rest.join(":");
    if (kind === "param") table.params.push(name);
    else if (kind === "metric") table.metrics.push(name);
    refreshRuns(projectId, runId).catch(showError);
  };
}

async function refreshRuns(projectId, runId) {
  const runs = await loadRuns(projectId);
  drawRunsTable(projectId, runs, runId);
  return runs;
}
