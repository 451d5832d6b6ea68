// Plots drawn as plain SVG: a metric across runs, dynamic charts, a sweep's scatters and its
// parallel coordinates. Every label is measured before it is placed, so none is cut at
// the edge of its plot and none overlaps the next; a plot too wide for its box scrolls.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const TICK = 11; // px: tick and axis labels
let ruler = null;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// The width in px of `text` drawn at `size` px (in the page's font, as the plots draw it).
function measure(text, size = TICK, weight = "normal") {
  if (!ruler) {
    ruler = svg("svg", { width: 0, height: 0, "aria-hidden": "true" });
    ruler.style.position = "absolute";
    ruler.style.visibility = "hidden";
    document.body.append(ruler);
  }
  const node = svg("text", { "font-size": size, "font-weight": weight }, String(text));
  ruler.append(node);
  const width = node.getComputedTextLength();
  node.remove();
  return width;
}

function label(x, y, text, attrs = {}) {
  return svg("text", { x, y, "font-size": TICK, ...attrs }, String(text));
}

// A number short enough for a tick: 0.9540000000000001 -> "0.954".
function tickText(value) {
  if (typeof value === "number") return String(Number(value.toPrecision(4)));
  if (value === null || value === undefined) return "-";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// Labels at positions along [low, high]: each kept whole inside it (moved in from an end)
// and left out where it would overlap the one before. Returns [{x, text, value}], x its left.
function placeLabels(items, low, high, size = TICK) {
  const placed = [];
  let end = -Infinity;
  for (const item of items) {
    const width = measure(item.text, size);
    const x = Math.min(Math.max(item.pos - width / 2, low), high - width);
    if (x < end + 6 || width > high - low) continue;
    placed.push({ ...item, x });
    end = x + width;
  }
  return placed;
}

// A scale from values to [from, to]: linear (log when asked and every value is above 0), or
// evenly spaced categories when the values are not all numbers. ticks: [{value, text}].
function scaleFor(values, from, to, { log = false } = {}) {
  const known = values.filter((v) => v !== null && v !== undefined);
  const numeric = known.length > 0 && known.every((v) => typeof v === "number" && Number.isFinite(v));
  if (!numeric) {
    const categories = [...new Map(known.map((v) => [JSON.stringify(v), v])).values()];
    const step = categories.length > 1 ? (to - from) / (categories.length - 1) : 0;
    const index = new Map(categories.map((v, i) => [JSON.stringify(v), i]));
    const at = (v) => (categories.length > 1 ? from + index.get(JSON.stringify(v)) * step : (from + to) / 2);
    return { at, ticks: categories.map((v) => ({ value: v, text: tickText(v) })) };
  }
  const useLog = log && known.every((v) => v > 0);
  const f = useLog ? Math.log10 : (v) => v;
  const [low, high] = [Math.min(...known.map(f)), Math.max(...known.map(f))];
  const span = high - low;
  const at = (v) => (span ? from + ((f(v) - low) / span) * (to - from) : (from + to) / 2);
  const distinct = [...new Set(known)].sort((a, b) => a - b);
  const shownValues = distinct.length <= 8 ? distinct : [distinct[0], distinct[distinct.length - 1]];
  return { at, ticks: shownValues.map((v) => ({ value: v, text: tickText(v) })) };
}

// One metric's value in each selected run: points joined by a line, with labelled axes.
function drawAcrossRuns(row, runIds, boxWidth) {
  const values = row.values.map((v) => (v === null || typeof v !== "number" ? NaN : v));
  const known = values.filter((v) => !Number.isNaN(v));
  const yScale = scaleFor(known, 0, 1);
  const yTicks = known.length ? [Math.max(...known), Math.min(...known)] : [];
  const left = 12 + Math.max(0, ...yTicks.map((v) => measure(tickText(v))));
  const caption = `${row.key} in each run, in the order picked`;
  const width = Math.max(Math.min(boxWidth || 480, 80 * runIds.length + left + 40), 360,
    left + measure(caption) + 16);
  const height = 240, right = 16, top = 16, bottom = 48;
  const x = (i) => left + 20 + (runIds.length > 1 ? (i * (width - left - right - 40)) / (runIds.length - 1) : 0);
  const y = (v) => top + (1 - yScale.at(v)) * (height - top - bottom);
  const canvas = svg("svg", { width, height, class: "plot", role: "img", "aria-label": `${row.key} across runs` });
  canvas.append(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
  canvas.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
  for (const v of yTicks) canvas.append(label(left - 6, y(v) + 4, tickText(v), { "text-anchor": "end" }));
  canvas.append(label(left, height - 6, caption));
  const points = values.map((v, i) => (Number.isNaN(v) ? null : `${x(i)},${y(v)}`)).filter(Boolean);
  canvas.append(svg("polyline", { points: points.join(" ") }));
  const names = runIds.map((id, i) => ({ pos: x(i), text: id.slice(-6), value: id }));
  for (const placed of placeLabels(names, 0, width)) {
    canvas.append(label(placed.x, height - bottom + 16, placed.text, { class: "run", "data-run": placed.value }));
  }
  values.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    const dot = svg("circle", { cx: x(i), cy: y(v), r: 4, "data-run": runIds[i] });
    dot.append(svg("title", {}, `${runIds[i]}: ${tickText(v)}`));
    canvas.append(dot);
  });
  return canvas;
}

// A dynamic chart: {series: [{name, points: [[x, y], ...], kind: "line" | "scatter"}],
// x_label, y_label}; drawn with axes, their ranges and labels, and a legend.
function drawSeries(data) {
  const width = 420, height = 240, left = 56, right = 16, top = 12, bottom = 44;
  const series = data.series || [];
  const points = series.flatMap((s) => s.points || []);
  const xs = points.map((p) => Number(p[0])), ys = points.map((p) => Number(p[1]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => left + ((x - x0) / ((x1 - x0) || 1)) * (width - left - right);
  const sy = (y) => top + (1 - (y - y0) / ((y1 - y0) || 1)) * (height - top - bottom);
  const canvas = svg("svg", { width, height, role: "img", "aria-label": data.title || "dynamic chart" });
  const axes = [[left, top, left, height - bottom], [left, height - bottom, width - right, height - bottom]];
  for (const [ax1, ay1, ax2, ay2] of axes) canvas.append(svg("line", { class: "axis", x1: ax1, y1: ay1, x2: ax2, y2: ay2 }));
  if (points.length) {
    canvas.append(svg("text", { x: 4, y: top + 8 }, tickText(y1)), svg("text", { x: 4, y: height - bottom }, tickText(y0)));
    canvas.append(svg("text", { x: left, y: height - bottom + 14 }, tickText(x0)));
    canvas.append(svg("text", { x: width - right, y: height - bottom + 14, "text-anchor": "end" }, tickText(x1)));
  }
  canvas.append(svg("text", { x: left + 60, y: height - 6 }, data.x_label || "x"));
  canvas.append(svg("text", { x: 4, y: top + (height - top - bottom) / 2 }, data.y_label || "y"));
  series.forEach((one, index) => {
    const colour = `series-${index % 4}`;
    if (one.kind === "scatter") {
      for (const p of one.points || []) {
        canvas.append(svg("circle", { class: colour, cx: sx(Number(p[0])), cy: sy(Number(p[1])), r: 3 }));
      }
    } else {
      const line = (one.points || []).map((p) => `${sx(Number(p[0]))},${sy(Number(p[1]))}`).join(" ");
      canvas.append(svg("polyline", { class: colour, points: line }));
    }
    canvas.append(svg("text", { class: colour, x: width - right, y: top + 12 + 14 * index, "text-anchor": "end" }, one.name || ""));
  });
  return canvas;
}

// The metric against one swept parameter: a dot per point that has the metric, the best
// point larger and coloured. points: [{index, x, y, best, title}].
function drawScatter({ name, metric, points, log }) {
  const width = 420, height = 280, top = 28, right = 16, bottom = 52;
  const ys = points.map((p) => p.y);
  const yTicks = ys.length ? [Math.max(...ys), Math.min(...ys)] : [];
  const left = 14 + Math.max(0, ...yTicks.map((v) => measure(tickText(v))));
  const xScale = scaleFor(points.map((p) => p.x), left + 12, width - right - 12, { log });
  const yScale = scaleFor(ys, 0, 1);
  const y = (v) => top + (1 - yScale.at(v)) * (height - top - bottom);
  const canvas = svg("svg", { width, height, class: "plot scatter", role: "img", "data-param": name,
    "aria-label": `${metric} against ${name}` });
  canvas.append(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
  canvas.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
  canvas.append(label(left, top - 12, metric, { class: "axis-name" }));
  for (const v of yTicks) canvas.append(label(left - 6, y(v) + 4, tickText(v), { "text-anchor": "end" }));
  const ticks = xScale.ticks.map((t) => ({ pos: xScale.at(t.value), text: t.text }));
  for (const placed of placeLabels(ticks, 0, width)) canvas.append(label(placed.x, height - bottom + 16, placed.text));
  const title = placeLabels([{ pos: (left + width - right) / 2, text: name }], 0, width, TICK)[0];
  if (title) canvas.append(label(title.x, height - 10, name, { class: "axis-name" }));
  // The best point last, so it is drawn above the others.
  for (const p of [...points].sort((a, b) => Number(a.best) - Number(b.best))) {
    const dot = svg("circle", { cx: xScale.at(p.x), cy: y(p.y), r: p.best ? 7 : 4,
      class: p.best ? "point best" : "point", "data-point": p.index, "data-best": String(Boolean(p.best)) });
    dot.append(svg("title", {}, p.title));
    canvas.append(dot);
  }
  return canvas;
}

// Every swept parameter and the metric as vertical axes, each point a line across them; the
// best point's line on top and coloured; a point without the metric stops before its axis.
// axes: [{name, values: [...per point], log}], points: [{index, best, failed, title}].
function drawParallel({ axes, points, boxWidth }) {
  const names = axes.map((a) => measure(a.name, TICK + 1, "bold"));
  const ticks = axes.map((axis) => scaleFor(axis.values, 0, 1, { log: axis.log }).ticks);
  const widest = Math.max(60, ...names, ...ticks.flat().map((t) => measure(t.text) * 2 + 16));
  const gap = widest + 24;
  const edge = Math.max(names[0] || 0, names[names.length - 1] || 0) / 2 + 12;
  const needed = 2 * edge + gap * Math.max(1, axes.length - 1);
  const width = Math.max(needed, Math.min(boxWidth || 960, 1200)), height = 340, top = 40, bottom = 28;
  const step = axes.length > 1 ? (width - 2 * edge) / (axes.length - 1) : 0;
  const xs = axes.map((_, i) => (axes.length > 1 ? edge + i * step : width / 2));
  const scales = axes.map((axis) => scaleFor(axis.values, height - bottom, top, { log: axis.log }));
  const canvas = svg("svg", { width, height, class: "plot parallel", role: "img",
    "aria-label": `${axes.map((a) => a.name).join(", ")}: every point` });
  const ordered = points.map((p, i) => [p, i]).sort(([a], [b]) => Number(a.best) - Number(b.best));
  for (const [point, i] of ordered) {
    const coords = [];
    axes.forEach((axis, a) => {
      const value = axis.values[i];
      if (value !== null && value !== undefined) coords.push(`${xs[a]},${scales[a].at(value)}`);
    });
    const kind = point.best ? "best" : point.failed ? "failed" : "line";
    const line = svg("polyline", { points: coords.join(" "), class: kind, "data-point": point.index,
      "data-best": String(Boolean(point.best)) });
    line.append(svg("title", {}, point.title));
    canvas.append(line);
  }
  axes.forEach((axis, a) => {
    const x = xs[a];
    canvas.append(svg("line", { class: "axis", x1: x, y1: top, x2: x, y2: height - bottom }));
    const name = placeLabels([{ pos: x, text: axis.name }], 0, width, TICK + 1)[0];
    if (name) canvas.append(label(name.x, 16, axis.name, { class: "axis-name", "font-size": TICK + 1, "font-weight": "bold" }));
    // Ticks beside the axis, on the side away from the plot's edge, spaced so none overlap.
    const side = a === axes.length - 1 && axes.length > 1 ? -1 : 1;
    let last = Infinity;
    const sorted = scales[a].ticks.map((t) => ({ ...t, y: scales[a].at(t.value) })).sort((p, q) => q.y - p.y);
    for (const tick of sorted) {
      if (last - tick.y < TICK + 2) continue;
      last = tick.y;
      canvas.append(label(x + side * 5, tick.y + 4, tick.text, { class: "tick", "text-anchor": side > 0 ? "start" : "end" }));
    }
  });
  return canvas;
}
