// The mlops UI: plain JavaScript over the JSON API, no dependencies, works offline.
"use strict";

const params = new URLSearchParams(window.location.search);
const token = params.get("token");
let refreshTimer = null;

function withToken(url) {
  if (!token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

async function api(path) {
  const headers = token ? { "X-Mlops-Token": token } : {};
  const response = await fetch(path, { headers });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.json();
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function showError(error) {
  const box = document.getElementById("error");
  box.textContent = String(error.message || error);
  box.hidden = false;
}

function seconds(value) {
  return value === undefined || value === null ? "" : `${Number(value).toFixed(2)} s`;
}

// "2026-11-21T11:03:35.294+00:00" -> "2026-11-21 11:03:35" in the viewer's time zone.
function when(stamp) {
  if (!stamp) return "";
  const date = new Date(stamp);
  if (Number.isNaN(date.getTime())) return stamp;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function statusCell(status) {
  return el("td", { class: `status ${status}` }, status || "");
}

// ------------------------------------------------------------------ views

async function showProjects() {
  document.getElementById("projects-view").hidden = false;
  document.getElementById("project-view").hidden = true;
  const list = document.getElementById("projects");
  list.replaceChildren();
  for (const project of await api("/api/projects")) {
    const link = el("a", { href: `#/projects/${encodeURIComponent(project.id)}`, "data-project": project.id },
      el("strong", {}, project.id), el("br"),
      el("span", { class: "muted" }, project.valid ? (project.framework || "custom") : `invalid: ${project.problem}`));
    list.append(el("li", {}, link));
  }
}

async function showProject(projectId, runId) {
  document.getElementById("projects-view").hidden = true;
  document.getElementById("project-view").hidden = false;
  document.getElementById("project-title").textContent = projectId;
  const [runs, graph] = await Promise.all([
    api(`/api/projects/${encodeURIComponent(projectId)}/runs?limit=50`),
    api(`/api/projects/${encodeURIComponent(projectId)}/graph`),
  ]);
  const body = document.querySelector("#runs tbody");
  body.replaceChildren();
  for (const run of runs.runs) {
    const counts = Object.entries(run.counts || {}).map(([k, v]) => `${v} ${k}`).join(", ");
    const row = el("tr", {
      class: "selectable" + (run.run_id === runId ? " selected" : ""),
      "data-run": run.run_id,
      onclick: () => { window.location.hash = `#/projects/${encodeURIComponent(projectId)}/runs/${run.run_id}`; },
    }, el("td", { class: "nowrap" }, run.run_id), statusCell(run.status),
       el("td", { class: "nowrap" }, when(run.started_at)),
       el("td", {}, seconds(run.duration)), el("td", {}, counts));
    body.append(row);
  }
  drawGraph(graph);
  const chosen = runId || (runs.runs[0] && runs.runs[0].run_id);
  if (chosen) await showRun(projectId, chosen);
  const active = runs.runs.some((run) => run.status === "running");
  scheduleRefresh(active ? () => showProject(projectId, runId) : null);
}

function drawGraph(graph) {
  const box = document.getElementById("graph");
  document.getElementById("graph-run").textContent = graph.run_id ? `(run ${graph.run_id})` : "(no runs yet)";
  const width = 150, height = 34, gapX = 40, gapY = 24;
  const position = {};
  graph.generations.forEach((generation, column) => {
    generation.forEach((name, row) => {
      position[name] = { x: 10 + column * (width + gapX), y: 10 + row * (height + gapY) };
    });
  });
  const columns = graph.generations.length;
  const rows = Math.max(1, ...graph.generations.map((g) => g.length));
  const [fullWidth, fullHeight] = [20 + columns * (width + gapX) - gapX, 20 + rows * (height + gapY) - gapY];
  // The viewBox lets a wide graph shrink to the column instead of being cut off.
  const canvas = svg("svg", {
    width: fullWidth, height: fullHeight, viewBox: `0 0 ${fullWidth} ${fullHeight}`, role: "img",
    "aria-label": "pipeline graph",
  });
  for (const edge of graph.edges) {
    const a = position[edge.source], b = position[edge.target];
    canvas.append(svg("line", { x1: a.x + width, y1: a.y + height / 2, x2: b.x, y2: b.y + height / 2 }));
  }
  for (const node of graph.nodes) {
    const p = position[node.id];
    const group = svg("g", { "data-process": node.id });
    group.append(svg("rect", { x: p.x, y: p.y, width, height, rx: 5 }));
    group.append(svg("text", { x: p.x + 8, y: p.y + 21 }));
    group.append(svg("title"));
    canvas.append(group);
    colourNode(group, node.id, node.status);
  }
  box.replaceChildren(canvas);
}

function colourNode(group, name, status) {
  group.setAttribute("data-status", status);
  group.querySelector("rect").setAttribute("class", status);
  group.querySelector("text").textContent = `${name} · ${status}`;
  group.querySelector("title").textContent = `${name}: ${status}`;
}

// The graph shows the selected run: each process coloured by its status in that run.
function colourGraph(run) {
  document.getElementById("graph-run").textContent = `(run ${run.run_id})`;
  for (const group of document.querySelectorAll("#graph g[data-process]")) {
    const name = group.getAttribute("data-process");
    colourNode(group, name, (run.processes[name] || {}).status || "pending");
  }
}

async function showRun(projectId, runId) {
  const base = `/api/projects/${encodeURIComponent(projectId)}/runs/${encodeURIComponent(runId)}`;
  const [run, charts] = await Promise.all([api(base), api(`${base}/charts`)]);
  document.getElementById("run-view").hidden = false;
  document.getElementById("run-title").textContent = `Run ${run.run_id}: ${run.status}`;
  colourGraph(run);
  const processes = document.querySelector("#processes tbody");
  const metrics = document.querySelector("#metrics tbody");
  processes.replaceChildren();
  metrics.replaceChildren();
  for (const [name, entry] of Object.entries(run.processes || {})) {
    processes.append(el("tr", { "data-process": name }, el("td", {}, name), statusCell(entry.status),
      el("td", {}, seconds(entry.duration)), el("td", {}, entry.error || entry.reason || "")));
    for (const point of entry.metrics || []) {
      metrics.append(el("tr", {}, el("td", {}, name), el("td", {}, point.name),
        el("td", {}, point.step ?? ""), el("td", {}, Number(point.value).toPrecision(4))));
    }
  }
  const gallery = document.getElementById("charts");
  gallery.replaceChildren();
  for (const chart of charts) {
    const caption = el("figcaption", {}, chart.title || chart.name);
    if (chart.status !== "rendered") {
      gallery.append(el("figure", { "data-chart": chart.name }, caption, el("p", { class: "error" }, chart.error || "failed")));
    } else if (chart.url) {
      gallery.append(el("figure", { "data-chart": chart.name }, el("img", { src: withToken(chart.url), alt: chart.name }), caption));
    } else {
      gallery.append(el("figure", { "data-chart": chart.name }, drawSeries(chart.data), caption));
    }
  }
}

function drawSeries(data) {
  const width = 360, height = 200, pad = 24;
  const points = (data.series || []).flatMap((s) => s.points || []);
  const xs = points.map((p) => Number(p[0])), ys = points.map((p) => Number(p[1]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + ((x - x0) / ((x1 - x0) || 1)) * (width - 2 * pad);
  const sy = (y) => height - pad - ((y - y0) / ((y1 - y0) || 1)) * (height - 2 * pad);
  const canvas = svg("svg", { width, height, role: "img", "aria-label": "dynamic chart" });
  for (const series of data.series || []) {
    const line = (series.points || []).map((p) => `${sx(Number(p[0]))},${sy(Number(p[1]))}`).join(" ");
    canvas.append(svg("polyline", { points: line }), svg("title", {}, series.name || ""));
  }
  return canvas;
}

function scheduleRefresh(action) {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = action ? setTimeout(() => action().catch(showError), 2000) : null;
}

async function route() {
  document.getElementById("error").hidden = true;
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "projects" && parts[1]) await showProject(parts[1], parts[3]);
    else await showProjects();
  } catch (error) {
    showError(error);
  }
}

window.addEventListener("hashchange", route);
api("/api/health").then((health) => {
  document.getElementById("workspace").textContent = health.workspace;
}).catch(showError);
route();
