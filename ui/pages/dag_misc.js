// Runs, Versions and Details tabs of the DAG page.
// Runs: GET dagRuns?limit=50&offset&order_by=-run_after[&state=] (live: dag_run → reload).
// Versions: GET dagVersions. Details: the /details body already loaded by the page.

import { api, isAbort } from '../api.js';
import { debounce } from '../events.js';
import { esc, enc, runUrl, dagUrl, timeTag, fmtDur, durationOf, fmtJson, errorBox, delayedLoading } from '../dom.js';
import { badge, RUN_STATES, label } from '../states.js';

const PAGE = 50;

function runsTab(el, d) {
  const { dagId, ctx } = d;
  let state = d.query.get('state') || '';
  let offset = Math.max(0, +d.query.get('offset') || 0);
  el.innerHTML = `<div class="toolbar">
      <label class="muted" for="runs-state">State</label>
      <select id="runs-state" data-testid="runs-state-filter"><option value="">All states</option>${RUN_STATES.map(s => `<option value="${s}"${s === state ? ' selected' : ''}>${label(s)}</option>`).join('')}</select>
      <span class="muted" data-slot="count"></span>
    </div>
    <div class="panel tbl-wrap"><table class="tbl" data-testid="runs-table"><thead><tr>
      <th>Run</th><th>State</th><th class="hide-sm">Type</th><th>Run after</th><th class="hide-sm">Started</th><th class="hide-sm">Ended</th><th class="num">Duration</th><th class="hide-sm">Triggered by</th><th class="hide-sm">Version</th>
    </tr></thead><tbody></tbody></table></div><div class="pager"></div>`;
  const tbody = el.querySelector('tbody');
  const pager = el.querySelector('.pager');
  const setUrl = () => {
    const q = new URLSearchParams();
    if (state) q.set('state', state);
    if (offset) q.set('offset', offset);
    const s = q.toString();
    history.replaceState(null, '', `${dagUrl(dagId, 'runs')}${s ? '?' + s : ''}`);
  };
  let seq = 0;
  const load = async () => {
    const my = ++seq;
    const done = delayedLoading(el.querySelector('.panel'));
    try {
      const r = await api(`/api/v2/dags/${enc(dagId)}/dagRuns`, { query: { limit: PAGE, offset, order_by: '-run_after', state: state || undefined }, signal: ctx.signal });
      if (my !== seq) return;
      const runs = r.dag_runs || [];
      const total = r.total_entries ?? runs.length;
      el.querySelector('[data-slot="count"]').textContent = `${total} run${total === 1 ? '' : 's'}`;
      tbody.innerHTML = runs.length ? runs.map(x => `<tr data-testid="run-row-${esc(x.dag_run_id)}">
        <td class="wrap-any"><a href="${esc(runUrl(dagId, x.dag_run_id))}">${esc(x.dag_run_id)}</a></td>
        <td>${badge(x.state)}</td><td class="hide-sm">${esc(x.run_type || '')}</td>
        <td>${timeTag(x.run_after)}</td><td class="hide-sm">${timeTag(x.start_date)}</td><td class="hide-sm">${timeTag(x.end_date)}</td>
        <td class="num">${esc(fmtDur(durationOf(x)))}</td><td class="hide-sm">${esc(x.triggered_by || '')}${x.triggering_user_name ? ` <span class="muted">(${esc(x.triggering_user_name)})</span>` : ''}</td>
        <td class="hide-sm">${(x.dag_versions || []).map(v => `v${esc(v.version_number)}`).join(', ')}</td></tr>`).join('')
        : `<tr><td colspan="9"><div class="empty">${state ? `No ${label(state).toLowerCase()} runs.` : 'No runs yet.'}</div></td></tr>`;
      pager.innerHTML = total > PAGE ? `<span>${offset + 1}–${offset + runs.length} of ${total}</span>
        <button type="button" class="btn btn-sm" data-off="${Math.max(0, offset - PAGE)}"${offset ? '' : ' disabled'}>Previous</button>
        <button type="button" class="btn btn-sm" data-off="${offset + PAGE}"${offset + PAGE < total ? '' : ' disabled'}>Next</button>` : '';
    } catch (e) {
      if (!isAbort(e) && my === seq) tbody.innerHTML = `<tr><td colspan="9">${errorBox(e)}</td></tr>`;
    } finally { done(); }
  };
  el.querySelector('select').addEventListener('change', e => { state = e.target.value; offset = 0; setUrl(); load(); });
  pager.addEventListener('click', e => { const b = e.target.closest('[data-off]'); if (b) { offset = +b.dataset.off; setUrl(); load(); } });
  const reload = debounce(load, 250);
  ctx.on('dag_run', r => { if (r && r.dag_id === dagId) reload(); });
  ctx.on('lagged', () => reload());
  ctx.cleanup(() => reload.cancel());
  load();
  return { refresh: load, update(q) { state = q.get('state') || ''; offset = +q.get('offset') || 0; el.querySelector('select').value = state; load(); } };
}

function versionsTab(el, d) {
  const { dagId, ctx } = d;
  el.innerHTML = `<div class="panel tbl-wrap"><table class="tbl" data-testid="versions-table"><thead><tr><th>Version</th><th>Created</th><th class="hide-sm">Bundle</th><th class="hide-sm">Bundle version</th><th></th></tr></thead><tbody></tbody></table></div>`;
  const tbody = el.querySelector('tbody');
  const load = async () => {
    try {
      const r = await api(`/api/v2/dags/${enc(dagId)}/dagVersions`, { query: { limit: 100, order_by: '-version_number' }, signal: ctx.signal });
      const vs = (r.dag_versions || []).slice().sort((a, b) => b.version_number - a.version_number);
      tbody.innerHTML = vs.map(v => `<tr data-testid="version-row-${esc(v.version_number)}"><td><strong>v${esc(v.version_number)}</strong></td><td>${timeTag(v.created_at)}</td>
        <td class="hide-sm">${esc(v.bundle_name || '')}</td><td class="hide-sm">${esc(v.bundle_version || '—')}</td>
        <td class="actions"><a href="${esc(dagUrl(dagId, 'code'))}?version=${enc(v.version_number)}">View code</a></td></tr>`).join('') || '<tr><td colspan="5"><div class="empty">No versions.</div></td></tr>';
    } catch (e) { if (!isAbort(e)) tbody.innerHTML = `<tr><td colspan="5">${errorBox(e)}</td></tr>`; }
  };
  load();
  return { structureChanged: load };
}

function detailsTab(el, d) {
  const render = () => {
    const x = d.details;
    const row = (k, v, tid) => `<dt>${esc(k)}</dt><dd${tid ? ` data-testid="${tid}"` : ''}>${v === '' || v == null ? '<span class="muted">—</span>' : v}</dd>`;
    const json = v => (v && typeof v === 'object' && Object.keys(v).length ? `<pre class="val">${esc(fmtJson(v))}</pre>` : '');
    el.innerHTML = `<dl class="kv card" style="padding:14px" data-testid="dag-details">
      ${row('DAG ID', `<code>${esc(x.dag_id)}</code>`)}
      ${row('Description', esc(x.description || ''))}
      ${row('Schedule', x.timetable_summary ? `<code>${esc(x.timetable_summary)}</code> <span class="muted">${esc(x.timetable_description || '')}</span>` : esc(x.timetable_description || ''))}
      ${row('Start date', timeTag(x.start_date))}${row('End date', x.end_date ? timeTag(x.end_date) : '')}
      ${row('Catchup', esc(String(x.catchup ?? '')))}
      ${row('Max active runs', esc(x.max_active_runs ?? ''))}${row('Max active tasks', esc(x.max_active_tasks ?? ''))}
      ${row('Dag run timeout', esc(x.dag_run_timeout ?? ''))}
      ${row('Timezone', esc(x.timezone || ''))}
      ${row('File', `<code>${esc(x.fileloc || x.relative_fileloc || '')}</code>`)}
      ${x.bundle_name && x.bundle_name !== 'dags-folder' ? row('Bundle', `${esc(x.bundle_name)} <code>${esc(x.bundle_version || '')}</code>`, 'dag-bundle') : ''}
      ${x.image ? row('Image', `<code>${esc(x.image)}</code>`, 'dag-image') : ''}
      ${row('Last parsed', timeTag(x.last_parsed_time || x.last_parsed))}${row('Parse duration', esc(x.last_parse_duration != null ? fmtDur(x.last_parse_duration) : ''))}
      ${row('Latest version', x.latest_dag_version ? `v${esc(x.latest_dag_version.version_number)}` : '')}
      ${row('Active runs', esc(x.active_runs_count ?? ''))}
      ${row('Params', json(x.params), 'dag-params')}
      ${row('Default args', json(x.default_args))}
      ${row('Documentation', x.doc_md ? `<pre class="val">${esc(x.doc_md)}</pre>` : '')}
    </dl>`;
  };
  render();
  return { structureChanged: render };
}

export function mountTab(el, d) {
  if (d.tab === 'runs') return runsTab(el, d);
  if (d.tab === 'versions') return versionsTab(el, d);
  return detailsTab(el, d);
}
