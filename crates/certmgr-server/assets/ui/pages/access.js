// Who may do what (admins only): users with their roles, API tokens (the
// secret shown once, at creation), and the audit log with its filters.

import { call, path, query } from '../api.js';
import { add, confirmAction, field, h, show, showError, table, time, values } from '../dom.js';

const ROLES = ['viewer', 'operator', 'admin'];

function roleField() {
  return field('Role', h('select', { name: 'role' }, ROLES.map((r) => h('option', { value: r }, r))),
    'viewer reads; operator also issues, renews and imports; admin also exports, and manages issuers and access.');
}

function scopeField() {
  return field('Only credentials tagged', h('input', { name: 'tag', placeholder: 'team=web', spellcheck: 'false' }),
    'Optional: limits it to credentials carrying this tag.');
}

/** A secret shown once, with a way to copy it. */
function secretOnce(label, secret) {
  const box = h('input', { value: secret, readonly: true, class: 'mono', 'aria-label': label });
  return h('div', { class: 'notice', role: 'status' },
    h('p', {}, h('strong', {}, label), ' — shown once; copy it now:'), box,
    h('p', {}, h('button', { type: 'button', onclick: () => navigator.clipboard.writeText(secret) }, 'Copy')));
}

/** `/users`. */
export const users = {
  title: 'Users',
  async render(main) {
    const list = await call('GET', '/api/users');
    const rows = h('div');
    const draw = (items) => show(rows, table('Users', ['Name', 'Role', 'Scope', 'Created', 'State'], items.map((u) => [
      u.name, u.role, u.scope ? `${u.scope.key}=${u.scope.value}` : 'all', time(u.created_at), u.disabled_at ? 'disabled' : 'active'])));
    draw(list);
    const out = h('div');
    const form = h('form', { class: 'stack panel', novalidate: true, 'aria-labelledby': 'new-user-title' },
      h('h2', { id: 'new-user-title' }, 'New user'),
      field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false' })),
      roleField(), scopeField(),
      field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password' }),
        'At least 12 characters; leave empty to have one made and shown once.'),
      h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Add user')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const made = await call('POST', '/api/users', values(form));
        show(out, made.password ? secretOnce(`Password of ${made.user.name}`, made.password) : h('p', { role: 'status' }, `Added ${made.user.name}.`));
        form.reset();
        draw(await call('GET', '/api/users'));
      } catch (e) {
        showError(form, e);
      }
    });
    add(main, h('h1', {}, 'Users'), rows, out, form);
  },
};

/** `/tokens`. */
export const tokens = {
  title: 'API tokens',
  async render(main) {
    const rows = h('div');
    const draw = async () => {
      const list = await call('GET', '/api/tokens');
      show(rows, list.length === 0 ? h('p', { class: 'muted' }, 'No token yet.') :
        table('API tokens', ['Name', 'Role', 'Scope', 'Expires', 'Last used', 'Revoke'], list.map((t) => [
          t.name, t.role, t.scope ? `${t.scope.key}=${t.scope.value}` : 'all', time(t.expires_at), time(t.last_used_at),
          t.revoked_at ? 'revoked' : h('button', {
            type: 'button', class: 'danger', 'aria-label': `Revoke ${t.name}`,
            onclick: async () => {
              if (!await confirmAction(`Revoke ${t.name}?`, 'Whatever uses it stops working at once.', 'Revoke')) return;
              await call('DELETE', path('tokens', t.name));
              await draw();
            },
          }, 'Revoke')])));
    };
    await draw();
    const out = h('div');
    const form = h('form', { class: 'stack panel', novalidate: true, 'aria-labelledby': 'new-token-title' },
      h('h2', { id: 'new-token-title' }, 'New token'),
      field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false' })),
      roleField(), scopeField(),
      field('Expires after (days)', h('input', { name: 'expires_days', type: 'number', min: 1, inputmode: 'numeric' }), 'Leave empty for no expiry.'),
      h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Create token')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = values(form);
      if (body.expires_days) body.expires_days = Number(body.expires_days);
      try {
        const made = await call('POST', '/api/tokens', body);
        show(out, secretOnce(`Token ${made.token.name}`, made.secret));
        form.reset();
        await draw();
      } catch (e) {
        showError(form, e);
      }
    });
    add(main, h('h1', {}, 'API tokens'), rows, out, form);
  },
};

/** `/audit`: oldest first, 200 entries a page, filtered by actor, action
 *  and target. */
export const audit = {
  title: 'Audit log',
  async render(main, _params, go) {
    const params = new URLSearchParams(location.search);
    const current = { actor: params.get('actor') || '', action: params.get('action') || '', target: params.get('target') || '' };
    const after = Number(params.get('after') || 0);
    const entries = await call('GET', `/api/audit${query({ ...current, after, limit: 200 })}`);
    const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log' },
      ['actor', 'action', 'target'].map((name) => h('div', { class: 'field' },
        h('label', { for: `audit-${name}` }, name[0].toUpperCase() + name.slice(1)),
        h('input', { id: `audit-${name}`, name, value: current[name], spellcheck: 'false' }))),
      h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Filter'), h('a', { href: '/audit' }, 'Clear')));
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      go(`/audit${query(Object.fromEntries(new FormData(filters)))}`);
    });
    const last = entries.length ? entries[entries.length - 1].seq : null;
    add(main,
      h('h1', {}, 'Audit log'), filters,
      entries.length === 0 ? h('p', { class: 'muted' }, 'No entry matches.') :
        table('Audit entries', ['#', 'When', 'Who', 'From', 'Action', 'Target', 'Outcome', 'Detail'], entries.map((e) => [
          String(e.seq), time(e.at), e.actor, e.address || '—', h('code', {}, e.action), e.target,
          h('span', { class: e.outcome === 'ok' ? 's-valid' : 's-failed' }, e.outcome), e.detail])),
      entries.length === 200 ? h('p', {}, h('a', { href: `/audit${query({ ...current, after: last })}` }, 'Later entries')) : null);
  },
};
