// The audit log with filters, and the result of verifying the chain.
import { api } from './api.js';
import { h } from './basemap.js';

export async function auditView(root) {
  const action = h('input', { id: 'f-action', placeholder: 'terminal.' });
  const actor = h('input', { id: 'f-actor', placeholder: 'key id or system' });
  const subject = h('input', { id: 'f-subject', placeholder: 'ut-1, chg-…' });
  const rows = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Older entries');
  const verdict = h('div', { id: 'verify-result', 'aria-live': 'polite' });
  let before = 0;

  const load = async (next) => {
    if (!next) { before = 0; rows.replaceChildren(); }
    const q = new URLSearchParams({ limit: '100' });
    if (action.value) q.set('action', action.value);
    if (actor.value) q.set('actor', actor.value);
    if (subject.value) q.set('subject', subject.value);
    if (before) q.set('before', String(before));
    const { entries } = await api('GET', `/v1/audit?${q}`);
    rows.append(...entries.map((e) => h('tr', {},
      h('td', {}, String(e.seq)),
      h('td', {}, e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')),
      h('td', {}, h('code', {}, e.action)),
      h('td', {}, e.subject),
      h('td', {}, e.actor),
      h('td', {}, e.reason))));
    if (entries.length) before = entries[entries.length - 1].seq;
    more.hidden = entries.length < 100;
    if (!rows.children.length) rows.append(h('tr', {}, h('td', { colspan: 6 }, 'No entry matches.')));
  };
  more.addEventListener('click', () => load(true));

  const verify = async () => {
    verdict.replaceChildren(h('p', {}, 'Verifying the whole chain…'));
    const r = await api('GET', '/v1/audit/verify');
    verdict.replaceChildren(
      r.ok ? h('p', { class: 'okmsg' }, `The chain is sound: ${r.entries} entries, ${r.checkpoints} signed checkpoints.`)
        : h('p', { class: 'error' }, `Problem at entry ${r.problem.seq}: ${r.problem.kind}. ${r.problem.detail}`),
      h('p', { class: 'small' }, `Head ${r.head}`, h('br'), `Last signed ${r.signed || 'none yet'}`));
  };

  root.replaceChildren(h('div', { class: 'page' },
    h('section', { class: 'card' },
      h('h2', {}, 'Verify the chain'),
      h('p', { class: 'small' }, 'Every entry is hash-chained to the one before it, and the server signs the head every few minutes. See docs/AUDIT.md to verify an export without skyfence.'),
      h('button', { id: 'verify', class: 'primary', onclick: verify }, 'Verify now'),
      verdict),
    h('section', { class: 'card' },
      h('h2', {}, 'Audit log'),
      h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); load(false); } },
        h('label', {}, 'Action starts with', action),
        h('label', {}, 'Actor', actor),
        h('label', {}, 'Subject', subject),
        h('button', { type: 'submit', class: 'primary' }, 'Filter')),
      h('table', {}, h('thead', {}, h('tr', {}, ['Seq', 'Time', 'Action', 'Subject', 'Actor', 'Reason'].map((c) => h('th', {}, c)))), rows),
      more)));
  await load(false);
  document.body.dataset.ready = '1';
  return null;
}
