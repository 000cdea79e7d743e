// Building the page: elements from data (text is always set as text, never
// parsed as HTML), times in the browser's time zone, forms that show the
// API's errors next to the field at fault, downloads, confirmations.

/** An element: `h('a', {href: '/'}, 'Home')`. Attributes named `on*` with a
 *  function are listeners; `null`, `undefined` and `false` children and
 *  attributes are left out. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An SVG element (the chart). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, String(value));
  append(el, children);
  return el;
}

/** Append to `el` (arrays flattened; null, undefined and false left out,
 *  unlike the DOM's own append, which would show them as text). */
export function add(el, ...children) {
  append(el, children);
}

/** Replace what `el` shows. */
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** A `<time>` for Unix seconds (or an RFC 3339 text), in the browser's zone. */
export function time(value, withTime = true) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, '—');
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return h('time', { datetime: date.toISOString(), title: date.toISOString() },
    (withTime ? dateTime : dateOnly).format(date));
}

/** "in 12 days", "3 days ago", "today". */
export function days(n) {
  if (n === null || n === undefined) return '—';
  if (n === 0) return 'today';
  if (n > 0) return `in ${n} day${n === 1 ? '' : 's'}`;
  return `${-n} day${n === -1 ? '' : 's'} ago`;
}

/** A status or health badge. */
export function badge(kind, value) {
  return h('span', { class: `badge ${kind}-${value}` }, String(value).replace('-', ' '));
}

/** A labelled form field. `control` is an input, select or textarea with a
 *  `name`; its id, label and error slot are wired up for screen readers. */
export function field(label, control, help) {
  const id = control.id || `f-${control.name}`;
  control.id = id;
  const helpId = help ? `${id}-help` : null;
  if (helpId) control.setAttribute('aria-describedby', helpId);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    help ? h('span', { class: 'help', id: helpId }, help) : null,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

/** A checkbox with its label after it, wired up like [`field`]. */
export function checkbox(label, name, help) {
  const id = `f-${name}`;
  const control = h('input', { type: 'checkbox', name, id, 'aria-describedby': help ? `${id}-help` : null });
  return h('div', { class: 'field' },
    h('label', {}, control, ' ', label),
    help ? h('span', { class: 'help', id: `${id}-help` }, help) : null,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

/** Clear the errors a form shows. */
export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) { p.hidden = true; p.textContent = ''; }
  for (const c of form.querySelectorAll('[aria-invalid]')) {
    c.removeAttribute('aria-invalid');
    const described = (c.getAttribute('aria-describedby') || '').split(' ').filter((d) => !d.endsWith('-error'));
    if (described.length) c.setAttribute('aria-describedby', described.join(' '));
    else c.removeAttribute('aria-describedby');
  }
  const alert = form.querySelector('.alert');
  if (alert) alert.remove();
}

/** Show an API error on a form: next to the field the problem names when
 *  the form has it, else at the top of the form. Focuses it. */
export function showError(form, error) {
  clearErrors(form);
  const problem = error.problem || { detail: String(error.message || error) };
  const text = [problem.detail, problem.hint].filter(Boolean).join(' — ');
  // `email.to[1]` is shown at the control `email.to`.
  const names = problem.field ? [problem.field, problem.field.replace(/\[\d+\]/g, '')] : [];
  const control = names.map((n) => form.querySelector(`[name="${CSS.escape(n)}"]`)).find(Boolean);
  if (control) {
    const slot = form.querySelector(`#${CSS.escape(control.id)}-error`);
    if (slot) {
      slot.textContent = text;
      slot.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      described.push(slot.id);
      control.setAttribute('aria-describedby', described.join(' '));
      control.focus();
      return;
    }
  }
  const alert = h('div', { class: 'alert', role: 'alert', tabindex: '-1' },
    h('p', {}, h('strong', {}, problem.title || 'Error'), ': ', problem.detail || ''),
    problem.hint ? h('p', {}, problem.hint) : null);
  form.prepend(alert);
  alert.focus();
}

/** A form's controls as an object (checkboxes as booleans, empty text left out). */
export function values(form) {
  const out = {};
  for (const c of form.elements) {
    if (!c.name || c.disabled) continue;
    if (c.type === 'checkbox') out[c.name] = c.checked;
    else if (c.type === 'radio') { if (c.checked) out[c.name] = c.value; }
    else if (c.type === 'file') continue;
    else if (c.value.trim() !== '') out[c.name] = c.value;
  }
  return out;
}

/** A table: a caption for screen readers, column headings, and rows of
 *  cells (each cell: text, a node, or an array of them). */
export function table(caption, headings, rows) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'sr-only' }, caption),
    h('thead', {}, h('tr', {}, headings.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

/** Offer `data` (text or bytes) as a file to save. */
export function download(filename, data, type) {
  const blob = new Blob([data], { type: type || 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** Ask before doing something that cannot be undone; resolves to a boolean. */
export function confirmAction(title, text, action) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', {}, text),
      h('form', { method: 'dialog', class: 'row' },
        h('button', { value: 'cancel', autofocus: true }, 'Cancel'),
        h('button', { value: 'ok', class: 'danger' }, action)));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Base64 of an ArrayBuffer (a PKCS#12 file to upload). */
export function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Bytes of a base64 text (a PKCS#12 file to save). */
export function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
