import { h, getJson, num, mjd, status, table, replace, navigation, apiObjectPath, when } from './common.js';
import { lightCurve, probabilityChart, bandColour, classColour } from './charts.js';

const params = new URLSearchParams(location.search);
const survey = params.get('survey') || '';
const id = params.get('id') || '';

function card(label, value, small = false) {
  return h('div', { class: 'card' }, h('div', { class: small ? 'value small' : 'value', text: value }), h('div', { class: 'label', text: label }));
}

function swatch(colour) {
  const el = h('span', { class: 'swatch' });
  el.style.background = colour;
  return el;
}

function bar(p) {
  const outer = h('div', { class: 'bar' });
  const inner = h('span');
  inner.style.width = `${Math.max(0, Math.min(1, p || 0)) * 100}%`;
  outer.append(inner);
  return outer;
}

function renderObject(o) {
  replace('summary',
    card('observations', num(o.observations.length)),
    card('scored steps', o.latest ? num(o.latest.scoredSteps) : '0'),
    card('state version', num(o.version)),
    card('updated', when(o.updatedUtc), true),
    card('model', o.modelId || '–', true));
  replace('bands', Object.entries(o.bands).map(([band, c]) => h('span', { 'data-band': band }, swatch(bandColour(band)),
    `${band}: ${c.detections} detections, ${c.forced} forced, ${c.upperLimits} non-detections`)));
  const plotted = lightCurve(document.getElementById('lightcurve'), o.observations);
  document.getElementById('lightcurve').dataset.points = plotted;
  if (!o.latest) {
    replace('latest',
      o.unreadable ? h('p', { class: 'status warning', id: 'unreadable', text: `The object's state is empty here: ${o.unreadable}.` }) : null,
      o.withheld ? h('p', { class: 'status warning', id: 'withheld', text: `Its newest classification was published without probabilities (${o.withheld}).` }) : null,
      h('p', { class: 'muted', text: 'not scored yet (no usable observation)' }));
    return;
  }
  const classes = o.latest.classes || o.latest.probabilities.map((_, i) => `class ${i + 1}`);
  const order = o.latest.probabilities.map((p, i) => [p, i]).sort((a, b) => (b[0] ?? 0) - (a[0] ?? 0));
  replace('latest',
    o.withheld ? h('p', { class: 'status warning', id: 'withheld', text: `Its newest classification was published without probabilities (${o.withheld}). What follows is what the network computed from the stored light curve.` }) : null,
    h('p', {}, 'Top class: ', h('strong', { id: 'top-class', text: o.latest.topClass || classes[order[0][1]] }), ` (${num(o.latest.topProbability, 4)}) after ${o.latest.scoredSteps} steps, the last at MJD ${mjd(o.latest.lastStepMjd)}.`),
    table(['class', 'probability', ''], order.map(([p, i]) => h('tr', { 'data-class': classes[i] },
      h('td', { text: classes[i] }), h('td', { class: 'num', text: num(p, 4) }), h('td', {}, bar(p))))),
    o.latest.classes ? null : h('p', { class: 'muted', text: 'class names unknown: the model is not available' }));
}

function renderHistory(hist) {
  const model = document.getElementById('model-status');
  if (!hist.available) {
    model.textContent = `The model that scored this object (${hist.modelId || 'none'}) is not available, so the probabilities after every step cannot be recomputed: ${hist.reason}`;
    model.className = 'status warning';
    model.id = 'model-status';
    model.dataset.available = 'false';
    return;
  }
  model.dataset.available = 'true';
  const agree = hist.storedDifference === null || hist.storedDifference === undefined ? '' :
    ` The last step agrees with the stored classification to ${hist.storedDifference.toExponential(1)}.`;
  model.textContent = `Recomputed from the stored light curve with ${hist.modelId} (from ${hist.source}).${agree}`;
  replace('classes', hist.classes.map((c, i) => h('span', {}, swatch(classColour(i)), c)));
  probabilityChart(document.getElementById('probabilities-chart'), hist.steps, hist.classes);
  replace('steps', table(['step', 'MJD', 'band', ...hist.classes], hist.steps.map((st) => h('tr', { 'data-step': st.step },
    h('td', { class: 'num', text: st.step + 1 }), h('td', { class: 'num', text: mjd(st.mjd) }), h('td', { text: st.band }),
    st.probabilities.map((p) => h('td', { class: 'num', 'data-p': p, text: num(p, 4) })))), { id: 'probabilities' }));
}

async function start() {
  navigation();
  document.getElementById('survey').textContent = survey;
  document.getElementById('object-id').textContent = id;
  document.title = `AlertBroker · ${id}`;
  if (!survey || !id) { status('no object given (?survey=ztf&id=…)', 'error'); return; }
  try {
    renderObject(await getJson(apiObjectPath(survey, id)));
    status('');
  } catch (e) {
    status(e.status === 404 ? `no object ${id} in survey ${survey}: ${e.message}` : `could not load the object: ${e.message}`, 'error');
    document.body.dataset.loaded = 'true';
    return;
  }
  try {
    renderHistory(await getJson(`${apiObjectPath(survey, id)}/history`));
  } catch (e) {
    status(`could not recompute the probabilities: ${e.message}`, 'error');
  }
  document.body.dataset.loaded = 'true';
}

start();
