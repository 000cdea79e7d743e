// Notifications: the channels notices go out on (e-mail over SMTP, signed
// webhooks, Slack, Teams), each with a "send test" button, and the notices
// decided so far with their delivery on every channel.

import { call, can, path, query } from '../api.js';
import { add, checkbox, confirmAction, field, h, show, showError, table, time, values } from '../dom.js';

export const title = 'Notifications';

const EVENTS = [
  ['issuance-failed', 'Issuance failed'], ['renewal-overdue', 'Renewal overdue'],
  ['expiring', 'Expiring in 14, 7, 3 and 1 days'], ['expired', 'Expired'], ['revoked', 'Revoked'],
];
const CHANNELS = '/api/notifications/channels';

export async function render(main, _params, go) {
  const admin = can('GET', CHANNELS);
  const [channels, notices] = await Promise.all([
    admin ? call('GET', CHANNELS) : [],
    call('GET', `/api/notifications${query({ limit: 50 })}`),
  ]);
  add(main,
    h('h1', {}, 'Notifications'),
    admin ? [h('h2', {}, 'Channels'), channelTable(channels, go), newChannel(go)] : null,
    h('h2', {}, 'Notices'),
    notices.items.length === 0 ? h('p', { class: 'muted' }, 'No notice yet.') :
      table('Notices, newest first', ['When', 'Credential', 'Event', 'What happened', 'Delivery'], notices.items.map((n) => [
        time(n.created_at),
        h('a', { href: `/credentials/${encodeURIComponent(n.credential)}` }, n.credential),
        n.threshold_days ? `${n.event} (${n.threshold_days} d)` : n.event,
        n.message,
        n.deliveries.map((d) => h('div', { class: d.state === 'failed' ? 'step-error' : null },
          `${d.channel}: ${d.state}`, d.last_error ? ` — ${d.last_error}` : ''))])));
}

function channelTable(channels, go) {
  if (channels.length === 0) return h('p', { class: 'muted' }, 'No channel yet: nothing is sent.');
  return table('Notification channels', ['Name', 'Kind', 'Destination', 'Sends', 'Test', 'Delete'], channels.map((c) => {
    const out = h('span', { role: 'status' });
    const destination = c.email ? `${c.email.to.join(', ')} via ${c.email.host}:${c.email.port} (${c.email.security})`
      : `${c.webhook.url} (${c.webhook.format}${c.webhook.secret_set ? ', signed' : ''})`;
    return [
      [c.name, c.enabled ? '' : h('span', { class: 'muted' }, ' (off)')],
      c.kind, destination,
      [c.events.length ? c.events.join(', ') : 'every event', c.digest ? `; daily digest at ${c.digest_hour ?? 8}:00 UTC` : ''],
      [h('button', {
        type: 'button', 'aria-label': `Send test to ${c.name}`,
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          show(out, ' sending…');
          try {
            const sent = await call('POST', path('notifications', 'channels', c.name, 'test'));
            show(out, h('span', { class: 's-valid' }, ` sent to ${sent.destination} in ${sent.elapsed_ms} ms`));
          } catch (e) {
            show(out, h('span', { class: 's-failed' }, ` ${e.message}`));
          } finally {
            button.disabled = false;
          }
        },
      }, 'Send test'), out],
      h('button', {
        type: 'button', class: 'danger', 'aria-label': `Delete ${c.name}`,
        onclick: async () => {
          if (!await confirmAction(`Delete the channel ${c.name}?`, 'Nothing more is sent on it; its notices stay in the log.', 'Delete')) return;
          await call('DELETE', path('notifications', 'channels', c.name));
          go('/notifications', true);
        },
      }, 'Delete'),
    ];
  }));
}

function newChannel(go) {
  const kind = (value, label) => h('label', {}, h('input', { type: 'radio', name: 'kind', value, checked: value === 'email' }), ` ${label}`);
  const email = h('div', { class: 'stack' },
    field('SMTP server', h('input', { name: 'email.host', spellcheck: 'false', placeholder: 'smtp.example.com' })),
    field('Port', h('input', { name: 'email.port', type: 'number', inputmode: 'numeric' }), 'Empty: 587 with STARTTLS, 465 with TLS.'),
    field('Security', h('select', { name: 'email.security' },
      h('option', { value: 'starttls' }, 'STARTTLS'), h('option', { value: 'tls' }, 'TLS from the start (SMTPS)'))),
    field('User', h('input', { name: 'email.username', autocomplete: 'off', spellcheck: 'false' }), 'Optional: sign in to the server.'),
    field('Password', h('input', { name: 'email.password', type: 'password', autocomplete: 'new-password' }), 'Stored sealed; never shown again.'),
    field('From', h('input', { name: 'email.from', type: 'email', spellcheck: 'false', placeholder: 'certmgr@example.com' })),
    field('To', h('input', { name: 'email.to', spellcheck: 'false', placeholder: 'ops@example.com, pki@example.com' }), 'Comma separated.'),
    field('CA certificate (PEM)', h('textarea', { name: 'email.ca_pem', spellcheck: 'false' }), 'Optional: for a server whose certificate is from a private CA.'));
  const webhook = h('div', { class: 'stack' },
    field('URL', h('input', { name: 'webhook.url', type: 'url', spellcheck: 'false', placeholder: 'https://hooks.example.com/…' }),
      'Stored sealed (it often holds a token); shown as its origin only.'),
    field('Format', h('select', { name: 'webhook.format' },
      h('option', { value: 'generic' }, 'JSON, signed (X-Certmgr-Signature)'), h('option', { value: 'slack' }, 'Slack'),
      h('option', { value: 'teams' }, 'Microsoft Teams'))),
    field('Signing secret', h('input', { name: 'webhook.secret', type: 'password', autocomplete: 'new-password' }),
      'For the JSON format: the receiver checks the HMAC-SHA256 with it.'),
    field('CA certificate (PEM)', h('textarea', { name: 'webhook.ca_pem', spellcheck: 'false' }), 'Optional: for a receiver with a private CA.'),
    checkbox('Allow a plain http:// URL', 'webhook.allow_plain_http', 'The message and its signature then cross the network unencrypted.'));
  const form = h('form', { class: 'stack panel', novalidate: true, 'aria-labelledby': 'new-channel-title' },
    h('h3', { id: 'new-channel-title' }, 'New channel'),
    field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false' })),
    h('fieldset', {}, h('legend', {}, 'Kind'), kind('email', 'E-mail'), ' ', kind('webhook', 'Webhook')),
    email, webhook,
    h('fieldset', {}, h('legend', {}, 'Events (none ticked: every event)'),
      EVENTS.map(([value, label]) => h('div', {}, h('label', {}, h('input', { type: 'checkbox', name: `event.${value}` }), ` ${label}`)))),
    checkbox('One daily digest instead of each notice at once', 'digest'),
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Add channel')));
  const sync = () => {
    const isEmail = form.querySelector('input[name="kind"]:checked').value === 'email';
    email.hidden = !isEmail;
    webhook.hidden = isEmail;
    for (const c of email.querySelectorAll('input, select, textarea')) c.disabled = !isEmail;
    for (const c of webhook.querySelectorAll('input, select, textarea')) c.disabled = isEmail;
  };
  for (const r of form.querySelectorAll('input[name="kind"]')) r.addEventListener('change', sync);
  sync();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const v = values(form);
    const body = { name: v.name || '', digest: !!v.digest, events: EVENTS.map(([e]) => e).filter((e) => v[`event.${e}`]) };
    const section = v.kind === 'webhook' ? 'webhook' : 'email';
    body[section] = {};
    for (const [key, value] of Object.entries(v)) {
      if (!key.startsWith(`${section}.`) || value === false) continue;
      body[section][key.slice(section.length + 1)] = value;
    }
    if (section === 'email') {
      body.email.to = (body.email.to || '').split(/[\s,]+/).filter(Boolean);
      body.email.from = body.email.from || '';
      body.email.host = body.email.host || '';
      if (body.email.port) body.email.port = Number(body.email.port);
    }
    try {
      await call('POST', CHANNELS, body);
      go('/notifications', true);
    } catch (e) {
      showError(form, e);
    }
  });
  return form;
}
