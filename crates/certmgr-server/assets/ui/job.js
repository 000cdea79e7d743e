// A running issuance or renewal, live: the job's events (Server-Sent
// Events from /api/jobs/{id}/events) appended as they come, then its end;
// and a finished job's steps, shown again after the page reloads.

import { h, show } from './dom.js';

function step(event) {
  return h('li', { class: `step-${event.level}` }, event.message);
}

function outcome(state, view) {
  if (view.status === 'succeeded') {
    show(state, `${view.kind === 'renew' ? 'Renewal' : 'Issuance'} done.`);
    state.className = 'notice';
  } else {
    const problem = view.problem || {};
    show(state, h('strong', {}, 'Failed: '), problem.detail || 'the job failed',
      problem.hint ? h('span', {}, ` — ${problem.hint}`) : null);
    state.className = 'alert';
  }
}

/** Show job `id`'s progress in `box`; `onEnd(view)` runs once with the
 *  job's final view. Returns a function that stops watching. */
export function watchJob(id, box, onEnd) {
  const steps = h('ol', { class: 'steps', 'aria-live': 'polite', 'aria-label': 'Progress' });
  const state = h('p', { role: 'status' }, 'Running…');
  show(box, state, steps);
  let seen = 0;
  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  const line = (event) => {
    const data = JSON.parse(event.data);
    // A reconnection replays from the start: skip what is shown.
    if (data.seq <= seen) return;
    seen = data.seq;
    steps.append(step(data));
  };
  for (const level of ['step', 'warning', 'result']) source.addEventListener(level, line);
  source.addEventListener('end', (event) => {
    source.close();
    const view = JSON.parse(event.data);
    outcome(state, view);
    onEnd(view);
  });
  return () => source.close();
}

/** Show a finished job (its view from GET /api/jobs/{id}) in `box`. */
export function showJob(view, box) {
  const state = h('p', { role: 'status' });
  outcome(state, view);
  show(box, state, view.events.length ? h('ol', { class: 'steps', 'aria-label': 'Progress' }, view.events.map(step)) : null);
}
