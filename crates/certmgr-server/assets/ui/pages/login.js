// Signing in: a user's password (POST /api/session), or single sign-on
// when the server has an OpenID provider configured.

import { call, setSession } from '../api.js';
import { add, field, h, showError, values } from '../dom.js';

export const title = 'Sign in';

export async function render(main, _params, go) {
  const next = new URLSearchParams(location.search).get('next');
  // Only addresses inside the UI: never an open redirect.
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  const form = h('form', { class: 'stack', novalidate: true },
    field('User', h('input', { name: 'user', autocomplete: 'username', required: true, autofocus: true })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Sign in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = values(form);
    try {
      setSession(await call('POST', '/api/session', { user: body.user || '', password: body.password || '' }));
      go(target, true);
    } catch (e) {
      showError(form, e);
    }
  });
  add(main, h('h1', {}, 'Sign in to certmgr'), form);
  const health = await call('GET', '/api/health').catch(() => null);
  if (health && health.single_sign_on) {
    add(main, h('p', {}, h('a', { class: 'button', href: '/api/oidc/login' }, 'Sign in with single sign-on')));
  }
}
