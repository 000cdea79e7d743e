// The first page: how many credentials are in which state, what expires
// when, what is failing, and what the scheduler does next — one request
// (GET /api/dashboard), counted in the browser's time zone.

import { call, query } from '../api.js';
import { add, badge, h, time } from '../dom.js';
import { timeline } from '../chart.js';

export const title = 'Dashboard';

const STATUSES = [
  ['valid', 'Valid'], ['renewal_due', 'Renewal due'], ['failed', 'Failed'], ['expired', 'Expired'],
  ['pending', 'Pending'], ['issuing', 'Issuing'], ['revoked', 'Revoked'],
];

export async function render(main) {
  const d = await call('GET', `/api/dashboard${query({ utc_offset_minutes: -new Date().getTimezoneOffset() })}`);
  const link = (status) => `/credentials${query({ status: status.replace('_', '-') })}`;
  add(main,
    h('h1', {}, 'Dashboard'),
    h('h2', { id: 'by-status' }, 'Credentials by status'),
    h('div', { class: 'cards', role: 'list', 'aria-labelledby': 'by-status' },
      h('a', { class: 'card', role: 'listitem', href: '/credentials' }, h('span', { class: 'n' }, d.total), 'All'),
      STATUSES.filter(([key]) => d.by_status[key] > 0 || ['valid', 'failed', 'expired'].includes(key)).map(([key, label]) =>
        h('a', { class: 'card', role: 'listitem', href: link(key) },
          h('span', { class: `n s-${key.replace('_', '-')}` }, d.by_status[key]), label))),
    h('p', { class: 'muted' }, `Health: ${d.by_health.ok} ok, ${d.by_health.warning} warning, ${d.by_health.error} error.`),
    h('h2', {}, 'Expiring in the next 90 days'),
    h('div', { class: 'panel' }, timeline(d.expiries),
      h('p', { class: 'muted' }, `${d.expiries.slice(0, 7).reduce((n, e) => n + e.count, 0)} in the next 7 days, `,
        `${d.expiries.reduce((n, e) => n + e.count, 0)} in 90 days.`)),
    h('h2', {}, `Failing (${d.failing_total})`),
    d.failing.length === 0 ? h('p', { class: 'muted' }, 'No issuance or renewal is failing.') :
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Credential'), h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Last error'))),
        h('tbody', {}, d.failing.map((c) => h('tr', {},
          h('td', {}, h('a', { href: `/credentials/${encodeURIComponent(c.name)}` }, c.name)),
          h('td', {}, badge('s', c.status)),
          h('td', {}, c.last_error || '')))))),
    d.failing_total > d.failing.length ? h('p', {}, h('a', { href: link('failed') }, 'All failing credentials')) : null,
    h('h2', {}, 'Next renewals'),
    d.upcoming.length === 0 ? h('p', { class: 'muted' }, 'Nothing is planned.') :
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Credential'), h('th', { scope: 'col' }, 'Renewed'),
          h('th', { scope: 'col' }, 'Expires'))),
        h('tbody', {}, d.upcoming.map((u) => h('tr', {},
          h('td', {}, h('a', { href: `/credentials/${encodeURIComponent(u.name)}` }, u.name),
            u.failure_count ? h('span', { class: 'muted' }, ` (${u.failure_count} failed)`) : null),
          h('td', {}, u.due_at <= d.now ? 'at the next pass' : time(u.due_at)),
          h('td', {}, time(u.not_after))))))));
}
