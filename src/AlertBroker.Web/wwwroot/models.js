import { h, getJson, num, status, table, replace, navigation, when, age, shortSha } from './common.js';

function pointer(p) { return p ? `${p.name}@${p.version}` : '–'; }

function shadowStatistics(p) {
  const s = p.shadowStatistics;
  if (!p.shadow) return '–';
  if (!s || !s.alerts) return 'no alert compared yet';
  const agreement = s.agreement === null || s.agreement === undefined ? '–' : `${(s.agreement * 100).toFixed(1)}%`;
  const auroc = s.labelled > 0 && s.candidateMacroAuroc !== null && s.candidateMacroAuroc !== undefined
    ? `; macro AUROC ${s.candidateMacroAuroc.toFixed(3)} vs ${s.activeMacroAuroc === null || s.activeMacroAuroc === undefined ? '–' : s.activeMacroAuroc.toFixed(3)} on ${num(s.labelled)} labelled` : '';
  return `${agreement} top-class agreement on ${num(s.alerts)} alerts${auroc}`;
}

// A worker is on the active models when, for every survey it reports, it serves that survey's active pointer.
function onActive(w, pointers) {
  const surveys = w.surveys ? Object.entries(w.surveys) : [];
  if (surveys.length === 0) return false;
  return surveys.every(([survey, model]) => { const a = pointers[survey]?.active; return a && model === `${a.name}@${a.version}`; });
}

function render(m) {
  document.getElementById('registry').textContent = m.registry ? `registry: ${m.registry}` : 'no model registry configured';
  const surveys = Object.entries(m.pointers);
  // A part left out (a record in it cannot be read, named in the notes) is said so, not shown as empty (until 2026-12-07
  // a left-out audit trail read "no promotion or rollback yet").
  const leftOut = (part) => (m.leftOut || []).includes(part);
  const unreadable = (what) => h('p', { class: 'muted', 'data-left-out': what, text: `${what} left out: a record in it cannot be read (see the notes below)` });
  replace('pointers', leftOut('status') ? unreadable('the active models') : surveys.length === 0 ? h('p', { class: 'muted', text: 'no survey has a model yet' }) :
    table(['survey', 'active', 'since', 'rollback would restore', 'shadow', 'shadow agreement'], surveys.map(([survey, p]) => h('tr', { 'data-survey': survey },
      h('td', { text: survey }),
      h('td', { text: pointer(p.active), title: p.active && p.active.sha256 ? `sha256 ${p.active.sha256}` : null }),
      h('td', { text: p.active && p.active.sinceUtc ? when(p.active.sinceUtc) : '–' }),
      h('td', { text: pointer(p.rollback) }),
      h('td', { text: p.shadow ? pointer(p.shadow) : 'none' }),
      h('td', { text: shadowStatistics(p) })))));
  replace('versions', leftOut('versions') ? unreadable('the registered versions') : m.versions.length === 0 ? h('p', { class: 'muted', text: 'no version registered' }) :
    table(['model', 'sha256', 'encoding', 'classes', 'metrics', 'pushed', ''], m.versions.map((v) => h('tr', { 'data-model': `${v.name}@${v.version}` },
      h('td', { text: `${v.name}@${v.version}` }),
      h('td', {}, h('code', { text: shortSha(v.sha256), title: v.sha256 })),
      h('td', { text: v.encoding }),
      h('td', { text: v.classes.join(', ') }),
      h('td', { text: Object.entries(v.metrics || {}).map(([k, x]) => `${k} ${typeof x === 'number' && Number.isFinite(x) ? x.toFixed(4) : '–'}`).join(', ') || '–' }),
      h('td', { text: `${when(v.pushedUtc)} by ${v.pushedBy}` }),
      h('td', {}, ...(v.activeFor || []).map((s) => h('span', { class: 'badge active', text: `active ${s}` })), ' ',
        ...(v.shadowFor || []).map((s) => h('span', { class: 'badge shadow', text: `shadow ${s}` })), ' ',
        v.rollback ? h('span', { class: 'badge rollback', text: 'rollback' }) : null)))));
  replace('audit', leftOut('audit') ? unreadable('the audit trail') : m.audit.length === 0 ? h('p', { class: 'muted', text: 'no promotion or rollback yet' }) : null,
    m.auditTruncated ? h('p', { class: 'muted', id: 'audit-truncated', text: `the newest ${m.audit.length} records; the registry keeps older ones (not shown here)` }) : null,
    m.audit.length === 0 ? null : table(['when', 'survey', 'action', 'from', 'to', 'by', 'why'], m.audit.map((a) => h('tr', {},
      h('td', { text: when(a.utc) }), h('td', { text: a.survey || '–' }), h('td', {}, a.action, a.forced ? h('span', { class: 'badge error', text: 'forced' }) : null),
      h('td', { text: a.from || '–' }), h('td', { text: a.to }), h('td', { text: a.by }), h('td', { text: a.reason || '' })))));
  replace('workers', leftOut('status') ? unreadable('the workers') : m.workers.length === 0 ? h('p', { class: 'muted', text: 'no heartbeat in the last minute (workers that follow the registry report every 5 s)' }) :
    table(['worker', 'model', 'state', 'alerts/s', 'alerts', 'last heartbeat'], m.workers.map((w) => {
      const state = w.lastError ? h('span', { class: 'badge error', text: w.lastError }) : onActive(w, m.pointers) ? 'ok' : 'not on the active models yet';
      return h('tr', { 'data-worker': w.workerId },
        h('td', { text: w.workerId }), h('td', { text: w.model || '(none)' }), h('td', {}, state),
        h('td', { class: 'num', text: w.statistics ? num(w.statistics.alertsPerSecond, 1) : '–' }),
        h('td', { class: 'num', text: w.statistics ? num(w.statistics.alerts) : '–' }),
        h('td', { text: `${when(w.utc)} (${age(w.utc)})` }));
    })));
  replace('local', m.localPackages.length === 0 ? h('p', { class: 'muted', text: 'none found' }) :
    table(['model', 'sha256', 'directory'], m.localPackages.map((p) => h('tr', {}, h('td', { text: `${p.name}@${p.version}` }), h('td', {}, h('code', { text: shortSha(p.sha256) })), h('td', {}, h('code', { text: p.directory }))))));
  replace('notes', m.notes.map((n) => h('li', { text: n })));
  status('');
  document.body.dataset.loaded = 'true';
}

async function load() {
  try { render(await getJson('/api/models')); } catch (e) { status(`could not load the models: ${e.message}`, 'error'); }
}

navigation();
load();
setInterval(load, 5000);
