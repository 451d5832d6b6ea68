// The mlops UI: plain JavaScript over the JSON API, no dependencies, works offline.
"use strict";

const params = new URLSearchParams(window.location.search);
const token = params.get("token");
let refreshTimer = null;
const picked = new Set(); // runs ticked for comparison

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

function projectPath(projectId) {
  return `/api/projects/${encodeURIComponent(projectId)}`;
}

function updateCompareButton(projectId) {
  const button = document.getElementById("compare-button");
  button.disabled = picked.size < 2;
  button.textContent = `Compare selected (${picked.size})`;
  button.onclick = () => {
    const ids = [...picked].map(encodeURIComponent).join(",");
    window.location.hash = `#/projects/${encodeURIComponent(projectId)}/compare/${ids}`;
  };
}

async function showProject(projectId, { runId, compareIds, sweepId } = {}) {
  document.getElementById("projects-view").hidden = true;
  document.getElementById("project-view").hidden = false;
  document.getElementById("project-title").textContent = projectId;
  resetTable(projectId);
  document.getElementById("project-main").hidden = Boolean(sweepId);
  document.getElementById("sweep-view").hidden = !sweepId;
  if (sweepId) {
    await showSweep(projectId, sweepId);
    return;
  }
  const [sweeps, graph] = await Promise.all([
    api(`${projectPath(projectId)}/sweeps`),
    api(`${projectPath(projectId)}/graph`),
  ]);
  knownSweeps = sweeps.sweeps;
  showSweepList(projectId, knownSweeps);
  const runs = await refreshRuns(projectId, runId);
  const problem = document.getElementById("project-problem");
  problem.hidden = graph.valid !== false;
  problem.textContent = graph.valid === false ? `invalid config: ${graph.problem}` : "";
  drawGraph(graph);
  updateCompareButton(projectId);
  if (compareIds) {
    await showComparison(projectId, compareIds);
    return;
  }
  document.getElementById("compare-view").hidden = true;
  const chosen = runId || (runs.runs[0] && runs.runs[0].run_id);
  if (chosen) await showRun(projectId, chosen);
  const active = runs.runs.some((run) => run.status === "running");
  scheduleRefresh(active ? () => showProject(projectId, { runId }) : null);
}

const NODE_TEXT = 12; // px: the graph's process labels

function drawGraph(graph) {
  const box = document.getElementById("graph");
  document.getElementById("graph-run").textContent = graph.run_id ? `(run ${graph.run_id})` : "(no runs yet)";
  // Wide enough for the widest "name · status" as drawn (with the longest status word, which
  // another run may show): names are never cut, and the graph is drawn at its real size
  // (scrolling if it must), never shrunk into unreadable text.
  const widest = Math.max(0, ...graph.nodes.map((n) => measure(`${n.id} · interrupted`, NODE_TEXT)));
  const width = Math.max(150, Math.ceil(20 + widest)), height = 34, gapX = 48, gapY = 30;
  const generations = graph.generations;
  const deepest = Math.max(1, ...generations.map((g) => g.length));
  // Left to right while it fits the column; top to bottom (generations as rows) after.
  const across = 20 + generations.length * (width + gapX) - gapX;
  const vertical = across > Math.max(box.clientWidth, 320);
  const position = {};
  generations.forEach((generation, depth) => {
    generation.forEach((name, index) => {
      position[name] = vertical
        ? { x: 10 + index * (width + gapX), y: 10 + depth * (height + gapY) }
        : { x: 10 + depth * (width + gapX), y: 10 + index * (height + gapY) };
    });
  });
  const [columns, rows] = vertical ? [deepest, generations.length] : [generations.length, deepest];
  const fullWidth = 20 + columns * (width + gapX) - gapX;
  const fullHeight = 20 + rows * (height + gapY) - gapY;
  const canvas = svg("svg", {
    width: fullWidth, height: fullHeight, role: "img", "aria-label": "pipeline graph",
    "data-layout": vertical ? "vertical" : "horizontal",
  });
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 8, refY: 4, markerWidth: 7,
    markerHeight: 7, orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L8,4 L0,8 z" }));
  const defs = svg("defs");
  defs.append(marker);
  canvas.append(defs);
  for (const node of graph.nodes) {
    const p = position[node.id];
    const group = svg("g", { "data-process": node.id });
    group.append(svg("rect", { x: p.x, y: p.y, width, height, rx: 5 }));
    group.append(svg("text", { x: p.x + 8, y: p.y + 21, "font-size": NODE_TEXT }));
    group.append(svg("title"));
    canvas.append(group);
    colourNode(group, node.id, node.status);
  }
  // Edges after the nodes, so one that spans several generations is never hidden behind them.
  for (const edge of graph.edges) {
    const a = position[edge.source], b = position[edge.target];
    let d;
    if (vertical) {
      const [x1, y1, x2, y2] = [a.x + width / 2, a.y + height, b.x + width / 2, b.y];
      const bend = gapY / 2 + 10;
      d = `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`;
    } else {
      const [x1, y1, x2, y2] = [a.x + width, a.y + height / 2, b.x, b.y + height / 2];
      const bend = gapX / 2 + 10;
      d = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
    }
    canvas.append(svg("path", { class: "edge", "marker-end": "url(#arrow)", d }));
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
  const [run, charts, artifacts] = await Promise.all(
    [api(base), api(`${base}/charts`), api(`${base}/artifacts`)]);
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
  const paramRows = document.querySelector("#params tbody");
  paramRows.replaceChildren();
  for (const [key, value] of Object.entries(run.params || {})) {
    paramRows.append(el("tr", {}, el("td", {}, "run"), el("td", {}, key), el("td", {}, shown(value))));
  }
  for (const [name, entry] of Object.entries(run.processes || {})) {
    for (const [key, value] of Object.entries(entry.params || {})) {
      paramRows.append(el("tr", {}, el("td", {}, name), el("td", {}, key), el("td", {}, shown(value))));
    }
  }
  const files = document.getElementById("artifacts");
  files.replaceChildren(...artifacts.map((file) => el("li", { "data-artifact": file.name },
    el("a", { href: withToken(file.url), download: "" }, file.name), ` (${file.size} bytes)`)));
  if (!artifacts.length) files.append(el("li", { class: "muted" }, "none"));
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

// A value as the tables show it: numbers to 6 significant digits, lists and mappings with a
// space after each comma (so a long one wraps in its cell).
function shown(value) {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map(inner).join(", ")}]`;
  if (typeof value === "object") return `{${Object.entries(value).map(([k, v]) => `${k}: ${inner(v)}`).join(", ")}}`;
  return JSON.stringify(value);
}

function inner(value) {
  return typeof value === "string" ? JSON.stringify(value) : shown(value);
}

async function showComparison(projectId, runIds) {
  document.getElementById("run-view").hidden = true;
  const view = document.getElementById("compare-view");
  view.hidden = false;
  runIds.forEach((id) => picked.add(id));
  updateCompareButton(projectId);
  const query = runIds.map((id) => `runs=${encodeURIComponent(id)}`).join("&");
  const comparison = await api(`${projectPath(projectId)}/compare?${query}`);
  document.getElementById("compare-title").textContent = `Comparing ${comparison.runs.length} runs`;
  // The first columns stay put and the runs scroll beside them; each run's column has one
  // width, so a long value wraps in its cell instead of pushing the next run away.
  const grid = document.getElementById("comparison");
  const [markerWidth, keyWidth, runWidth] = [2, 18, 15]; // rem
  grid.querySelector("colgroup").replaceChildren(el("col", { style: `width: ${markerWidth}rem` }),
    el("col", { style: `width: ${keyWidth}rem` }),
    ...comparison.runs.map(() => el("col", { style: `width: ${runWidth}rem` })));
  grid.style.width = `${markerWidth + keyWidth + runWidth * comparison.runs.length}rem`;
  const head = document.querySelector("#comparison thead");
  head.replaceChildren(el("tr", {}, el("th", { class: "marker" }, ""), el("th", { class: "key" }, "parameter or metric"),
    ...comparison.runs.map((id) => el("th", { class: "run", "data-run": id }, id))));
  const body = document.querySelector("#comparison tbody");
  const onlyChanged = document.getElementById("only-changed");
  const fill = () => {
    body.replaceChildren();
    for (const section of ["params", "metrics"]) {
      for (const row of comparison[section]) {
        if (onlyChanged.checked && !row.differs) continue;
        body.append(el("tr", { class: row.differs ? "differs" : "", "data-key": `${section}:${row.key}` },
          el("td", { class: "marker" }, row.differs ? "≠" : ""),
          el("td", { class: "key" }, `${section === "params" ? "param" : "metric"} ${row.key}`),
          ...row.values.map((value) => el("td", { class: "value" }, shown(value)))));
      }
    }
  };
  onlyChanged.onchange = fill;
  fill();
  const choice = document.getElementById("metric-choice");
  const metrics = comparison.metrics;
  choice.replaceChildren(...metrics.map((row) => el("option", { value: row.key }, row.key)));
  const changed = metrics.find((row) => row.differs);
  if (changed) choice.value = changed.key;
  const draw = () => {
    const row = metrics.find((r) => r.key === choice.value);
    const box = document.getElementById("metric-chart");
    box.replaceChildren(
      row ? drawAcrossRuns(row, comparison.runs, box.clientWidth) : el("p", { class: "muted" }, "no metrics"));
  };
  choice.onchange = draw;
  draw();
}

function scheduleRefresh(action) {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = action ? setTimeout(() => action().catch(showError), 2000) : null;
}

async function route() {
  document.getElementById("error").hidden = true;
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "projects" && parts[1] && parts[2] === "compare") {
      await showProject(parts[1], { compareIds: (parts[3] || "").split(",").filter(Boolean) });
    } else if (parts[0] === "projects" && parts[1] && parts[2] === "sweeps" && parts[3]) {
      await showProject(parts[1], { sweepId: parts[3] });
    } else if (parts[0] === "projects" && parts[1]) await showProject(parts[1], { runId: parts[3] });
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
