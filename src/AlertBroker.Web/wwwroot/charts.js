// Small hand-made SVG charts: a light curve (flux against time per band, with error bars and upper limits) and the
// class probabilities after every step. No plotting library: these two plots need axes, points and lines only.
import { s } from './common.js';

const BAND_COLOURS = {
  'ztf:g': '#2a9d3a', 'ztf:r': '#d62728', 'ztf:i': '#8c564b',
  'lsst:u': '#6a3d9a', 'lsst:g': '#2a9d3a', 'lsst:r': '#d62728', 'lsst:i': '#ff7f0e', 'lsst:z': '#8c564b', 'lsst:y': '#444444',
};
const CLASS_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function bandColour(band) { return BAND_COLOURS[band] || '#555555'; }
export function classColour(i) { return CLASS_COLOURS[i % CLASS_COLOURS.length]; }

function niceTicks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) { min -= 1; max += 1; }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((x) => raw <= x) || raw;
  const ticks = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function frame(svg, width, height, margin) {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  return { x0: margin.left, x1: width - margin.right, y0: height - margin.bottom, y1: margin.top };
}

function axes(svg, box, xScale, yScale, xTicks, yTicks, xLabel, yLabel, xFormat, yFormat) {
  const g = s('g', { class: 'axes' });
  g.append(s('line', { x1: box.x0, y1: box.y0, x2: box.x1, y2: box.y0, class: 'axis' }));
  g.append(s('line', { x1: box.x0, y1: box.y0, x2: box.x0, y2: box.y1, class: 'axis' }));
  for (const t of xTicks) {
    const x = xScale(t);
    g.append(s('line', { x1: x, y1: box.y0, x2: x, y2: box.y0 + 5, class: 'axis' }));
    g.append(s('text', { x, y: box.y0 + 18, 'text-anchor': 'middle', class: 'tick', text: xFormat(t) }));
  }
  for (const t of yTicks) {
    const y = yScale(t);
    g.append(s('line', { x1: box.x0 - 5, y1: y, x2: box.x1, y2: y, class: 'grid' }));
    g.append(s('text', { x: box.x0 - 8, y: y + 4, 'text-anchor': 'end', class: 'tick', text: yFormat(t) }));
  }
  g.append(s('text', { x: (box.x0 + box.x1) / 2, y: box.y0 + 36, 'text-anchor': 'middle', class: 'label', text: xLabel }));
  g.append(s('text', { x: 14, y: (box.y0 + box.y1) / 2, 'text-anchor': 'middle', class: 'label', transform: `rotate(-90 14 ${(box.y0 + box.y1) / 2})`, text: yLabel }));
  svg.append(g);
}

function linear(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

function extent(values, pad = 0.05) {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (min === max) { min -= 1; max += 1; }
  const p = (max - min) * pad;
  return [min - p, max + p];
}

// Flux (µJy) against MJD. Detections: filled circles with 1σ error bars; forced photometry: open circles with error
// bars; non-detections: downward triangles at the 5σ limiting flux. Every point carries data-band and data-kind.
export function lightCurve(svg, observations) {
  const width = 860; const height = 360;
  const box = frame(svg, width, height, { left: 70, right: 20, top: 16, bottom: 48 });
  const plotted = observations.filter((o) => Number.isFinite(o.mjd) && (o.kind === 'upper_limit' ? Number.isFinite(o.upperLimitFlux) : Number.isFinite(o.flux)));
  const ys = [];
  for (const o of plotted) {
    if (o.kind === 'upper_limit') ys.push(o.upperLimitFlux);
    else { ys.push(o.flux); if (Number.isFinite(o.fluxErr)) { ys.push(o.flux - o.fluxErr, o.flux + o.fluxErr); } }
  }
  ys.push(0);
  const [xMin, xMax] = extent(plotted.map((o) => o.mjd), 0.03);
  const [yMin, yMax] = extent(ys, 0.08);
  const x = linear(xMin, xMax, box.x0, box.x1);
  const y = linear(yMin, yMax, box.y0, box.y1);
  axes(svg, box, x, y, niceTicks(xMin, xMax, 6), niceTicks(yMin, yMax, 5), 'MJD', 'flux (µJy)', (t) => String(t), (t) => String(t));
  svg.append(s('line', { x1: box.x0, y1: y(0), x2: box.x1, y2: y(0), class: 'zero' }));
  const points = s('g', { class: 'points' });
  for (const o of plotted) {
    const colour = bandColour(o.band);
    const cx = x(o.mjd);
    const title = s('title', { text: `${o.band} ${o.kind.replace('_', ' ')} MJD ${o.mjd.toFixed(4)}: ` + (o.kind === 'upper_limit' ? `flux < ${o.upperLimitFlux.toFixed(1)} µJy (5σ)` : `${o.flux.toFixed(1)} ± ${Number.isFinite(o.fluxErr) ? o.fluxErr.toFixed(1) : '?'} µJy`) });
    if (o.kind === 'upper_limit') {
      const cy = y(o.upperLimitFlux);
      points.append(s('path', { class: 'pt limit', d: `M ${cx - 5} ${cy - 4} L ${cx + 5} ${cy - 4} L ${cx} ${cy + 5} Z`, fill: 'none', stroke: colour, 'data-band': o.band, 'data-kind': o.kind, 'data-mjd': o.mjd }, title));
      continue;
    }
    const cy = y(o.flux);
    const g = s('g', { class: 'pt', 'data-band': o.band, 'data-kind': o.kind, 'data-mjd': o.mjd, 'data-flux': o.flux }, title);
    if (Number.isFinite(o.fluxErr)) {
      g.append(s('line', { class: 'errorbar', x1: cx, x2: cx, y1: y(o.flux - o.fluxErr), y2: y(o.flux + o.fluxErr), stroke: colour }));
    }
    g.append(s('circle', { cx, cy, r: 4, fill: o.kind === 'forced' ? 'white' : colour, stroke: colour }));
    points.append(g);
  }
  svg.append(points);
  return plotted.length;
}

// The probability of each class after every step (x: the step's MJD; y: 0–1).
export function probabilityChart(svg, steps, classes) {
  const width = 860; const height = 300;
  const box = frame(svg, width, height, { left: 70, right: 20, top: 16, bottom: 48 });
  if (steps.length === 0) return;
  const [xMin, xMax] = extent(steps.map((st) => st.mjd), 0.03);
  const x = linear(xMin, xMax, box.x0, box.x1);
  const y = linear(0, 1, box.y0, box.y1);
  axes(svg, box, x, y, niceTicks(xMin, xMax, 6), [0, 0.25, 0.5, 0.75, 1], 'MJD (step)', 'probability', (t) => String(t), (t) => t.toFixed(2));
  classes.forEach((name, c) => {
    const colour = classColour(c);
    const g = s('g', { class: 'series', 'data-class': name });
    const points = steps.map((st) => `${x(st.mjd).toFixed(1)},${y(st.probabilities[c] ?? 0).toFixed(1)}`).join(' ');
    g.append(s('polyline', { points, fill: 'none', stroke: colour, 'stroke-width': 2 }));
    for (const st of steps) {
      g.append(s('circle', { class: 'pp', cx: x(st.mjd), cy: y(st.probabilities[c] ?? 0), r: 2.5, fill: colour, 'data-step': st.step },
        s('title', { text: `step ${st.step + 1} (MJD ${st.mjd.toFixed(4)}): ${name} ${(st.probabilities[c] ?? 0).toFixed(4)}` })));
    }
    svg.append(g);
  });
}

// Alerts per second over the last minutes.
export function throughputChart(svg, points) {
  const width = 860; const height = 176;
  const box = frame(svg, width, height, { left: 60, right: 16, top: 10, bottom: 44 });
  if (!points || points.length === 0) return;
  const t0 = points[0].unixSecond;
  const xs = points.map((p) => p.unixSecond - t0);
  const maxY = Math.max(1, ...points.map((p) => p.alerts));
  const x = linear(0, Math.max(1, xs[xs.length - 1]), box.x0, box.x1);
  const y = linear(0, maxY * 1.1, box.y0, box.y1);
  axes(svg, box, x, y, niceTicks(0, xs[xs.length - 1], 6), niceTicks(0, maxY * 1.1, 3), 'seconds (last 2 minutes)', 'alerts/s', (t) => String(t - xs[xs.length - 1]), (t) => String(t));
  const line = points.map((p, i) => `${x(xs[i]).toFixed(1)},${y(p.alerts).toFixed(1)}`).join(' ');
  svg.append(s('polyline', { points: line, fill: 'none', stroke: '#1f77b4', 'stroke-width': 2, class: 'throughput' }));
}
