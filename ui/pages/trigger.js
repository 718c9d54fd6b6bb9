// Trigger dialog: a form built from the DAG's params (from /details), validated before
// POST /api/v2/dags/{dag_id}/dagRuns; the server's 4xx `detail` is shown in the dialog. A
// paused DAG's runs wait until it is unpaused, so for one the dialog offers "Unpause on
// trigger" (checked, as Airflow's UI does): PATCH is_paused=false, then the trigger.

import { api } from '../api.js';
import { enc, runUrl, toast } from '../dom.js';
import { openDialog } from '../dialog.js';
import { paramFields, renderParamForm, readParamForm } from '../params.js';

export function openTrigger(dagId, details, { onDone } = {}) {
  const fields = paramFields(details && details.params);
  const d = openDialog({
    title: `Trigger ${details?.dag_display_name || dagId}`,
    testid: 'trigger-dialog',
    wide: fields.length > 3,
    body: `<form class="form" novalidate data-testid="trigger-form">
      ${fields.length ? `<h3>Parameters</h3>${renderParamForm(fields)}` : `<div class="field"><label for="trg-conf">Configuration JSON</label>
        <textarea id="trg-conf" class="mono" rows="5" spellcheck="false" data-testid="trigger-conf" aria-describedby="trg-conf-e">{}</textarea>
        <small class="field-error" id="trg-conf-e" role="alert"></small></div>`}
      <details class="sec"><summary>Advanced options</summary>
        <div class="field"><label for="trg-date">Logical date <span class="muted">(UTC, optional)</span></label><input id="trg-date" type="datetime-local" step="1" data-testid="trigger-logical-date"></div>
        <div class="field"><label for="trg-runid">Run ID <span class="muted">(optional)</span></label><input id="trg-runid" data-testid="trigger-run-id" autocomplete="off"></div>
      </details>
      <div class="field"><label for="trg-note">Note <span class="muted">(optional)</span></label><textarea id="trg-note" rows="2" data-testid="trigger-note"></textarea></div>
      ${details?.is_paused ? `<div class="field"><label class="check"><input type="checkbox" id="trg-unpause" data-testid="trigger-unpause" checked> Unpause ${details?.dag_display_name || dagId} on trigger</label></div>` : ''}
      <div class="form-error" role="alert" data-testid="trigger-error" hidden></div>
    </form>`,
  });
  d.footer.innerHTML = `<button type="button" class="btn" data-close>Cancel</button>
    <button type="submit" class="btn btn-primary" data-testid="trigger-submit">Trigger</button>`;
  const form = d.body.querySelector('form');
  const errEl = d.body.querySelector('[data-testid="trigger-error"]');
  const submit = d.footer.querySelector('[data-testid="trigger-submit"]');
  const first = form.querySelector('input, select, textarea');
  if (first) first.focus();
  const go = async () => {
    errEl.hidden = true;
    let conf;
    if (fields.length) {
      const r = readParamForm(form, fields);
      if (r.firstInvalid) {
        errEl.textContent = `Fix ${Object.keys(r.errors).length} invalid field${Object.keys(r.errors).length > 1 ? 's' : ''} first.`;
        errEl.hidden = false;
        r.firstInvalid.focus();
        return;
      }
      conf = r.conf;
    } else {
      const ta = form.querySelector('#trg-conf');
      const e = form.querySelector('#trg-conf-e');
      try {
        conf = ta.value.trim() ? JSON.parse(ta.value) : {};
        if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new Error('must be a JSON object');
        ta.removeAttribute('aria-invalid');
        e.textContent = '';
      } catch (ex) {
        ta.setAttribute('aria-invalid', 'true');
        e.textContent = `Invalid configuration: ${ex.message}`;
        ta.focus();
        return;
      }
    }
    const date = form.querySelector('#trg-date').value;
    const runId = form.querySelector('#trg-runid').value.trim();
    const note = form.querySelector('#trg-note').value.trim();
    const body = { logical_date: date ? `${date.length === 16 ? date + ':00' : date}Z` : null, conf, note: note || null };
    if (runId) body.dag_run_id = runId;
    const unpause = form.querySelector('#trg-unpause')?.checked;
    submit.disabled = true;
    try {
      if (unpause) await api(`/api/v2/dags/${enc(dagId)}`, { method: 'PATCH', body: { is_paused: false } });
      const run = await api(`/api/v2/dags/${enc(dagId)}/dagRuns`, { method: 'POST', body });
      d.close(run);
      toast(`Triggered ${run.dag_run_id}`, { href: runUrl(dagId, run.dag_run_id), linkText: 'View run' });
      onDone && onDone(run);
    } catch (ex) {
      errEl.textContent = ex.status ? `${ex.status}: ${ex.message}` : ex.message;
      errEl.hidden = false;
      submit.disabled = false;
    }
  };
  submit.addEventListener('click', go);
  form.addEventListener('submit', e => { e.preventDefault(); go(); });
  form.addEventListener('keydown', e => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); go(); } });
  return d;
}
