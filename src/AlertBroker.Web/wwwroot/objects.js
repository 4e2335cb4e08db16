import { h, getJson, num, mjd, status, table, replace, navigation, objectHref, when } from './common.js';

function link(survey, id) { return h('a', { href: objectHref(survey, id), class: 'object-link', text: id }); }

async function search(q) {
  document.getElementById('search-section').hidden = false;
  document.getElementById('query').textContent = q;
  try {
    const r = await getJson(`/api/objects/search?q=${encodeURIComponent(q)}`);
    if (r.matches.length === 1 && r.matches[0].source === 'state' && r.matches[0].objectId === q) {
      location.replace(objectHref(r.matches[0].survey, r.matches[0].objectId));
      return;
    }
    replace('matches', r.matches.length === 0 ? h('p', { class: 'muted', text: 'no object with this id (partial ids are matched against recent classifications only)' }) :
      table(['object', 'survey', 'observations', 'found in'], r.matches.map((m) => h('tr', {},
        h('td', {}, link(m.survey, m.objectId)), h('td', { text: m.survey }), h('td', { class: 'num', text: num(m.observations) }), h('td', { text: m.source })))),
      r.notes.map((n) => h('p', { class: 'muted', text: n })));
  } catch (e) {
    status(`search failed: ${e.message}`, 'error');
  }
}

async function recent() {
  try {
    const r = await getJson('/api/objects/recent?limit=100');
    document.getElementById('recent-source').textContent = `(from ${r.source})`;
    replace('recent', r.items.length === 0 ? h('p', { class: 'muted', text: 'no classification yet' }) :
      table(['object', 'survey', 'MJD', 'top class', 'p', 'observations', 'scoring', 'model', 'classified'], r.items.map((c) => h('tr', { 'data-object': c.objectId },
        h('td', {}, link(c.survey, c.objectId)), h('td', { text: c.survey }), h('td', { class: 'num', text: mjd(c.mjd) }),
        c.topClass ? h('td', { text: c.topClass }) : h('td', { class: 'muted', text: c.reason || '–' }), h('td', { class: 'num', text: c.topClass ? num(c.topProbability, 3) : '–' }),
        h('td', { class: 'num', text: c.observations }), h('td', { text: c.scoring.toLowerCase() }), h('td', { text: c.model }),
        h('td', { text: when(c.classifiedUnixMs) })))));
    document.body.dataset.loaded = 'true';
  } catch (e) {
    status(`could not load recent classifications: ${e.message}`, 'error');
  }
}

navigation();
const q = new URLSearchParams(location.search).get('q');
if (q && q.trim()) search(q.trim());
recent();
setInterval(recent, 5000);
