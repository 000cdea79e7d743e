// A new credential, for every way a certificate comes to be: from a
// MicroCA or an ACME CA (issued at once, its progress shown live), by the
// manual flow (a CSR for any CA), or by importing one. Errors show next to
// the field at fault, and nothing is stored until the request is valid.

import { call, can, path, query } from '../api.js';
import { add, field, h, showError, values } from '../dom.js';

export const title = 'New credential';

const KEYS = [
  ['ecdsa-p256', 'ECDSA P-256 (default)'], ['ecdsa-p384', 'ECDSA P-384'], ['rsa-2048', 'RSA 2048'],
  ['rsa-3072', 'RSA 3072'], ['rsa-4096', 'RSA 4096'], ['rsa-2048,ecdsa-p256', 'Dual: RSA 2048 and ECDSA P-256'],
];

export async function render(main, _params, go) {
  const optional = (promise) => promise.catch(() => []);
  const [cas, accounts, dnsAccounts] = await Promise.all([
    can('GET', '/api/cas') ? optional(call('GET', '/api/cas')) : [],
    can('GET', '/api/acme/accounts') ? optional(call('GET', '/api/acme/accounts')) : [],
    can('GET', '/api/dns/accounts') ? optional(call('GET', '/api/dns/accounts')) : [],
  ]);
  const issuer = h('select', { name: 'issuer', required: true },
    cas.length ? h('optgroup', { label: 'MicroCA' }, cas.map((ca) => h('option', { value: `ca:${ca.name}` }, `MicroCA ${ca.name}`))) : null,
    accounts.length ? h('optgroup', { label: 'ACME' }, accounts.map((a) => h('option', { value: `acme:${a.name}` }, `ACME ${a.name}`))) : null,
    h('optgroup', { label: 'Other' },
      h('option', { value: 'manual' }, 'Manual: a CSR for any CA'),
      h('option', { value: 'import' }, 'Import: a certificate from elsewhere')));
  const challenge = h('select', { name: 'challenge' },
    ['http-01', 'tls-alpn-01', 'dns-01'].map((c) => h('option', { value: c }, c)));
  const dnsAccount = h('select', { name: 'dns_account' },
    h('option', { value: '' }, 'none'), dnsAccounts.map((a) => h('option', { value: a.name }, a.name)));
  const acmeOnly = h('div', { class: 'stack' },
    field('Challenge', challenge, 'How the CA checks the hostnames.'),
    field('DNS account', dnsAccount, 'For dns-01: the account that publishes the TXT records.'));
  const caOnly = field('Validity (days)', h('input', { name: 'validity_days', type: 'number', min: 1, max: 3650, inputmode: 'numeric' }),
    'For a MicroCA: 1 to 3650 days.');
  const form = h('form', { class: 'stack', novalidate: true },
    field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false' }),
      'How certmgr and its API call it, e.g. www-example-com.'),
    field('Hostnames', h('textarea', { name: 'hostnames', required: true, spellcheck: 'false' }),
      'One per line: DNS names, wildcards (*.example.com, dns-01 only), IP addresses.'),
    field('Key', h('select', { name: 'keys' }, KEYS.map(([v, label]) => h('option', { value: v }, label)))),
    field('Issuer', issuer),
    acmeOnly, caOnly,
    field('Renew before expiry (days)', h('input', { name: 'renew_before_days', type: 'number', min: 1, inputmode: 'numeric' }),
      'Leave empty for the default: a third of the validity.'),
    field('Tags', h('input', { name: 'tags', placeholder: 'team=web, env=prod', spellcheck: 'false' })),
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Create'), h('a', { href: '/credentials' }, 'Cancel')));
  const sync = () => {
    acmeOnly.hidden = !issuer.value.startsWith('acme:');
    caOnly.hidden = !issuer.value.startsWith('ca:');
    for (const c of acmeOnly.querySelectorAll('select')) c.disabled = acmeOnly.hidden;
    for (const c of caOnly.querySelectorAll('input')) c.disabled = caOnly.hidden;
  };
  issuer.addEventListener('change', sync);
  sync();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const v = values(form);
    const body = {
      name: v.name || '',
      hostnames: (v.hostnames || '').split(/[\s,]+/).filter(Boolean),
      keys: (v.keys || '').split(',').filter(Boolean),
      issuer: v.issuer,
    };
    if (v.challenge) body.challenge = v.challenge;
    if (v.dns_account) body.dns_account = v.dns_account;
    for (const n of ['validity_days', 'renew_before_days']) if (v[n]) body[n] = Number(v[n]);
    if (v.tags) {
      body.tags = {};
      for (const pair of v.tags.split(',').map((t) => t.trim()).filter(Boolean)) {
        const [key, ...rest] = pair.split('=');
        body.tags[key.trim()] = rest.join('=').trim();
      }
    }
    try {
      await call('POST', '/api/credentials', body);
    } catch (e) {
      showError(form, e);
      return;
    }
    const here = `/credentials/${encodeURIComponent(body.name)}`;
    if (body.issuer.startsWith('ca:') || body.issuer.startsWith('acme:')) {
      try {
        const job = await call('POST', path('credentials', body.name, 'issue'));
        go(`${here}${query({ job: job.id })}`);
        return;
      } catch { /* the credential exists; its page shows the state and the Issue button */ }
    }
    go(here);
  });
  add(main, h('p', {}, h('a', { href: '/credentials' }, '← Credentials')), h('h1', {}, 'New credential'), form);
}
