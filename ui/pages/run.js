// /dags/{dag_id}/runs/{run_id}: run summary, conf, its task instances, and actions (clear with
// a dry-run preview, mark success/failed, delete). Live: this run's dag_run/task_instance
// events → one debounced refetch.

import { api, apiAll, isAbort } from '../api.js';
import { debounce } from '../events.js';
import { esc, enc, dagUrl, tiUrl, timeTag, fmtDur, durationOf, fmtJson, errorBox, toast } from '../dom.js';
import { badge, norm } from '../states.js';
import { confirmAction } from '../dialog.js';

function tiListHtml(list) {
  if (!list.length) return '<p class="empty">No task instances yet.</p>';
  return list.map(t => `<li><code>${esc(t.task_id)}${t.map_index >= 0 ? `[${t.map_index}]` : ''}</code> <span class="muted">${esc(norm(t.state))}</span></li>`).slice(0, 50).join('') + (list.length > 50 ? `<li class="muted">… and ${list.length - 50} more</li>` : '');
}

export function mount(root, route, ctx) {
  const { dagId, runId } = route.params;
  const base = `/api/v2/dags/${enc(dagId)}/dagRuns/${enc(runId)}`;
  ctx.setTitle(`${runId} · ${dagId}`);
  root.innerHTML = `
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dags">DAGs</a><span aria-hidden="true">/</span><a href="${esc(dagUrl(dagId))}">${esc(dagId)}</a><span aria-hidden="true">/</span><span>Run</span></nav>
    <div class="page-head">
      <h1 class="wrap-any" data-testid="run-title" style="overflow-wrap:anywhere">${esc(runId)}</h1><span data-slot="state"></span>
      <span class="spacer"></span>
      <button type="button" class="btn" data-act="clear" data-testid="run-clear" disabled>Clear run</button>
      <button type="button" class="btn" data-act="success" data-testid="run-mark-success" disabled>Mark success</button>
      <button type="button" class="btn" data-act="failed" data-testid="run-mark-failed" disabled>Mark failed</button>
      <button type="button" class="btn" data-act="delete" data-testid="run-delete" disabled>Delete</button>
    </div>
    <div data-slot="summary" style="min-height:60px"></div>
    <section class="sec"><h2>Task instances</h2><div class="panel tbl-wrap" data-slot="tis"><table class="tbl" data-testid="run-tis"><thead><tr>
      <th>Task</th><th>State</th><th class="num hide-sm">Try</th><th class="hide-sm">Started</th><th class="hide-sm">Ended</th><th class="num">Duration</th><th class="hide-sm">Operator</th></tr></thead><tbody></tbody></table></div></section>`;
  const summary = root.querySelector('[data-slot="summary"]');
  const tbody = root.querySelector('tbody');
  let run = null;

  const renderRun = () => {
    root.querySelector('[data-slot="state"]').innerHTML = badge(run.state, 'run-state');
    root.querySelectorAll('[data-act]').forEach(b => { b.disabled = false; });
    const s = norm(run.state);
    root.querySelector('[data-act="success"]').disabled = s === 'success';
    root.querySelector('[data-act="failed"]').disabled = s === 'failed';
    summary.innerHTML = `<dl class="facts" data-testid="run-facts">
      <div><dt>Run type</dt><dd>${esc(run.run_type || '')}</dd></div>
      <div><dt>Triggered by</dt><dd>${esc(run.triggered_by || '')}${run.triggering_user_name ? ` (${esc(run.triggering_user_name)})` : ''}</dd></div>
      <div><dt>Run after</dt><dd>${timeTag(run.run_after)}</dd></div>
      <div><dt>Logical date</dt><dd>${timeTag(run.logical_date)}</dd></div>
      <div><dt>Started</dt><dd>${timeTag(run.start_date)}</dd></div>
      <div><dt>Ended</dt><dd>${timeTag(run.end_date)}</dd></div>
      <div><dt>Duration</dt><dd>${esc(fmtDur(durationOf(run))) || '—'}</dd></div>
      <div><dt>DAG version</dt><dd>${(run.dag_versions || []).map(v => `v${esc(v.version_number)}`).join(', ') || '—'}</dd></div>
    </dl>
    ${run.note ? `<p data-testid="run-note"><strong>Note:</strong> ${esc(run.note)}</p>` : ''}
    ${run.conf && Object.keys(run.conf).length ? `<details class="sec" open><summary>Conf</summary><pre class="val" data-testid="run-conf">${esc(fmtJson(run.conf))}</pre></details>` : ''}`;
  };

  const load = async () => {
    try {
      const [r, tis] = await Promise.all([
        api(base, { signal: ctx.signal }),
        apiAll(`${base}/taskInstances`, 'task_instances', { signal: ctx.signal }),
      ]);
      run = r;
      renderRun();
      tis.sort((a, b) => (a.start_date || '9').localeCompare(b.start_date || '9') || a.task_id.localeCompare(b.task_id) || a.map_index - b.map_index);
      tbody.innerHTML = tis.map(t => `<tr data-testid="run-ti-${esc(t.task_id)}${t.map_index >= 0 ? '-' + t.map_index : ''}">
        <td class="wrap-any"><a href="${esc(tiUrl(dagId, runId, t.task_id, t.map_index))}">${esc(t.task_display_name || t.task_id)}</a>${t.map_index >= 0 ? ` <span class="muted">[${esc(t.rendered_map_index ?? t.map_index)}]</span>` : ''}</td>
        <td>${badge(t.state)}</td><td class="num hide-sm">${esc(t.try_number ?? '')}</td>
        <td class="hide-sm">${timeTag(t.start_date)}</td><td class="hide-sm">${timeTag(t.end_date)}</td>
        <td class="num">${esc(fmtDur(durationOf(t)))}</td><td class="hide-sm">${esc(t.operator_name || t.operator || '')}</td></tr>`).join('')
        || '<tr><td colspan="7"><div class="empty">No task instances yet.</div></td></tr>';
    } catch (e) {
      if (isAbort(e)) return;
      summary.innerHTML = errorBox(e.status === 404 ? { status: 404, message: `Run "${runId}" of DAG "${dagId}" was not found.` } : e, 'run-error');
    }
  };

  root.querySelector('.page-head').addEventListener('click', async e => {
    const b = e.target.closest('[data-act]');
    if (!b) return;
    const act = b.dataset.act;
    if (act === 'clear') {
      const ok = await confirmAction({
        title: 'Clear run', testid: 'clear-run-dialog', confirmLabel: 'Clear',
        message: `Clear the task instances of <code>${esc(runId)}</code> so they run again.`,
        options: [{ name: 'only_failed', label: 'Only failed tasks', testid: 'clear-only-failed' }],
        preview: async v => {
          const r = await api(`${base}/clear`, { method: 'POST', body: { dry_run: true, only_failed: v.only_failed } });
          const list = r.task_instances || [];
          return `<strong>${list.length} task instance${list.length === 1 ? '' : 's'} will be cleared</strong><ul>${tiListHtml(list)}</ul>`;
        },
        run: v => api(`${base}/clear`, { method: 'POST', body: { dry_run: false, only_failed: v.only_failed } }),
      });
      if (ok) { toast('Run cleared'); load(); }
    } else if (act === 'success' || act === 'failed') {
      const ok = await confirmAction({
        title: `Mark run as ${act}`, testid: 'mark-run-dialog', confirmLabel: `Mark ${act}`, danger: act === 'failed',
        message: `Set <code>${esc(runId)}</code> to <strong>${act}</strong>. Unfinished task instances are set to ${act === 'success' ? 'success' : 'failed or skipped'}.`,
        run: () => api(base, { method: 'PATCH', body: { state: act } }),
      });
      if (ok) { toast(`Run marked ${act}`); load(); }
    } else if (act === 'delete') {
      const ok = await confirmAction({
        title: 'Delete run', testid: 'delete-run-dialog', confirmLabel: 'Delete', danger: true,
        message: `Delete <code>${esc(runId)}</code> and all its task instances? This cannot be undone.`,
        run: () => api(base, { method: 'DELETE' }),
      });
      if (ok) { toast('Run deleted'); ctx.navigate(dagUrl(dagId)); }
    }
  });

  const reload = debounce(load, 200);
  ctx.on('dag_run', r => { if (r && r.dag_id === dagId && r.run_id === runId) reload(); });
  ctx.on('task_instance', t => { if (t && t.dag_id === dagId && t.run_id === runId) reload(); });
  ctx.on('lagged', () => reload());
  ctx.cleanup(() => reload.cancel());
  load();
  return {};
}
