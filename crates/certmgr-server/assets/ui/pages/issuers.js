// Where certificates come from: the MicroCAs (with their roots to
// download and install), the ACME accounts and the catalog of public ACME
// CAs, and the trust store that chains are checked against.

import { call, can, path } from '../api.js';
import { add, checkbox, days, download, field, h, showError, table, time, values } from '../dom.js';

/** `/cas`: the MicroCAs. */
export const cas = {
  title: 'MicroCAs',
  async render(main, _params, go) {
    const list = await call('GET', '/api/cas');
    add(main,
      h('h1', {}, 'MicroCAs'),
      list.length === 0 ? h('p', { class: 'muted' }, 'No MicroCA yet.') :
        table('MicroCAs', ['Name', 'Subject', 'Key', 'Expires', 'Root'], list.map((ca) => [
          ca.name, ca.subject, ca.key_spec, [time(ca.not_after, false), ' ', h('span', { class: 'muted' }, days(ca.days_to_expiry))],
          h('button', {
            type: 'button',
            'aria-label': `Download root of ${ca.name}`,
            onclick: async () => download(`${ca.name}-root.pem`, await call('GET', path('cas', ca.name, 'certificate')), 'application/x-pem-file'),
          }, 'Download root')])),
      can('POST', '/api/cas') ? newCa(go) : null);
  },
};

function newCa(go) {
  const form = h('form', { class: 'stack panel', novalidate: true, 'aria-labelledby': 'new-ca-title' },
    h('h2', { id: 'new-ca-title' }, 'New MicroCA'),
    field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false' })),
    field('Key', h('select', { name: 'key' }, ['ecdsa-p256', 'ecdsa-p384', 'rsa-3072', 'rsa-4096'].map((k) => h('option', { value: k }, k)))),
    field('Validity (days)', h('input', { name: 'validity_days', type: 'number', min: 1, inputmode: 'numeric' }), 'Leave empty for ten years.'),
    field('Common name', h('input', { name: 'common_name' }), 'Leave empty for "certmgr MicroCA NAME".'),
    checkbox('With an intermediate CA that signs the certificates', 'intermediate'),
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Create MicroCA')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const v = values(form);
    const body = { name: v.name || '', key: v.key, intermediate: !!v.intermediate };
    if (v.validity_days) body.validity_days = Number(v.validity_days);
    if (v.common_name) body.common_name = v.common_name;
    try {
      await call('POST', '/api/cas', body);
      go('/cas', true);
    } catch (e) {
      showError(form, e);
    }
  });
  return form;
}

/** `/acme`: ACME accounts and the catalog of CAs. */
export const acme = {
  title: 'ACME',
  async render(main) {
    const [accounts, catalog] = await Promise.all([call('GET', '/api/acme/accounts'), call('GET', '/api/acme/catalog')]);
    add(main,
      h('h1', {}, 'ACME'),
      h('h2', {}, 'Accounts'),
      accounts.length === 0 ? h('p', { class: 'muted' }, 'No ACME account yet (certmgr acme account create, or POST /api/acme/accounts).') :
        table('ACME accounts', ['Name', 'Status', 'CA', 'Contacts', 'Created'], accounts.map((a) => [
          a.name, a.status, h('span', { class: 'mono' }, a.ca_id || a.directory_url), a.contacts.join(', ') || '—', time(a.created_at)])),
      h('h2', {}, 'CA catalog'),
      table('ACME CAs', ['CA', 'Directory', 'Needs EAB', 'Wildcards', 'IP addresses', 'Renewal info'], catalog.map((c) => [
        [c.name, c.staging ? h('span', { class: 'muted' }, ' (staging)') : null],
        h('span', { class: 'mono' }, c.directory), c.eab_required ? 'yes' : 'no', c.wildcard ? 'yes' : 'no',
        c.ip ? 'yes' : 'no', c.ari ? 'yes' : 'no'])));
  },
};

/** `/trust`: the trust store. */
export const trust = {
  title: 'Trust store',
  async render(main, _params, go) {
    const anchors = await call('GET', '/api/trust');
    const form = h('form', { class: 'stack panel', novalidate: true, 'aria-labelledby': 'trust-title' },
      h('h2', { id: 'trust-title' }, 'Add certificates'),
      field('Certificates (PEM)', h('textarea', { name: 'pem', spellcheck: 'false' }), 'Roots, or intermediates that complete chains.'),
      h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Add')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await call('POST', '/api/trust', { pem: values(form).pem || '' });
        go('/trust', true);
      } catch (e) {
        showError(form, e);
      }
    });
    add(main,
      h('h1', {}, 'Trust store'),
      anchors.length === 0 ? h('p', { class: 'muted' }, 'Empty: chains are checked against the system\'s roots only.') :
        table('Trusted certificates', ['Subject', 'Kind', 'Expires', 'SHA-256'], anchors.map((a) => [
          a.subject, a.is_root ? 'root' : 'intermediate', time(a.not_after, false), h('span', { class: 'mono' }, a.fingerprint)])),
      can('POST', '/api/trust') ? form : null);
  },
};
