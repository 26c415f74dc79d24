// The operators' console (/console/): log in with an API key, then the
// map, alerts, policy changes, cases and the audit log, one view per
// #/path. Every action goes through the API, which checks the key's role;
// the console only hides what the role cannot use.
import { api, APIError, session } from './api.js';
import { fill, h } from './basemap.js';
import { alertsView } from './view-alerts.js';
import { auditView } from './view-audit.js';
import { casesView } from './view-cases.js';
import { mapView } from './view-map.js';
import { policyView } from './view-policy.js';

// The views, and the roles that can use each (admin can use all).
const VIEWS = [
  { path: 'map', name: 'Map', view: mapView, roles: ['viewer', 'operator', 'policy_author', 'approver', 'emergency', 'auditor', 'investigator'] },
  // The roles that may read alerts (alerts:read in control/principal.go).
  { path: 'alerts', name: 'Alerts', view: alertsView, roles: ['viewer', 'operator', 'auditor', 'investigator'] },
  { path: 'policy', name: 'Policy', view: policyView, roles: ['viewer', 'operator', 'policy_author', 'approver', 'emergency', 'auditor', 'investigator'] },
  { path: 'cases', name: 'Cases', view: casesView, roles: ['investigator', 'approver', 'auditor'] },
  { path: 'audit', name: 'Audit', view: auditView, roles: ['auditor'] },
];

const app = document.getElementById('app');
let cleanup = null;
let me = null;

function login(message) {
  if (cleanup) cleanup();
  cleanup = null;
  session.key = '';
  me = null;
  const input = h('input', { id: 'key', type: 'password', autocomplete: 'off', required: true, placeholder: 'sfk_…', 'aria-describedby': 'key-help' });
  const err = h('p', { class: 'error', role: 'alert' }, message || '');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      session.key = input.value.trim();
      try {
        me = await api('GET', '/v1/me');
      } catch (x) {
        session.key = '';
        err.textContent = x instanceof APIError && x.status === 401 ? 'That key is not valid.' : x.message;
        return;
      }
      start();
    },
  },
  h('label', { for: 'key' }, 'API key'),
  input,
  h('p', { id: 'key-help', class: 'small' }, 'The key skyfence serve printed on its first start, or one an admin made for you (POST /v1/keys). It is kept in this tab only.'),
  h('button', { class: 'primary', type: 'submit' }, 'Log in'),
  err);
  app.replaceChildren(h('main', { class: 'login card' },
    h('h1', {}, 'skyfence console'),
    h('p', {}, 'Where satellite service is allowed, who has it, and every change to that, reviewed by two people.'),
    form,
    h('p', { class: 'small' }, 'No key? The ', h('a', { href: '/map' }, 'public availability map'), ' needs none.')));
  document.body.dataset.view = 'login';
  input.focus();
}

function allowed(v) {
  return me.role === 'admin' || v.roles.includes(me.role);
}

async function route() {
  if (!me) return;
  if (cleanup) cleanup();
  cleanup = null;
  const [path, ...params] = location.hash.replace(/^#\/?/, '').split('/');
  const views = VIEWS.filter(allowed);
  if (!views.length) {
    login(`A ${me.role} key cannot use the console.`);
    return;
  }
  const v = views.find((x) => x.path === path) || views[0];
  const nav = h('nav', { 'aria-label': 'Console' }, views.map((x) =>
    h('a', { href: `#/${x.path}`, 'aria-current': x === v ? 'page' : null }, x.name)));
  const root = h('div', { class: 'stage', id: 'view' });
  const banner = h('div', { class: 'banner', id: 'overdue-banner', role: 'alert', hidden: true });
  app.replaceChildren(
    h('header', { class: 'bar' },
      h('h1', {}, 'skyfence'),
      nav,
      h('div', { class: 'who' },
        h('span', { id: 'me' }, `${me.person} · ${me.role}${me.region ? ` (${me.region})` : ''}`),
        h('button', { onclick: () => { login('Logged out.'); history.replaceState(null, '', '#/'); } }, 'Log out'))),
    banner,
    root);
  overdue(banner);
  document.body.dataset.view = v.path;
  delete document.body.dataset.ready;
  try {
    cleanup = await v.view(root, { me, params: params.map(decodeURIComponent) });
  } catch (x) {
    if (x instanceof APIError && x.status === 401) return login('Your key is no longer valid.');
    root.replaceChildren(h('p', { class: 'error page' }, x.message));
  }
}

// overdue shows in banner, on every view, the emergency changes whose
// reviews are late (the public transparency report lists them), until two
// people other than each one's author have reviewed it; a review made in
// the console ('policy-changed') shows again what is left.
async function overdue(banner) {
  let late = [];
  try {
    const rep = await api('GET', '/v1/transparency');
    late = (rep.requests || []).filter((q) => q.review_overdue);
  } catch {
    return; // the banner stays as it was; the report is back on the next view
  }
  banner.hidden = !late.length;
  fill(banner, late.length ? [
    h('strong', {}, `${late.length} emergency change${late.length > 1 ? 's' : ''} past the review deadline.`),
    ' Put in force without prior review and not yet reviewed by two people: ',
    late.flatMap((q, i) => [i ? ', ' : '', h('a', { href: `#/policy/${encodeURIComponent(q.change_id)}` }, q.title),
      ` (due ${q.review_by.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z')})`]),
  ] : []);
}

function start() {
  return route();
}

window.addEventListener('hashchange', route);
document.addEventListener('policy-changed', () => {
  const banner = document.getElementById('overdue-banner');
  if (banner) overdue(banner);
});

(async () => {
  if (session.key) {
    try {
      me = await api('GET', '/v1/me');
      return start();
    } catch {
      // fall through to the login
    }
  }
  login();
})();
