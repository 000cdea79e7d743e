// The UI's frame: who is signed in, the navigation, and which page the
// address shows. Links inside the UI change the page without reloading;
// every address can be bookmarked and reloaded (the server serves this
// shell for each).

import { ApiError, call, can, session, setSession } from './api.js';
import { h, show } from './dom.js';
import * as dashboard from './pages/dashboard.js';
import * as credentials from './pages/credentials.js';
import * as credential from './pages/credential.js';
import * as newCredential from './pages/new-credential.js';
import * as login from './pages/login.js';
import * as dns from './pages/dns.js';
import { acme, cas, trust } from './pages/issuers.js';
import { audit, tokens, users } from './pages/access.js';

/** Pages by address; each module exports `title` and `render(main, params,
 *  go)`, which may return a function to run when the page is left. */
const ROUTES = [
  [/^\/$/, dashboard],
  [/^\/login$/, login],
  [/^\/credentials$/, credentials],
  [/^\/credentials\/new$/, newCredential],
  [/^\/credentials\/([^/]+)$/, credential],
  [/^\/dns(?:\/(.+))?$/, dns],
  [/^\/cas$/, cas],
  [/^\/acme$/, acme],
  [/^\/trust$/, trust],
  [/^\/users$/, users],
  [/^\/tokens$/, tokens],
  [/^\/audit$/, audit],
];

/** The navigation: shown when the caller may read what it leads to. */
const NAV = [
  ['/', 'Dashboard', ['GET', '/api/dashboard']],
  ['/credentials', 'Credentials', ['GET', '/api/credentials']],
  ['/cas', 'MicroCAs', ['GET', '/api/cas']],
  ['/acme', 'ACME', ['GET', '/api/acme/accounts']],
  ['/dns', 'DNS', ['GET', '/api/dns/accounts']],
  ['/trust', 'Trust', ['GET', '/api/trust']],
  ['/users', 'Users', ['GET', '/api/users']],
  ['/tokens', 'Tokens', ['GET', '/api/tokens']],
  ['/audit', 'Audit', ['GET', '/api/audit']],
  ['/api/docs', 'API', null],
];

const main = document.getElementById('main');
let leave = null;

/** Show the page for `location`. */
async function route() {
  if (leave) { leave(); leave = null; }
  const here = location.pathname;
  if (!session && here !== '/login') {
    try {
      setSession(await call('GET', '/api/session'));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        go(`/login?next=${encodeURIComponent(here + location.search)}`, true);
        return;
      }
      show(main, h('div', { class: 'alert', role: 'alert' }, e.message));
      return;
    }
  }
  frame();
  for (const [pattern, page] of ROUTES) {
    const match = here.match(pattern);
    if (!match) continue;
    document.title = `${page.title} · certmgr`;
    // The new page is built aside and swapped in whole: the old one stays
    // until then, instead of a blank page while the API answers.
    const next = h('div');
    try {
      const params = match.slice(1).map((m) => (m === undefined ? undefined : decodeURIComponent(m)));
      leave = (await page.render(next, params, go)) || null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      show(next, h('h1', {}, page.title), h('div', { class: 'alert', role: 'alert' },
        h('p', {}, e.problem ? `${e.problem.title}: ${e.problem.detail}` : String(e))));
    }
    main.replaceChildren(...next.childNodes);
    (main.querySelector('[autofocus]') || main).focus();
    // When the page became usable (its data shown): bench/ui.sh reads it.
    performance.mark('certmgr:page');
    return;
  }
  document.title = 'Not found · certmgr';
  show(main, h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', { href: '/' }, 'Go to the dashboard')));
}

/** The header: navigation and who is signed in. */
function frame() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!session) { show(nav); show(who); return; }
  const here = location.pathname;
  show(nav, NAV.filter(([, , need]) => !need || can(...need)).map(([href, label]) => {
    const current = href === '/' ? here === '/' : here === href || here.startsWith(`${href}/`);
    return h('a', { href, 'aria-current': current ? 'page' : null }, label);
  }));
  show(who,
    h('span', {}, session.name.replace(/^(user|oidc|token):/, ''), ' ', h('span', { class: 'muted' }, `(${session.role})`)),
    h('button', { type: 'button', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  let answer = null;
  try { answer = await call('DELETE', '/api/session'); } catch { /* signed out anyway */ }
  setSession(null);
  if (answer && answer.logout_url) { location.assign(answer.logout_url); return; }
  go('/login', true);
}

/** Go to `href` inside the UI. */
export function go(href, replace = false) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  route();
}

// Links inside the UI: no reload. Others (the API reference, downloads,
// new tabs) are left to the browser.
document.addEventListener('click', (event) => {
  const a = event.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || event.defaultPrevented) return;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  event.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener('popstate', route);
window.addEventListener('certmgr:signed-out', () => {
  go(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, true);
});
route();
