// Shared helpers. Every piece of data is put into the page as text (textContent, setAttribute), never parsed as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

function setAttributes(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else el.setAttribute(key, String(value));
  }
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) {
    const error = new Error((body && body.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

export function objectHref(survey, id) {
  return `/ui/object?survey=${encodeURIComponent(survey)}&id=${encodeURIComponent(id)}`;
}

export function apiObjectPath(survey, id) {
  return `/api/objects/${encodeURIComponent(survey)}/${encodeURIComponent(id)}`;
}

export function num(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Number(value).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function mjd(value) {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : Number(value).toFixed(4);
}

export function ms(value) {
  if (value === null || value === undefined) return '–';
  return value >= 1000 ? `${num(value / 1000, 2)} s` : `${num(value, value < 10 ? 2 : 0)} ms`;
}

export function when(value) {
  if (!value) return '–';
  const d = new Date(value);
  // A time no Date holds (a damaged entry's 8.64e15 + 1 ms) is shown as such: toISOString threw, and one such entry took
  // the whole list of recent classifications off the page (until 2026-12-07).
  if (Number.isNaN(d.getTime())) return `invalid time (${String(value).slice(0, 40)})`;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function age(value) {
  if (!value) return '–';
  const t = new Date(value).getTime();
  if (Number.isNaN(t)) return '–';
  const seconds = Math.max(0, (Date.now() - t) / 1000);
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

export function status(text, kind = '') {
  const el = document.getElementById('status');
  if (!el) return;
  el.textContent = text;
  el.className = `status ${kind}`.trim();
}

export function table(headers, rows, attrs = {}) {
  return h('table', attrs,
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { text: t })))),
    h('tbody', {}, rows));
}

export function replace(id, ...children) {
  const el = document.getElementById(id);
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return el;
}

export function shortSha(sha) {
  return sha ? String(sha).slice(0, 12) : '–';
}

// The navigation: marks the current page and keeps the search box's query.
export function navigation() {
  const page = document.body.dataset.page;
  for (const a of document.querySelectorAll('nav a[data-page]')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
  }
  const q = new URLSearchParams(location.search).get('q');
  const input = document.querySelector('header form input[name=q]');
  if (q && input) input.value = q;
}
