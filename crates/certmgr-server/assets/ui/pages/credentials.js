// The credential list: filters and search in the address (so a view can be
// bookmarked), sorting by name or expiry, pages by cursor, and renewing
// several at once (one job each).

import { call, can, path, query } from '../api.js';
import { add, badge, days, h, show, time } from '../dom.js';

export const title = 'Credentials';

const STATUSES = ['pending', 'issuing', 'valid', 'renewal-due', 'failed', 'revoked', 'expired'];
const HEALTHS = ['ok', 'warning', 'error'];
const FILTERS = ['search', 'status', 'health', 'issuer', 'tag', 'sort'];

export async function render(main, _params, go) {
  const params = new URLSearchParams(location.search);
  const current = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || '']));
  const page = await call('GET', `/api/credentials${query({ ...current, cursor: params.get('cursor'), limit: 50 })}`);

  const select = (name, label, options) => h('div', { class: 'field' },
    h('label', { for: `filter-${name}` }, label),
    h('select', { id: `filter-${name}`, name },
      h('option', { value: '' }, 'any'),
      options.map((o) => h('option', { value: o, selected: current[name] === o }, o))));
  const text = (name, label, placeholder) => h('div', { class: 'field' },
    h('label', { for: `filter-${name}` }, label),
    h('input', { id: `filter-${name}`, name, type: 'search', value: current[name], placeholder }));
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter credentials' },
    text('search', 'Name or hostname', 'www.example.com'),
    select('status', 'Status', STATUSES),
    select('health', 'Health', HEALTHS),
    text('issuer', 'Issuer', 'ca:default, acme:le, manual'),
    text('tag', 'Tag', 'team=web'),
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Filter'),
      h('a', { href: '/credentials' }, 'Clear')));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = Object.fromEntries(new FormData(filters));
    go(`/credentials${query({ ...chosen, sort: current.sort })}`);
  });
  for (const s of filters.querySelectorAll('select')) s.addEventListener('change', () => filters.requestSubmit());

  const sortBy = (key, label) => {
    const active = (current.sort || 'name') === key;
    return h('th', { scope: 'col', 'aria-sort': active ? 'ascending' : null },
      h('button', { type: 'button', class: 'sort', onclick: () => go(`/credentials${query({ ...current, sort: key === 'name' ? '' : key })}`) },
        label, active ? ' ▲' : ''));
  };
  const renewable = can('POST', '/api/credentials/{name}/renew');
  const boxes = [];
  const rows = page.items.map((c) => {
    const box = renewable ? h('input', { type: 'checkbox', value: c.name, 'aria-label': `Select ${c.name}` }) : null;
    if (box) boxes.push(box);
    return h('tr', {},
      renewable ? h('td', {}, box) : null,
      h('td', {}, h('a', { href: `/credentials/${encodeURIComponent(c.name)}` }, c.name)),
      h('td', { class: 'hide-narrow' }, c.hostnames.slice(0, 3).join(', '), c.hostnames.length > 3 ? ` +${c.hostnames.length - 3}` : ''),
      h('td', {}, badge('s', c.status)),
      h('td', { class: 'hide-narrow' }, h('code', {}, c.issuer)),
      h('td', {}, c.not_after ? [time(c.not_after, false), h('br'), h('span', { class: 'muted' }, days(c.days_to_expiry))] : '—'));
  });
  const outcome = h('div', { role: 'status' });
  const all = renewable ? h('input', {
    type: 'checkbox', 'aria-label': 'Select all on this page',
    onchange: (e) => { for (const b of boxes) b.checked = e.target.checked; },
  }) : null;
  const renew = async () => {
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (chosen.length === 0) { show(outcome, h('p', {}, 'Select the credentials to renew first.')); return; }
    show(outcome, h('p', {}, `Starting ${chosen.length} renewal(s)…`));
    const lines = [];
    for (const name of chosen) {
      try {
        await call('POST', path('credentials', name, 'renew'));
        lines.push(h('li', {}, h('a', { href: `/credentials/${encodeURIComponent(name)}` }, name), ': started'));
      } catch (e) {
        lines.push(h('li', { class: 'step-error' }, `${name}: ${e.message}`));
      }
    }
    show(outcome, h('ul', {}, lines));
  };

  add(main,
    h('div', { class: 'row spread' }, h('h1', {}, 'Credentials'),
      can('POST', '/api/credentials') ? h('a', { class: 'button primary', href: '/credentials/new' }, 'New credential') : null),
    filters,
    renewable ? h('div', { class: 'row' }, h('button', { type: 'button', onclick: renew }, 'Renew selected'), outcome) : null,
    page.items.length === 0 ? h('p', {}, 'No credential matches.') :
      h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', { class: 'sr-only' }, 'Credentials'),
        h('thead', {}, h('tr', {},
          renewable ? h('th', { scope: 'col' }, all) : null,
          sortBy('name', 'Name'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Hostnames'),
          h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Issuer'),
          sortBy('expiry', 'Expires'))),
        h('tbody', {}, rows))),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      params.get('cursor') ? h('a', { href: `/credentials${query(current)}` }, 'First page') : null,
      page.next_cursor ? h('a', { href: `/credentials${query({ ...current, cursor: page.next_cursor })}` }, 'Next page') : null));
}
