// One credential: what it is for, its keys with their chains drawn from
// the leaf up to the root, versions, tags and events; the live progress of
// an issuance started here; and the actions the caller's role allows.

import { call, can, path, query } from '../api.js';
import { add, badge, confirmAction, days, h, show, time } from '../dom.js';
import { showJob, watchJob } from '../job.js';
import { csrPanel, exportForm, importForm } from './flows.js';

export const title = 'Credential';

const ROUTE = '/api/credentials/{name}';

export async function render(main, [name], go) {
  const [detail, events] = await Promise.all([
    call('GET', path('credentials', name)),
    call('GET', path('credentials', name, 'events')),
  ]);
  const c = detail.credential;
  document.title = `${c.name} · certmgr`;
  const jobBox = h('section', { 'aria-label': 'Progress' });
  const panel = h('div');
  let stop = null;

  const startJob = async (kind) => {
    try {
      const job = await call('POST', path('credentials', name, kind));
      history.replaceState(null, '', `/credentials/${encodeURIComponent(name)}${query({ job: job.id })}`);
      watch(job.id);
    } catch (e) {
      show(jobBox, h('div', { class: 'alert', role: 'alert' }, e.message));
    }
  };
  const watch = (id) => {
    if (stop) stop();
    // Once it ends: the credential as it is now, with the job's steps.
    stop = watchJob(id, jobBox, () => go(`/credentials/${encodeURIComponent(name)}${query({ done: id })}`, true));
  };
  const issuable = c.issuer.startsWith('ca:') || c.issuer.startsWith('acme:');
  const hasCert = detail.keys.some((k) => k.certificate);
  const actions = h('div', { class: 'row', role: 'group', 'aria-label': 'Actions' },
    issuable && !hasCert && can('POST', `${ROUTE}/issue`) ? h('button', { type: 'button', class: 'primary', onclick: () => startJob('issue') }, 'Issue') : null,
    issuable && hasCert && can('POST', `${ROUTE}/renew`) ? h('button', { type: 'button', class: 'primary', onclick: () => startJob('renew') }, 'Renew now') : null,
    hasCert && can('POST', `${ROUTE}/export`) ? h('button', { type: 'button', onclick: () => show(panel, exportForm(name)) }, 'Export') : null,
    can('POST', `${ROUTE}/import`) ? h('button', { type: 'button', onclick: () => show(panel, importForm(name, () => go(`/credentials/${encodeURIComponent(name)}`, true))) }, 'Import') : null,
    hasCert && c.status !== 'revoked' && can('POST', `${ROUTE}/revoke`) ? h('button', {
      type: 'button', class: 'danger',
      onclick: async () => {
        if (!await confirmAction(`Revoke ${name}?`, 'Its certificates are revoked at their CA. This cannot be undone.', 'Revoke')) return;
        try {
          await call('POST', path('credentials', name, 'revoke'), { reason: 'unspecified' });
          go(`/credentials/${encodeURIComponent(name)}`, true);
        } catch (e) { show(panel, h('div', { class: 'alert', role: 'alert' }, e.message)); }
      },
    }, 'Revoke') : null,
    can('DELETE', ROUTE) ? h('button', {
      type: 'button', class: 'danger',
      onclick: async () => {
        if (!await confirmAction(`Delete ${name}?`, 'Its keys and certificates leave the store. This cannot be undone.', 'Delete')) return;
        try {
          await call('DELETE', path('credentials', name));
          go('/credentials', true);
        } catch (e) { show(panel, h('div', { class: 'alert', role: 'alert' }, e.message)); }
      },
    }, 'Delete') : null);

  add(main,
    h('p', {}, h('a', { href: '/credentials' }, '← Credentials')),
    h('div', { class: 'row' }, h('h1', {}, c.name), badge('s', c.status), badge('h', c.health)),
    actions, jobBox, panel,
    c.last_error ? h('div', { class: 'alert', role: 'alert' }, h('p', {}, h('strong', {}, 'Last error: '), c.last_error)) : null,
    h('h2', {}, 'Details'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Hostnames'), h('dd', {}, c.hostnames.join(', ')),
      h('dt', {}, 'Issuer'), h('dd', {}, h('code', {}, c.issuer)),
      h('dt', {}, 'Keys'), h('dd', {}, c.key_specs.join(', ')),
      c.challenge ? [h('dt', {}, 'Challenge'), h('dd', {}, c.challenge)] : null,
      c.dns_account ? [h('dt', {}, 'DNS account'), h('dd', {}, c.dns_account)] : null,
      c.validity_days ? [h('dt', {}, 'Validity'), h('dd', {}, `${c.validity_days} days`)] : null,
      h('dt', {}, 'Expires'), h('dd', {}, time(c.not_after)),
      h('dt', {}, 'Renewed'), h('dd', {}, c.renew_at ? time(c.renew_at) : '—'),
      h('dt', {}, 'Tags'), h('dd', {}, Object.entries(detail.tags).map(([k, v]) => `${k}=${v}`).join(', ') || '—'),
      h('dt', {}, 'Created'), h('dd', {}, time(c.created_at))),
    c.issuer === 'manual' && can('POST', `${ROUTE}/csr`) ? csrPanel(name) : null,
    h('h2', {}, 'Keys and chains'),
    detail.keys.length === 0 ? h('p', { class: 'muted' }, 'No key yet.') : detail.keys.map(keySection),
    h('h2', {}, 'Versions'),
    h('p', {}, [...detail.versions].map((v) => `v${v}`).join(', ') || '—', ` (current: v${c.current_version})`),
    h('h2', {}, 'Events'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Event'), h('th', { scope: 'col' }, 'What happened'))),
      h('tbody', {}, [...events].reverse().map((e) => h('tr', {}, h('td', {}, time(e.at)), h('td', {}, e.kind), h('td', {}, e.message)))))));

  const params = new URLSearchParams(location.search);
  if (params.get('job')) {
    watch(params.get('job'));
  } else if (params.get('done')) {
    // The job that just ended here: its steps stay in view.
    call('GET', path('jobs', params.get('done'))).then((view) => showJob(view, jobBox)).catch(() => {});
  }
  return () => { if (stop) stop(); };
}

/** One key: its certificate and those above it, leaf first. */
function keySection(key) {
  const chain = key.certificate ? [key.certificate, ...key.issuers] : [];
  return h('section', { class: 'panel', 'aria-label': `${key.key_spec} key` },
    h('h3', {}, `${key.key_spec} key`, h('span', { class: 'muted' }, ` — version ${key.version}, ${key.source}`)),
    chain.length === 0 ? h('p', { class: 'muted' }, 'No certificate yet.') :
      h('ol', { class: 'chain', 'aria-label': 'Chain, from the certificate to its root' }, chain.map((cert, i) =>
        h('li', {},
          h('strong', {}, i === 0 ? 'Certificate' : (i === chain.length - 1 && cert.subject === cert.issuer ? 'Root' : 'Intermediate')),
          h('dl', { class: 'facts' },
            h('dt', {}, 'Subject'), h('dd', {}, cert.subject),
            h('dt', {}, 'Issuer'), h('dd', {}, cert.issuer),
            h('dt', {}, 'Valid'), h('dd', {}, time(cert.not_before), ' to ', time(cert.not_after), ` (${days(cert.days_left)})`),
            h('dt', {}, 'Serial'), h('dd', { class: 'mono' }, cert.serial),
            h('dt', {}, 'SHA-256'), h('dd', { class: 'mono' }, cert.sha256_fingerprint))))));
}
