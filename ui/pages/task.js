// /dags/{dag_id}/runs/{run_id}/tasks/{task_id}[?map_index=N&try=N]: one task instance.
// State, tries (tabs), timing, operator, rendered template fields, XCom, and the log of the
// selected try, streamed live from `log` events while it runs. Actions: clear (dry-run
// preview; downstream/upstream/failed-only), mark success/failed.
// A mapped task without map_index lists its mapped instances instead.

import { api, apiAll, isAbort } from '../api.js';
import { debounce } from '../events.js';
import { esc, enc, dagUrl, runUrl, tiUrl, tiApi, timeTag, fmtDur, durationOf, fmtJson, errorBox, toast } from '../dom.js';
import { badge, norm, label, FINISHED } from '../states.js';
import { confirmAction } from '../dialog.js';
import { LogView, parseLog, fromStream } from '../log.js';

const valueHtml = v => `<pre class="val">${esc(v === undefined ? '' : typeof v === 'string' ? v : fmtJson(v))}</pre>`;

export function mount(root, route, ctx) {
  const { dagId, runId, taskId } = route.params;
  const mi = route.query.has('map_index') ? +route.query.get('map_index') : -1;
  let explicitTry = route.query.get('try') ? +route.query.get('try') : null;
  const runBase = `/api/v2/dags/${enc(dagId)}/dagRuns/${enc(runId)}`;
  const tiPath = `${runBase}/taskInstances/${enc(taskId)}`; // logs, xcom (map_index as query)
  const tiGet = tiApi(dagId, runId, taskId, mi); // GET/PATCH the instance, tries
  const miQuery = mi >= 0 ? { map_index: mi } : {};
  let ti = null;
  let tries = [];
  let shownTry = null;
  let logLoaded = null; // try number whose log is in the view
  const tid = esc(taskId);
  ctx.setTitle(`${taskId}${mi >= 0 ? `[${mi}]` : ''} · ${dagId}`);

  root.innerHTML = `
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dags">DAGs</a><span aria-hidden="true">/</span><a href="${esc(dagUrl(dagId))}">${esc(dagId)}</a><span aria-hidden="true">/</span><a href="${esc(runUrl(dagId, runId))}" data-testid="ti-run-link">${esc(runId)}</a><span aria-hidden="true">/</span><span>Task</span></nav>
    <div class="page-head">
      <h1 data-testid="ti-title" style="overflow-wrap:anywhere">${tid}${mi >= 0 ? ` <span class="muted">[${mi}]</span>` : ''}</h1><span data-slot="state"></span>
      <span class="spacer"></span>
      <button type="button" class="btn" data-act="clear" data-testid="ti-clear" disabled>Clear</button>
      <button type="button" class="btn" data-act="success" data-testid="ti-mark-success" disabled>Mark success</button>
      <button type="button" class="btn" data-act="failed" data-testid="ti-mark-failed" disabled>Mark failed</button>
    </div>
    <div data-slot="error"></div>
    <div data-slot="mapped"></div>
    <div class="tabs tries" role="tablist" aria-label="Tries" data-slot="tries"></div>
    <div data-slot="facts" style="min-height:54px"></div>
    <section class="sec" data-slot="log-sec"><h2>Log</h2><div data-slot="log"></div></section>
    <details class="sec" open><summary>Rendered template fields</summary><div data-slot="rendered" data-testid="rendered-fields"></div></details>
    <details class="sec" open><summary>XCom</summary><div data-slot="xcom" data-testid="xcom"></div></details>`;
  const $s = n => root.querySelector(`[data-slot="${n}"]`);
  const log = new LogView($s('log'), { filename: `${dagId}__${runId}__${taskId}${mi >= 0 ? '__' + mi : ''}.log`.replace(/[^\w.-]+/g, '_') });

  const currentTryOf = () => {
    const latest = tries.length ? tries[tries.length - 1].try_number : 0;
    return Math.max(ti && ti.try_number ? ti.try_number : 0, latest);
  };
  const tryInfo = n => tries.find(t => t.try_number === n) || (ti && ti.try_number === n ? ti : null);

  const renderHead = () => {
    $s('state').innerHTML = badge(ti.state, 'ti-state');
    root.querySelectorAll('[data-act]').forEach(b => { b.disabled = false; });
    const s = norm(ti.state);
    root.querySelector('[data-act="success"]').disabled = s === 'success';
    root.querySelector('[data-act="failed"]').disabled = s === 'failed';
    const cur = currentTryOf();
    const nums = [...new Set([...tries.map(t => t.try_number), ...(cur ? [cur] : [])])].sort((a, b) => a - b);
    $s('tries').innerHTML = nums.length > 0 ? nums.map(n => {
      const info = tryInfo(n);
      const st = norm(info && info.state);
      return `<button type="button" role="tab" class="s-${st}" data-try="${n}" data-testid="try-tab-${n}" aria-selected="${n === shownTry}" title="${esc(label(st))}"><span class="badge s-${st}"><i></i>Try ${n}</span></button>`;
    }).join('') : '';
    const t = tryInfo(shownTry) || ti;
    $s('facts').innerHTML = `<dl class="facts" data-testid="ti-facts">
      <div><dt>State${shownTry ? ` (try ${shownTry})` : ''}</dt><dd data-testid="ti-try-state">${badge(t.state)}</dd></div>
      <div><dt>Started</dt><dd>${timeTag(t.start_date)}</dd></div>
      <div><dt>Ended</dt><dd>${timeTag(t.end_date)}</dd></div>
      <div><dt>Duration</dt><dd data-testid="ti-duration">${esc(fmtDur(durationOf(t))) || '—'}</dd></div>
      <div><dt>Operator</dt><dd data-testid="ti-operator">${esc(ti.operator_name || ti.operator || '')}</dd></div>
      <div><dt>Tries</dt><dd>${esc(cur)} of ${esc((ti.max_tries ?? 0) + 1)}</dd></div>
      <div><dt>Host / PID</dt><dd>${esc(t.hostname || '—')}${t.pid ? ` / ${esc(t.pid)}` : ''}</dd></div>
      <div><dt>Pool / queue</dt><dd>${esc(ti.pool || '')} / ${esc(ti.queue || '')}</dd></div>
      ${mi >= 0 ? `<div><dt>Map index</dt><dd>${esc(ti.rendered_map_index ?? mi)}</dd></div>` : ''}
      <div><dt>DAG version</dt><dd>${ti.dag_version ? `v${esc(ti.dag_version.version_number)}` : '—'}</dd></div>
    </dl>${ti.note ? `<p><strong>Note:</strong> ${esc(ti.note)}</p>` : ''}`;
    const rf = ti.rendered_fields || {};
    const keys = Object.keys(rf);
    $s('rendered').innerHTML = keys.length ? `<dl class="kv">${keys.map(k => `<dt><code>${esc(k)}</code></dt><dd data-testid="rendered-field-${esc(k)}">${rf[k] == null ? '<span class="muted">None</span>' : valueHtml(rf[k])}</dd>`).join('')}</dl>` : '<p class="muted">No rendered template fields.</p>';
  };

  // ---- log with live tail ----
  // The log so far as JSON (`{content}`: answered at once even while the try runs; NDJSON
  // would follow the running try and hold the request open), then the `log` events' lines
  // newer than its last timestamp. Lines arriving during the fetch are buffered.
  let buffering = false;
  let buffer = [];
  let logSeq = 0;
  const loadLog = async () => {
    const my = ++logSeq;
    const n = shownTry;
    if (!n) { logLoaded = null; log.setRecords([], { empty: 'The task has not started yet; its log appears here when it runs.' }); return; }
    buffering = true;
    buffer = [];
    try {
      const body = await api(`${tiPath}/logs/${n}`, { query: { full_content: true, ...miQuery }, signal: ctx.signal });
      if (my !== logSeq) return;
      const recs = parseLog(body);
      log.setRecords(recs, { empty: FINISHED.has(norm(ti && ti.state)) ? 'This try wrote no log lines.' : 'Waiting for log lines…' });
      const lastTs = recs.reduce((m, r) => (r.timestamp && r.timestamp > m ? r.timestamp : m), '');
      log.append(buffer.filter(r => !r.timestamp || !lastTs || r.timestamp > lastTs));
    } catch (e) {
      if (isAbort(e) || my !== logSeq) return;
      log.setRecords([], { empty: e.status === 404 ? 'No log for this try yet.' : `Could not load the log: ${e.message}` });
      log.append(buffer);
    } finally {
      if (my === logSeq) { buffering = false; buffer = []; logLoaded = n; }
    }
  };

  const loadXcom = async () => {
    const box = $s('xcom');
    try {
      const r = await api(`${tiPath}/xcomEntries`, { query: { limit: 50, ...miQuery }, signal: ctx.signal });
      const entries = (r.xcom_entries || []).slice(0, 25);
      if (!entries.length) { box.innerHTML = '<p class="muted">No XCom values.</p>'; return; }
      const values = await Promise.all(entries.map(x => api(`${tiPath}/xcomEntries/${enc(x.key)}`, { query: { deserialize: true, ...miQuery }, signal: ctx.signal }).then(v => v.value, e => ({ __error: e.message }))));
      box.innerHTML = `<dl class="kv">${entries.map((x, i) => `<dt><code>${esc(x.key)}</code></dt><dd data-testid="xcom-${esc(x.key)}">${values[i] && values[i].__error ? `<span class="muted">${esc(values[i].__error)}</span>` : valueHtml(values[i])}</dd>`).join('')}</dl>`;
    } catch (e) { if (!isAbort(e)) box.innerHTML = e.status === 404 ? '<p class="muted">No XCom values.</p>' : errorBox(e); }
  };

  const showMapped = async () => {
    try {
      const list = await apiAll(`${runBase}/taskInstances`, 'task_instances', { query: { task_id: taskId }, signal: ctx.signal });
      const mapped = list.filter(t => t.task_id === taskId && t.map_index >= 0).sort((a, b) => a.map_index - b.map_index);
      if (!mapped.length) return false;
      root.querySelectorAll('.tries, [data-slot="facts"], [data-slot="log-sec"], details.sec').forEach(x => { x.hidden = true; });
      $s('error').innerHTML = '';
      const counts = {};
      mapped.forEach(t => { const s = norm(t.state); counts[s] = (counts[s] || 0) + 1; });
      $s('state').innerHTML = `<span class="muted">${mapped.length} mapped: ${Object.entries(counts).map(([s, n]) => `${n} ${esc(label(s).toLowerCase())}`).join(', ')}</span>`;
      $s('mapped').innerHTML = `<div class="panel tbl-wrap"><table class="tbl" data-testid="mapped-tis"><thead><tr><th>Map index</th><th>State</th><th class="num">Try</th><th class="num">Duration</th></tr></thead><tbody>${
        mapped.map(t => `<tr data-testid="mapped-ti-${t.map_index}"><td><a href="${esc(tiUrl(dagId, runId, taskId, t.map_index))}">${esc(t.rendered_map_index ?? t.map_index)}</a></td><td>${badge(t.state)}</td><td class="num">${esc(t.try_number ?? '')}</td><td class="num">${esc(fmtDur(durationOf(t)))}</td></tr>`).join('')}</tbody></table></div>`;
      return true;
    } catch { return false; }
  };

  let loadSeq = 0;
  const load = async ({ withLog = true } = {}) => {
    const my = ++loadSeq;
    try {
      const [t, tr] = await Promise.all([
        api(tiGet, { signal: ctx.signal }),
        api(`${tiGet}/tries`, { signal: ctx.signal }).catch(e => { if (isAbort(e)) throw e; return { task_instances: [] }; }),
      ]);
      if (my !== loadSeq) return;
      ti = t;
      const byTry = new Map();
      for (const x of tr.task_instances || []) byTry.set(x.try_number, x);
      tries = [...byTry.values()].filter(x => x.try_number > 0).sort((a, b) => a.try_number - b.try_number);
      $s('error').innerHTML = '';
      const prevTry = shownTry;
      shownTry = explicitTry || currentTryOf() || null;
      renderHead();
      if (withLog || shownTry !== prevTry || logLoaded !== shownTry) await loadLog();
    } catch (e) {
      if (isAbort(e) || my !== loadSeq) return;
      if (e.status === 404 && mi < 0 && await showMapped()) return;
      $s('error').innerHTML = errorBox(e.status === 404 ? { status: 404, message: `Task instance "${taskId}" does not exist in run "${runId}" (yet).` } : e, 'ti-error');
      if (!ti) log.setRecords([], { empty: 'No task instance yet.' });
    }
  };

  // ---- actions ----
  root.querySelector('[data-slot="tries"]').addEventListener('click', e => {
    const b = e.target.closest('[data-try]');
    if (!b) return;
    const n = +b.dataset.try;
    ctx.navigate(tiUrl(dagId, runId, taskId, mi, n === currentTryOf() ? null : n), { replace: true });
  });
  root.querySelector('[data-slot="tries"]').addEventListener('keydown', e => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const tabs = [...root.querySelectorAll('[data-try]')];
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length].focus();
  });
  root.querySelector('.page-head').addEventListener('click', async e => {
    const b = e.target.closest('[data-act]');
    if (!b) return;
    const act = b.dataset.act;
    const name = `<code>${tid}${mi >= 0 ? `[${mi}]` : ''}</code>`;
    if (act === 'clear') {
      const body = v => ({ dag_run_id: runId, task_ids: [mi >= 0 ? [taskId, mi] : taskId], include_downstream: v.include_downstream, include_upstream: v.include_upstream, only_failed: v.only_failed });
      const ok = await confirmAction({
        title: 'Clear task instance', testid: 'clear-ti-dialog', confirmLabel: 'Clear',
        message: `Clear ${name} so it runs again.`,
        options: [
          { name: 'include_downstream', label: 'Downstream tasks too', checked: true, testid: 'clear-downstream' },
          { name: 'include_upstream', label: 'Upstream tasks too', testid: 'clear-upstream' },
          { name: 'only_failed', label: 'Only failed tasks', testid: 'clear-only-failed' },
        ],
        preview: async v => {
          const r = await api(`/api/v2/dags/${enc(dagId)}/clearTaskInstances`, { method: 'POST', body: { dry_run: true, ...body(v) } });
          const list = r.task_instances || [];
          return `<strong>${list.length} task instance${list.length === 1 ? '' : 's'} will be cleared</strong><ul>${list.slice(0, 50).map(t => `<li><code>${esc(t.task_id)}${t.map_index >= 0 ? `[${t.map_index}]` : ''}</code> <span class="muted">${esc(norm(t.state))}</span></li>`).join('')}</ul>`;
        },
        run: v => api(`/api/v2/dags/${enc(dagId)}/clearTaskInstances`, { method: 'POST', body: { dry_run: false, ...body(v) } }),
      });
      if (ok) { toast('Task cleared'); explicitTry = null; load(); }
    } else {
      const ok = await confirmAction({
        title: `Mark as ${act}`, testid: 'mark-ti-dialog', confirmLabel: `Mark ${act}`, danger: act === 'failed',
        message: `Set ${name} to <strong>${act}</strong>.`,
        options: [
          { name: 'include_downstream', label: 'Downstream tasks too', testid: 'mark-downstream' },
          { name: 'include_upstream', label: 'Upstream tasks too', testid: 'mark-upstream' },
        ],
        run: v => api(tiGet, { method: 'PATCH', body: { new_state: act, include_downstream: v.include_downstream, include_upstream: v.include_upstream } }),
      });
      if (ok) { toast(`Marked ${act}`); load({ withLog: false }); }
    }
  });

  // ---- live ----
  const mine = x => x && x.dag_id === dagId && x.run_id === runId && x.task_id === taskId && (x.map_index ?? -1) === mi;
  const refresh = debounce(() => load({ withLog: false }), 200);
  const refreshXcom = debounce(loadXcom, 300);
  ctx.on('task_instance', x => {
    if (!mine(x)) {
      if (mi < 0 && x && x.dag_id === dagId && x.run_id === runId && x.task_id === taskId && !ti) refresh();
      return;
    }
    if (ti) { ti.state = x.state; $s('state').innerHTML = badge(x.state, 'ti-state'); }
    refresh();
    if (FINISHED.has(norm(x.state))) refreshXcom();
  });
  ctx.on('log', x => {
    if (!mine(x) || !x.lines || !x.lines.length) return;
    const n = x.try_number ?? shownTry;
    if (shownTry == null || (n > shownTry && !explicitTry)) { refresh(); return; }
    if (n !== shownTry) return;
    const recs = x.lines.map(fromStream);
    if (buffering) buffer.push(...recs); else log.append(recs);
  });
  ctx.on('lagged', () => { load(); loadXcom(); });
  ctx.cleanup(() => { refresh.cancel(); refreshXcom.cancel(); });

  load();
  loadXcom();

  return {
    update(r) {
      const p = r.params;
      const newMi = r.query.has('map_index') ? +r.query.get('map_index') : -1;
      if (p.dagId !== dagId || p.runId !== runId || p.taskId !== taskId || newMi !== mi) return false;
      explicitTry = r.query.get('try') ? +r.query.get('try') : null;
      const n = explicitTry || currentTryOf() || null;
      if (n !== shownTry) { shownTry = n; if (ti) renderHead(); loadLog(); }
      return true;
    },
  };
}
