// The forms of a credential's flows, used by its page: export (PEM or
// PKCS#12, audited by the server), import (PEM or PKCS#12), and the manual
// flow (download the CSR, then upload the certificate the CA signed).

import { call, path } from '../api.js';
import { checkbox, download, field, fromBase64, h, show, showError, toBase64, values } from '../dom.js';

/** The export form: the files are offered for saving once the server
 *  answers. */
export function exportForm(name) {
  const password = field('PKCS#12 password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password' }),
    'Needed for PKCS#12; the file is encrypted with it.');
  const form = h('form', { class: 'stack', novalidate: true, 'aria-labelledby': 'export-title' },
    h('h3', { id: 'export-title' }, 'Export'),
    h('fieldset', {}, h('legend', {}, 'Format'),
      h('label', {}, h('input', { type: 'radio', name: 'format', value: 'pem', checked: true }), ' PEM (certificate, chain, key)'),
      h('br'),
      h('label', {}, h('input', { type: 'radio', name: 'format', value: 'pkcs12' }), ' PKCS#12')),
    password,
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Download')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = values(form);
    try {
      const keys = await call('POST', path('credentials', name, 'export'), body);
      for (const key of keys) {
        const base = keys.length > 1 ? `${name}-${key.family}` : name;
        if (key.pkcs12_base64) {
          download(`${base}.p12`, fromBase64(key.pkcs12_base64), 'application/x-pkcs12');
        } else {
          const pem = [key.certificate_pem, key.chain_pem, key.key_pem].filter(Boolean).join('');
          download(`${base}.pem`, pem, 'application/x-pem-file');
        }
      }
      form.replaceWith(h('p', { class: 'notice', role: 'status' }, `Exported ${keys.length} key(s); the export is in the audit log.`));
    } catch (e) {
      showError(form, e);
    }
  });
  return form;
}

/** The import form: a PEM certificate (with its key, or for a key made
 *  here), or a PKCS#12 file with its password. */
export function importForm(name, onDone) {
  const file = h('input', { name: 'pkcs12_base64', type: 'file', accept: '.p12,.pfx,application/x-pkcs12' });
  const form = h('form', { class: 'stack', novalidate: true, 'aria-labelledby': 'import-title' },
    h('h3', { id: 'import-title' }, 'Import a certificate'),
    field('Certificate and chain (PEM)', h('textarea', { name: 'certificate_pem', spellcheck: 'false' }),
      'Paste the certificate, then its chain. Leave empty to import a PKCS#12 file.'),
    field('Private key (PEM)', h('textarea', { name: 'key_pem', spellcheck: 'false' }),
      'Only when the key was not made here (PKCS#8, PKCS#1 or SEC1).'),
    field('Key password', h('input', { name: 'key_password', type: 'password', autocomplete: 'off' }), 'For an encrypted key.'),
    field('PKCS#12 file', file),
    field('PKCS#12 password', h('input', { name: 'pkcs12_password', type: 'password', autocomplete: 'off' })),
    checkbox('Trust the root this bundle brings', 'trust_bundled_root',
      'Adds it to the trust store: only for a CA you know, such as your own.'),
    checkbox('Keep an expired certificate', 'allow_expired', 'For the record; it is not served as valid.'),
    h('div', { class: 'row' }, h('button', { class: 'primary' }, 'Import')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = values(form);
    if (file.files.length > 0) body.pkcs12_base64 = toBase64(await file.files[0].arrayBuffer());
    try {
      const answer = await call('POST', path('credentials', name, 'import'), body);
      onDone(answer);
    } catch (e) {
      showError(form, e);
    }
  });
  return form;
}

/** The manual flow's first half: make a key and its CSR here, and offer
 *  the CSR for saving, to be signed by any CA. */
export function csrPanel(name) {
  const out = h('div', { role: 'status' });
  const button = h('button', {
    type: 'button', class: 'primary',
    onclick: async () => {
      button.disabled = true;
      try {
        const answer = await call('POST', path('credentials', name, 'csr'));
        for (const csr of answer.csrs) {
          const suffix = answer.csrs.length > 1 ? `-${csr.key_spec}` : '';
          download(`${name}${suffix}.csr`, csr.pem, 'application/pkcs10');
        }
        show(out, h('p', {}, answer.reused_key ? 'The CSR for the key made earlier was saved.' : 'A new key was made; its CSR was saved.',
          ' Have it signed, then import the certificate below.'));
      } catch (e) {
        show(out, h('div', { class: 'alert', role: 'alert' }, e.message));
      } finally {
        button.disabled = false;
      }
    },
  }, 'Download CSR');
  return h('section', { 'aria-labelledby': 'csr-title' },
    h('h3', { id: 'csr-title' }, 'Certificate signing request'),
    h('p', {}, 'The key stays here; only the CSR leaves.'), button, out);
}
