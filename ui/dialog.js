// Modal dialogs on the native <dialog> element: focus stays inside (Tab wraps), Escape closes,
// focus returns to the opener. confirmAction() adds checkboxes and an optional live preview.

import { esc } from './dom.js';

const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex="-1"])';

/**
 * openDialog({title, body, testid, wide, onClose}) → {el, body, footer, close}
 * `body` is an HTML string or a Node.
 */
export function openDialog({ title, body = '', testid = 'dialog', wide = false, onClose } = {}) {
  const opener = document.activeElement;
  const dlg = document.createElement('dialog');
  dlg.className = `dlg${wide ? ' dlg-wide' : ''}`;
  dlg.dataset.testid = testid;
  dlg.setAttribute('aria-labelledby', 'dlg-title');
  dlg.innerHTML = `<header class="dlg-head"><h2 id="dlg-title">${esc(title)}</h2>
    <button type="button" class="icon-btn" data-close aria-label="Close">×</button></header>
    <div class="dlg-body"></div><div class="dlg-foot"></div>`;
  const bodyEl = dlg.querySelector('.dlg-body');
  if (typeof body === 'string') bodyEl.innerHTML = body; else if (body) bodyEl.append(body);
  let closed = false;
  const close = value => {
    if (closed) return;
    closed = true;
    if (dlg.open) dlg.close();
    dlg.remove();
    if (opener && opener.isConnected) opener.focus();
    onClose && onClose(value);
  };
  dlg.addEventListener('cancel', e => { e.preventDefault(); close(null); });
  // No close on backdrop clicks: a stray click must not throw away a half-filled form.
  dlg.addEventListener('click', e => { if (e.target.closest('[data-close]')) close(null); });
  dlg.addEventListener('keydown', e => {
    if (e.key !== 'Tab') return;
    const f = [...dlg.querySelectorAll(FOCUSABLE)].filter(x => x.offsetParent !== null);
    if (!f.length) return;
    const first = f[0], last = f[f.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  });
  document.body.append(dlg);
  dlg.showModal();
  const auto = dlg.querySelector('[autofocus]') || bodyEl.querySelector(FOCUSABLE) || dlg.querySelector('.dlg-foot button');
  if (auto) auto.focus();
  return { el: dlg, body: bodyEl, footer: dlg.querySelector('.dlg-foot'), close };
}

/**
 * confirmAction({title, message, confirmLabel, danger, options:[{name,label,checked}],
 *   preview: async values => html, run: async values => void, testid})
 * Resolves to the option values after `run` succeeded, or null if cancelled.
 * An error thrown by `run` is shown inside the dialog, which stays open.
 */
export function confirmAction({ title, message = '', confirmLabel = 'Confirm', danger = false, options = [], preview, run, testid = 'confirm-dialog' }) {
  return new Promise(resolve => {
    const opts = options.map(o => `<label class="check"><input type="checkbox" name="${esc(o.name)}" data-testid="${esc(o.testid || 'opt-' + o.name)}"${o.checked ? ' checked' : ''}> ${esc(o.label)}</label>`).join('');
    const d = openDialog({
      title, testid, onClose: v => resolve(v),
      body: `<form class="form" novalidate>${message ? `<p>${message}</p>` : ''}
        ${opts ? `<fieldset class="opts"><legend class="sr-only">Options</legend>${opts}</fieldset>` : ''}
        ${preview ? '<div class="preview" data-testid="confirm-preview" aria-live="polite"></div>' : ''}
        <div class="form-error" data-testid="confirm-error" role="alert" hidden></div></form>`,
    });
    d.footer.innerHTML = `<button type="button" class="btn" data-close>Cancel</button>
      <button type="button" class="btn ${danger ? 'btn-danger' : 'btn-primary'}" data-testid="confirm-ok">${esc(confirmLabel)}</button>`;
    const form = d.body.querySelector('form');
    const errEl = d.body.querySelector('.form-error');
    const values = () => Object.fromEntries(options.map(o => [o.name, form.elements[o.name].checked]));
    let seq = 0;
    const refresh = async () => {
      if (!preview) return;
      const box = d.body.querySelector('.preview');
      const my = ++seq;
      try {
        const h = await preview(values());
        if (my === seq) box.innerHTML = h;
      } catch (e) {
        if (my === seq) box.textContent = e.message;
      }
    };
    form.addEventListener('change', refresh);
    form.addEventListener('submit', e => e.preventDefault());
    refresh();
    const ok = d.footer.querySelector('[data-testid="confirm-ok"]');
    ok.focus();
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      errEl.hidden = true;
      try {
        const v = values();
        if (run) await run(v);
        d.close(v);
      } catch (e) {
        errEl.textContent = e.message || String(e);
        errEl.hidden = false;
        ok.disabled = false;
      }
    });
  });
}
