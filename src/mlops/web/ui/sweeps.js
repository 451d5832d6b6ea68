// A project's sweeps: the list above its runs, and a sweep's own page (its points best
// first, the metric against each swept parameter, every parameter and the metric at once).
"use strict";

const MODEL_PARAMETERS = "model.parameters.";

// "model.parameters.learning_rate" -> "learning_rate": the name a process takes it by.
function paramLabel(key) {
  return key.startsWith(MODEL_PARAMETERS) ? key.slice(MODEL_PARAMETERS.length) : key;
}

function sweepPath(projectId, sweepId) {
  return `#/projects/${encodeURIComponent(projectId)}/sweeps/${encodeURIComponent(sweepId)}`;
}

function showSweepList(projectId, sweeps) {
  const section = document.getElementById("sweeps-list");
  section.hidden = !sweeps.length;
  const body = document.querySelector("#sweeps tbody");
  body.replaceChildren(...sweeps.map((sweep) => {
    const best = sweep.best ? `${sweep.metric} = ${shown(sweep.best.metric)}` : "-";
    const failed = sweep.counts.failed ? `, ${sweep.counts.failed} failed` : "";
    return el("tr", { "data-sweep": sweep.sweep_id },
      el("td", { class: "nowrap" }, el("a", { href: sweepPath(projectId, sweep.sweep_id) }, sweep.sweep_id)),
      el("td", {}, sweep.name || "-"), el("td", {}, sweep.method || ""),
      el("td", { class: `status ${sweep.status}` }, String(sweep.status || "").replaceAll("_", " ")),
      el("td", { class: "nowrap" }, when(sweep.started_at)),
      el("td", {}, `${sweep.counts.points}${failed}`), el("td", {}, best));
  }));
}

function sweepHeadline(sweep) {
  const counts = sweep.counts;
  const failed = counts.failed ? `, ${counts.failed} failed` : "";
  const ranked = sweep.metric ? `${sweep.goal} ${sweep.metric}` : "no metric to rank by";
  const best = sweep.best
    ? `; best #${sweep.best.index}: ${sweep.metric} = ${shown(sweep.best.metric)} (` +
      Object.entries(sweep.best.params).map(([k, v]) => `${paramLabel(k)}=${shown(v)}`).join(", ") + ")"
    : "";
  return `${sweep.method}, ${counts.points} points${failed}; ${ranked}; ` +
    `${String(sweep.status).replaceAll("_", " ")}${best}`;
}

async function showSweep(projectId, sweepId) {
  const sweep = await api(`${projectPath(projectId)}/sweeps/${encodeURIComponent(sweepId)}`);
  const back = document.getElementById("sweep-back");
  back.href = `#/projects/${encodeURIComponent(projectId)}`;
  back.textContent = `all runs of ${projectId}`;
  document.getElementById("sweep-title").textContent =
    `Sweep ${sweep.sweep_id}${sweep.name ? ` (${sweep.name})` : ""}`;
  document.getElementById("sweep-summary").textContent = sweepHeadline(sweep);
  drawPointsTable(projectId, sweep);
  const completed = sweep.points.filter((p) => p.status === "completed").map((p) => p.run_id);
  const compare = document.getElementById("sweep-compare");
  compare.hidden = completed.length < 2;
  compare.textContent = `compare the ${completed.length} completed points`;
  compare.href = `#/projects/${encodeURIComponent(projectId)}/compare/${completed.map(encodeURIComponent).join(",")}`;
  const runs = document.getElementById("sweep-runs");
  runs.href = `#/projects/${encodeURIComponent(projectId)}`;
  runs.onclick = () => filterRunsBySweep(projectId, sweep);
  drawSweepPlots(sweep);
  scheduleRefresh(sweep.status === "running" ? () => showSweep(projectId, sweepId) : null);
}

function drawPointsTable(projectId, sweep) {
  const keys = sweep.parameters;
  const metric = sweep.metric || "metric";
  const head = document.querySelector("#sweep-points thead");
  head.replaceChildren(el("tr", {}, el("th", {}, ""), el("th", {}, "rank"), el("th", {}, "point"),
    ...keys.map((key) => el("th", { title: key, class: "nowrap", "data-column": `param:${key}` }, paramLabel(key))),
    el("th", { class: "nowrap", "data-column": `metric:${metric}` }, `${metric} (${sweep.goal})`),
    el("th", {}, "status"), el("th", {}, "run"), el("th", {}, "reason")));
  const body = document.querySelector("#sweep-points tbody");
  body.replaceChildren(...sweep.points.map((point) => el("tr",
    { class: point.best ? "best" : "", "data-point": point.index, "data-best": String(point.best) },
    el("td", { class: "marker" }, point.best ? "★ best" : ""),
    el("td", {}, point.rank ?? "-"), el("td", {}, `#${point.index}`),
    ...keys.map((key) => el("td", { class: "num", "data-column": `param:${key}` }, shown(point.params[key]))),
    el("td", { class: "num", "data-column": `metric:${metric}` }, shown(point.metric)),
    statusCell(point.status),
    el("td", { class: "nowrap" }, el("a", { href: `#/projects/${encodeURIComponent(projectId)}/runs/${encodeURIComponent(point.run_id)}` }, point.run_id)),
    el("td", { class: "reason" }, point.error || ""))));
}

function drawSweepPlots(sweep) {
  const specs = (sweep.spec && sweep.spec.parameters) || {};
  const metric = sweep.metric || "metric";
  const title = (point) => `#${point.index} ` +
    Object.entries(point.params).map(([k, v]) => `${paramLabel(k)}=${shown(v)}`).join(", ") +
    (point.metric === null ? ` (${point.status})` : `: ${metric} = ${shown(point.metric)}`);
  const scored = sweep.points.filter((p) => typeof p.metric === "number");
  const unscored = sweep.points.length - scored.length;
  document.getElementById("scatter-title").textContent = `${metric} against each parameter` +
    (unscored ? ` (${unscored} point${unscored > 1 ? "s" : ""} without it not drawn)` : "");
  const scatter = document.getElementById("sweep-scatter");
  scatter.replaceChildren(...(scored.length ? sweep.parameters.map((key) => drawScatter({
    name: paramLabel(key), metric, log: Boolean((specs[key] || {}).log),
    points: scored.map((p) => ({ index: p.index, x: p.params[key], y: p.metric, best: p.best, title: title(p) })),
  })) : [el("p", { class: "muted" }, "no point has the metric yet")]));
  const axes = sweep.parameters.map((key) => ({ name: paramLabel(key), log: Boolean((specs[key] || {}).log),
    values: sweep.points.map((p) => p.params[key]) }));
  if (sweep.metric) axes.push({ name: metric, values: sweep.points.map((p) => p.metric) });
  const box = document.getElementById("sweep-parallel");
  box.replaceChildren(drawParallel({
    axes, boxWidth: box.clientWidth,
    points: sweep.points.map((p) => ({ index: p.index, best: p.best, failed: p.metric === null, title: title(p) })),
  }));
}
