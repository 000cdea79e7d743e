// The REST API, as the browser calls it: the session cookie goes along by
// itself (HttpOnly, SameSite=Strict); every change carries the session's
// CSRF token; errors are the API's problem documents (RFC 9457).

/** The signed-in caller (GET /api/session), or null. */
export let session = null;

/** Remember who is signed in. */
export function setSession(value) {
  session = value;
}

/** An answer that is not 2xx, with its problem document. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Whether the caller may call `method route` (the route as the API
 *  document writes it: `/api/credentials/{name}/export`). */
export function can(method, route) {
  return !!session && session.allowed.includes(`${method} ${route}`);
}

/** Call the API; resolves to the JSON body (or text for non-JSON answers,
 *  null for 204). Rejects with an ApiError. */
export async function call(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session && session.csrf_token) headers['X-CSRF-Token'] = session.csrf_token;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, { title: 'No answer', detail: `the server did not answer (${e.message}): check that it runs` });
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    const problem = typeof data === 'object' ? data : { title: `HTTP ${response.status}`, detail: data };
    if (response.status === 401 && session) {
      // The session ended: sign in again, then come back here.
      session = null;
      window.dispatchEvent(new CustomEvent('certmgr:signed-out'));
    }
    throw new ApiError(response.status, problem);
  }
  return data;
}

/** `/api/...` with path segments escaped: `path('credentials', name)`. */
export function path(...segments) {
  return '/api/' + segments.map((s) => encodeURIComponent(s)).join('/');
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : '';
}
