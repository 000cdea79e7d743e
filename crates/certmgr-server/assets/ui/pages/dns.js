// DNS-01: the accounts that publish the TXT records (create one with the
// provider's parameters, test it and read the redacted trace step by step)
// and the provider catalog, each definition shown readably, with imports
// of TOML definitions and the Domino community's DXL files.

import { call, can, path } from '../api.js';
import { add, checkbox, confirmAction, download, field, h, show, showError, table, time, values } from '../dom.js';

export const title = 'DNS';

const ACCOUNT = '/api/dns/accounts/{name}';

/** `/dns`, `/dns/accounts/NAME` or `/dns/providers/ID`. */
export async function render(main, [rest], go) {
  const [kind, name] = (rest || '').split('/');
  if (kind === 'accounts' && name) return account(main, name, go);
  if (kind === 'providers' && name) return provider(main, name);
  return overview(main, go);
}

async function overview(main, go) {
  const [accounts, providers] = await Promise.all([call('GET', '/api/dns/accounts'), call('GET', '/api/dns/providers')]);
  add(main,
    h('h1', {}, 'DNS'),
    h('h2', {}, 'Accounts'),
    accounts.length === 0 ? h('p', { class: 'muted' }, 'No DNS account yet: dns-01 needs one.') :
      table('DNS accounts', ['Name', 'Provider', 'Zones'], accounts.map((a) => [
        h('a', { href: `/dns/accounts/${encodeURIComponent(a.name)}` }, a.name),
        h('a', { href: `/dns/providers/${encodeURIComponent(a.provider)}` }, a.provider),
        a.zones.join(', ')])),
    can('POST', '/api/dns/accounts') ? newAccount(providers, go) : null,
    h('h2', {}, `Providers (${providers.length})`),
    table('DNS providers', ['Provider', 'Kind', 'API documentation'], providers.map((p) => [
      h('a', { href: `/dns/providers/${encodeURIComponent(p.id)}` }, p.name, ' ', h('span', { class: 'muted' }, `(${p.id})`)),
      p.kind,
      p.api_docs ? h('a', { href: p.api_docs, rel: 'noreferrer', target: '_blank' }, 'docs') : '—'])),
    can('POST', '/api/dns/providers') ? importProvider(go) : null);
}

/** The new-account form; the provider's parameters appear once it is chosen. */
function newAccount(providers, go) {
  const params = h('div', { class: 'stack' });
  const provider = h('select', { name: 'provider', required: true },
    h('option', { value: '' }, 'choose…'),
    providers.map((p) => h('option', { value: p.id }, `${p.name} (${p.id})`)));
  provider.addEventListener('change', async () => {
    show(params);
    if (!provider.value) return;
    const def = await call('GET', path('dns', 'providers', provider.value));
    show(params, def.parameters.map((p) => field(`${p.name}${p.required ? '' : ' (optional)'}`,
      h('input', {
        name: `param.${p.name}`, id: `f-parameters-${p.name}`, type: p.secret ? 'password' : 'text',
        autocomplete: 'off', spellcheck: 'false', placeholder: p.default || null,
      }), p.secret ? `${p.help} Stored sealed; never shown again.` : p.help)));
  });
  const form = h('form', { class: 'stack panel', novalidate: true, 'aria-labelledby': 'new-dns-title' },
    h('h3', { id: 'new-dns-title' }, 'New DNS account'),
    field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false' })),
    field('Provider', provider),
    field('Zones', h('input', { name: 'zones', required: true, spellcheck: 'false' }), 'The zones it publishes in, comma separated: example.com, example.org.'),
    params,
    field('Authoritative servers', h('input', { name: 'nameservers', spellcheck: 'false', placeholder: '192.0.2.53:53' }),
      'Optional, comma separated address:port: where to check that the records are out. Empty: found through DNS.'),
    checkbox('Allow loopback and private addresses', 'allow_private_network', 'For a DNS server API on your own network.'),
    checkbox('Allow plain http:// URLs', 'allow_plain_http', 'The API key then crosses the network unencrypted.'),
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Create account')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const v = values(form);
    const body = {
      name: v.name || '', provider: v.provider || '',
      zones: (v.zones || '').split(/[\s,]+/).filter(Boolean),
      parameters: {}, allow_private_network: !!v.allow_private_network, allow_plain_http: !!v.allow_plain_http,
      nameservers: (v.nameservers || '').split(/[\s,]+/).filter(Boolean),
    };
    for (const [key, value] of Object.entries(v)) if (key.startsWith('param.')) body.parameters[key.slice(6)] = value;
    try {
      await call('POST', '/api/dns/accounts', body);
      go(`/dns/accounts/${encodeURIComponent(body.name)}`);
    } catch (e) {
      showError(form, e);
    }
  });
  return form;
}

/** Import a TOML provider definition or a Domino DXL export. */
function importProvider(go) {
  const file = h('input', { type: 'file', name: 'text', accept: '.toml,.dxl,.xml' });
  const form = h('form', { class: 'stack panel', novalidate: true, 'aria-labelledby': 'import-dns-title' },
    h('h3', { id: 'import-dns-title' }, 'Import provider definitions'),
    field('TOML or DXL file', file, 'A certmgr TOML definition, or a Domino CertMgr DXL export (provider configurations with their accounts).'),
    checkbox('Let the imported accounts reach private addresses', 'dxl_allow_private_network'),
    checkbox('Let the imported accounts use plain http://', 'dxl_allow_plain_http'),
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Import')));
  const result = h('div', { role: 'status' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const v = values(form);
    if (file.files.length === 0) {
      showError(form, { problem: { title: 'No file', detail: 'choose a TOML or DXL file first', field: 'text' } });
      return;
    }
    const chosen = file.files[0];
    try {
      const answer = await call('POST', '/api/dns/providers', {
        file_name: chosen.name, text: await chosen.text(),
        allow_private_network: !!v.dxl_allow_private_network, allow_plain_http: !!v.dxl_allow_plain_http,
      });
      show(result, h('div', { class: 'notice' },
        h('p', {}, `Imported: ${answer.providers.join(', ') || 'no provider'}.`),
        answer.dns_accounts.length ? h('p', {}, `DNS accounts: ${answer.dns_accounts.join(', ')}.`) : null,
        answer.acme_accounts.length ? h('p', {}, `ACME accounts: ${answer.acme_accounts.join(', ')}.`) : null,
        answer.skipped.concat(answer.warnings).map((w) => h('p', {}, w)),
        h('p', {}, h('a', { href: '/dns', onclick: (e) => { e.preventDefault(); go('/dns', true); } }, 'Show the catalog'))));
    } catch (e) {
      showError(form, e);
    }
  });
  return h('div', {}, form, result);
}

async function account(main, name, go) {
  const a = await call('GET', path('dns', 'accounts', name));
  const result = h('section', { 'aria-label': 'Test result' });
  const test = async (button) => {
    button.disabled = true;
    show(result, h('p', { role: 'status' }, 'Adding and deleting a probe TXT record…'));
    try {
      const t = await call('POST', path('dns', 'accounts', name, 'test'));
      show(result,
        h('p', { role: 'status', class: t.ok ? 'notice' : 'alert' },
          t.ok ? `The probe ${t.record} was added and deleted.` :
            `The test failed: ${[t.add_error, t.delete_error].filter(Boolean).join('; ')}`),
        h('h3', {}, 'Trace (secrets redacted)'),
        h('ol', { class: 'steps trace mono' }, t.trace.split('\n').filter((l) => l.trim()).map((l) => h('li', {}, l))));
    } catch (e) {
      show(result, h('div', { class: 'alert', role: 'alert' }, e.message));
    } finally {
      button.disabled = false;
    }
  };
  add(main,
    h('p', {}, h('a', { href: '/dns' }, '← DNS')),
    h('h1', {}, `DNS account ${a.name}`),
    h('div', { class: 'row', role: 'group', 'aria-label': 'Actions' },
      can('POST', `${ACCOUNT}/test`) ? h('button', { type: 'button', class: 'primary', onclick: (e) => test(e.currentTarget) }, 'Test') : null,
      can('DELETE', ACCOUNT) ? h('button', {
        type: 'button', class: 'danger',
        onclick: async () => {
          if (!await confirmAction(`Delete ${name}?`, 'Credentials that use it cannot renew by dns-01 until they get another.', 'Delete')) return;
          try { await call('DELETE', path('dns', 'accounts', name)); go('/dns', true); } catch (e) { show(result, h('div', { class: 'alert', role: 'alert' }, e.message)); }
        },
      }, 'Delete') : null),
    result,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Provider'), h('dd', {}, h('a', { href: `/dns/providers/${encodeURIComponent(a.provider)}` }, a.provider)),
      h('dt', {}, 'Zones'), h('dd', {}, a.zones.join(', ')),
      h('dt', {}, 'Parameters set'), h('dd', {}, a.parameters.join(', ') || '—', h('span', { class: 'muted' }, ' (values are sealed)')),
      h('dt', {}, 'Propagation'), h('dd', {}, String(a.propagation)),
      h('dt', {}, 'Nameservers'), h('dd', {}, a.nameservers.join(', ') || 'discovered'),
      h('dt', {}, 'Private addresses'), h('dd', {}, a.allow_private_network ? 'allowed' : 'refused'),
      h('dt', {}, 'Plain http'), h('dd', {}, a.allow_plain_http ? 'allowed' : 'refused'),
      h('dt', {}, 'Created'), h('dd', {}, time(a.created_at))));
}

async function provider(main, id) {
  const p = await call('GET', path('dns', 'providers', id));
  const hosts = p.destinations.hosts.concat(p.destinations.from_account_parameters.map((u) =>
    `${u.parameter} (account parameter${u.default_host ? `, default ${u.default_host}` : ''})`));
  add(main,
    h('p', {}, h('a', { href: '/dns' }, '← DNS')),
    h('h1', {}, p.name),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Id'), h('dd', { class: 'mono' }, p.id),
      h('dt', {}, 'Kind'), h('dd', {}, p.kind),
      p.website ? [h('dt', {}, 'Website'), h('dd', {}, h('a', { href: p.website, rel: 'noreferrer', target: '_blank' }, p.website))] : null,
      p.api_docs ? [h('dt', {}, 'API documentation'), h('dd', {}, h('a', { href: p.api_docs, rel: 'noreferrer', target: '_blank' }, p.api_docs))] : null,
      p.token_scopes ? [h('dt', {}, 'Token scopes'), h('dd', {}, p.token_scopes)] : null,
      h('dt', {}, 'Requests go to'), h('dd', {}, hosts.join(', ') || '—'),
      h('dt', {}, 'Smallest TTL'), h('dd', {}, `${p.min_ttl} s`),
      h('dt', {}, 'Several TXT values'), h('dd', {}, p.multi_value_txt ? 'yes' : 'no'),
      h('dt', {}, 'Propagation'), h('dd', {}, `about ${p.propagation_secs} s`),
      p.notes ? [h('dt', {}, 'Notes'), h('dd', {}, p.notes)] : null),
    h('h2', {}, 'Parameters'),
    p.parameters.length === 0 ? h('p', { class: 'muted' }, 'None.') :
      table('Parameters', ['Name', 'Required', 'Secret', 'Default', 'What it is'], p.parameters.map((x) => [
        h('code', {}, x.name), x.required ? 'yes' : 'no', x.secret ? 'yes' : 'no', x.default || '—', x.help])),
    can('GET', '/api/dns/providers/{name}/dxl') ? h('p', {}, h('button', {
      type: 'button',
      onclick: async () => download(`${p.id}.dxl`, await call('GET', path('dns', 'providers', p.id, 'dxl')), 'application/xml'),
    }, 'Download as DXL')) : null);
}
