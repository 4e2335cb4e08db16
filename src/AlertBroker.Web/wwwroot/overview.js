import { h, getJson, num, ms, status, table, replace, navigation, age, shortSha } from './common.js';
import { throughputChart } from './charts.js';

function card(label, value, id) {
  return h('div', { class: 'card', id }, h('div', { class: 'value', text: value }), h('div', { class: 'label', text: label }));
}

function render(o) {
  if (o.error) { status(o.error, 'error'); return; }
  document.getElementById('source').textContent = o.source === 'worker' ? '(this worker)' : `(${o.workers} worker${o.workers === 1 ? '' : 's'}, from registry heartbeats)`;
  const deadTotal = Object.values(o.deadLetters || {}).reduce((a, b) => a + b, 0);
  replace('cards',
    card('alerts/s (last 10 s)', num(o.alertsPerSecond, 1), 'alerts-per-second'),
    card('alerts/s (last minute)', num(o.alertsPerSecondMinute, 1), 'alerts-per-second-minute'),
    o.peakAlertsPerSecond !== null && o.peakAlertsPerSecond !== undefined ? card('peak alerts/s (5 min)', num(o.peakAlertsPerSecond), 'peak') : null,
    card('alerts', num(o.alerts), 'alerts'),
    card('classifications', num(o.classifications), 'classifications'),
    card('of those, published without probabilities (not transient candidates, too few detections)', num(o.withheld), 'withheld'),
    card('latency p50', ms(o.latencyMs.p50), 'latency-p50'),
    card('latency p90', ms(o.latencyMs.p90), 'latency-p90'),
    card('latency p99', ms(o.latencyMs.p99), 'latency-p99'),
    card('dead letters', num(deadTotal), 'dead-total'),
    card('consumer lag', num(o.lag.total), 'lag-total'));
  throughputChart(document.getElementById('throughput'), o.throughput);
  const surveys = Object.entries(o.models || {});
  replace('survey-models', surveys.length === 0 ? h('p', { class: 'muted', text: 'no model serves any survey yet' }) : table(['survey', 'active', 'shadow'], surveys.map(([survey, m]) => h('tr', { 'data-survey': survey },
    h('td', { text: survey }),
    h('td', { text: m.active ? `${m.active.name}@${m.active.version}` : '–', title: m.active && m.active.sha256 ? `sha256 ${m.active.sha256}` : null }),
    h('td', { text: m.shadow ? `${m.shadow.name}@${m.shadow.version}` : 'none' })))));
  const dead = Object.entries(o.deadLetters || {}).sort((a, b) => b[1] - a[1]);
  replace('dead-letters', dead.length === 0 ? h('p', { class: 'muted', text: 'none' }) :
    table(['kind', 'messages'], dead.map(([kind, count]) => h('tr', { 'data-kind': kind }, h('td', { text: kind }), h('td', { class: 'num', text: num(count) })))));
  const partitions = o.lag.partitions || [];
  replace('lag', partitions.length === 0 ? h('p', { class: 'muted', text: o.source === 'worker' ? 'no partition assigned yet' : `total ${num(o.lag.total)} (per worker below)` }) :
    table(['topic', 'partition', 'lag'], partitions.map((p) => h('tr', {}, h('td', { text: p.topic }), h('td', { class: 'num', text: p.partition }), h('td', { class: 'num', text: num(p.lag) })))));
  replace('workers', (o.perWorker || []).length === 0 ? h('p', { class: 'muted', text: 'none reporting' }) :
    table(['worker', 'model', 'alerts/s', 'p50', 'p99', 'lag', 'seen'], o.perWorker.map((w) => h('tr', {},
      h('td', { text: w.workerId }), h('td', { text: w.model || '–' }), h('td', { class: 'num', text: num(w.alertsPerSecond, 1) }),
      h('td', { class: 'num', text: ms(w.latencyP50Ms) }), h('td', { class: 'num', text: ms(w.latencyP99Ms) }),
      h('td', { class: 'num', text: num(w.consumerLag) }), h('td', { text: age(w.utc) })))));
  replace('notes', (o.notes || []).map((n) => h('li', { text: n })));
  status(`updated ${new Date(o.utc).toLocaleTimeString('en-GB')}`);
  document.body.dataset.loaded = 'true';
  void shortSha;
}

async function start() {
  navigation();
  try {
    render(await getJson('/api/overview'));
  } catch (e) {
    status(`could not load the overview: ${e.message}`, 'error');
  }
  live();
}

// Live: the server pushes a fresh overview every few seconds (server-sent events); EventSource reconnects by itself after
// a network error. A stream the server refuses (503: too many open, AlertBroker:Web:MaxStreamClients) closes it for good:
// the page then polls /api/overview every refresh period and tries the stream again after a while.
let refreshSeconds = 2;

function live() {
  const events = new EventSource('/api/overview/stream');
  events.addEventListener('overview', (e) => {
    try {
      const o = JSON.parse(e.data);
      if (o.refreshSeconds) refreshSeconds = o.refreshSeconds;
      render(o);
    } catch (err) { status(`bad update: ${err.message}`, 'error'); }
  });
  events.onerror = () => {
    if (events.readyState !== EventSource.CLOSED) { status('live updates interrupted; reconnecting…', 'warning'); return; }
    events.close();
    poll(Date.now() + 60_000);
  };
  window.addEventListener('pagehide', () => events.close(), { once: true });
}

async function poll(retryStreamAt) {
  if (Date.now() >= retryStreamAt) { live(); return; }
  try {
    const o = await getJson('/api/overview');
    if (o.refreshSeconds) refreshSeconds = o.refreshSeconds;
    render(o);
    status(`updated ${new Date(o.utc).toLocaleTimeString('en-GB')} (polling: the server has no live stream free)`);
  } catch (e) {
    status(`could not load the overview: ${e.message}`, 'error');
  }
  setTimeout(() => poll(retryStreamAt), refreshSeconds * 1000);
}

start();
