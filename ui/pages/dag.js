// /dags/{dag_id}[/grid|graph|code|runs|versions|details]: header (schedule, latest version,
// owners, tags, pause toggle, Trigger) and tabs. Each tab is its own module mounted with a
// scoped context (its subscriptions end when the tab changes).
// Live: dag_updated for this DAG (or import_errors for its file) → refetch details + tasks,
// then tell the tab.

import { api, isAbort } from '../api.js';
import * as events from '../events.js';
import { esc, enc, dagUrl, fmtDate, fmtRel, errorBox, toast } from '../dom.js';
import { openTrigger } from './trigger.js';

const TABS = [['grid', 'Grid'], ['graph', 'Graph'], ['code', 'Code'], ['runs', 'Runs'], ['versions', 'Versions'], ['details', 'Details']];
const TAB_MODULES = {
  grid: () => import('./dag_grid.js'),
  graph: () => import('./dag_graph.js'),
  code: () => import('./dag_code.js'),
  runs: () => import('./dag_misc.js'),
  versions: () => import('./dag_misc.js'),
  details: () => import('./dag_misc.js'),
};

/** A context whose subscriptions and requests end with destroy(). */
function scope(parent) {
  const ctl = new AbortController();
  const fns = [];
  const onAbort = () => ctl.abort();
  parent.signal.addEventListener('abort', onAbort);
  return {
    signal: ctl.signal,
    on(type, fn) { fns.push(events.on(type, fn)); },
    cleanup(fn) { fns.push(fn); },
    navigate: parent.navigate,
    destroy() { ctl.abort(); parent.signal.removeEventListener('abort', onAbort); fns.forEach(f => f()); },
  };
}

export function mount(root, route, ctx) {
  const dagId = route.params.dagId;
  let tab = route.params.tab || 'grid';
  let query = route.query;
  let details = null;
  let tasks = null;
  let tabInst = null;
  let tabScope = null;
  let tabSeq = 0;
  const id = esc(dagId);
  ctx.setTitle(dagId);

  root.innerHTML = `
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dags">DAGs</a><span aria-hidden="true">/</span><span>${id}</span></nav>
    <div class="page-head">
      <div class="dag-title"><button type="button" class="switch" role="switch" aria-checked="false" data-testid="pause-toggle-${id}" aria-label="${id} active" disabled></button>
        <h1 data-testid="dag-title">${id}</h1><span data-slot="paused"></span></div>
      <span class="spacer"></span>
      <button type="button" class="btn btn-primary" data-testid="trigger-button" disabled><svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true"><path d="M2 1l9 5-9 5z" fill="currentColor"/></svg>Trigger</button>
    </div>
    <div data-slot="error"></div>
    <dl class="facts" data-testid="dag-facts">
      <div><dt>Schedule</dt><dd data-testid="dag-schedule">&nbsp;</dd></div>
      <div><dt>Next run</dt><dd data-testid="dag-next-run">&nbsp;</dd></div>
      <div><dt>Latest version</dt><dd data-testid="dag-version">&nbsp;</dd></div>
      <div><dt>Owner</dt><dd data-testid="dag-owners">&nbsp;</dd></div>
      <div><dt>Tags</dt><dd data-testid="dag-tags">&nbsp;</dd></div>
    </dl>
    <nav class="tabs" aria-label="DAG views">${TABS.map(([t, l]) => `<a href="${esc(dagUrl(dagId, t === 'grid' ? '' : t))}" data-tab="${t}" data-testid="tab-${t}">${l}</a>`).join('')}</nav>
    <div class="panel" data-slot="tab"></div>`;
  const sw = root.querySelector('.switch');
  const trigger = root.querySelector('[data-testid="trigger-button"]');
  const tabEl = root.querySelector('[data-slot="tab"]');
  const errEl = root.querySelector('[data-slot="error"]');
  const setText = (sel, h) => { root.querySelector(`[data-testid="${sel}"]`).innerHTML = h; };

  const renderHeader = () => {
    const d = details;
    ctx.setTitle(d.dag_display_name || dagId);
    root.querySelector('[data-testid="dag-title"]').textContent = d.dag_display_name || dagId;
    sw.disabled = false;
    sw.setAttribute('aria-checked', String(!d.is_paused));
    sw.dataset.paused = String(!!d.is_paused);
    sw.title = d.is_paused ? 'Paused: click to unpause' : 'Active: click to pause';
    root.querySelector('[data-slot="paused"]').innerHTML = d.is_paused ? '<span class="chip" data-testid="dag-paused-badge">Paused</span>' : '';
    trigger.disabled = false;
    setText('dag-schedule', d.timetable_summary ? `<code>${esc(d.timetable_summary)}</code> <span class="muted">${esc(d.timetable_description || '')}</span>` : `<span class="muted">${esc(d.timetable_description || 'None')}</span>`);
    const next = d.next_dagrun_run_after || d.next_dagrun_logical_date;
    setText('dag-next-run', next ? `<time datetime="${esc(next)}" title="${esc(next)}">${esc(fmtDate(next, { seconds: false }))}</time> <span class="muted">${esc(fmtRel(next))}</span>` : '<span class="muted">—</span>');
    const v = d.latest_dag_version;
    setText('dag-version', v ? `<a href="${esc(dagUrl(dagId, 'code'))}?version=${v.version_number}">v${esc(v.version_number)}</a> <span class="muted">${esc(fmtRel(v.created_at))}</span>` : '<span class="muted">—</span>');
    setText('dag-owners', esc((d.owners || []).join(', ')) || '<span class="muted">—</span>');
    setText('dag-tags', (d.tags || []).map(t => `<a class="chip" href="/dags?tags=${enc(t.name)}">${esc(t.name)}</a>`).join('') || '<span class="muted">—</span>');
    errEl.innerHTML = d.has_import_errors ? `<div class="error-box" data-testid="dag-import-error">The file of this DAG currently fails to import; the last good version is shown. See the <a href="/dags">DAG list</a> for the traceback.</div>` : '';
  };

  const data = {
    dagId,
    get details() { return details; },
    get tasks() { return tasks; },
  };

  let loadSeq = 0;
  const loadDag = async () => {
    const seq = ++loadSeq;
    try {
      const [d, t] = await Promise.all([
        api(`/api/v2/dags/${enc(dagId)}/details`, { signal: ctx.signal }),
        api(`/api/v2/dags/${enc(dagId)}/tasks`, { signal: ctx.signal }),
      ]);
      if (seq !== loadSeq) return false;
      details = d;
      tasks = t.tasks || [];
      renderHeader();
      return true;
    } catch (e) {
      if (isAbort(e)) return false;
      if (!details) {
        errEl.innerHTML = errorBox(e.status === 404 ? { message: `DAG "${dagId}" was not found. It may have been removed or never parsed.` } : e, 'dag-error');
        tabEl.innerHTML = '';
        root.querySelector('.tabs').hidden = true;
      }
      return false;
    }
  };

  const mountTab = async () => {
    const seq = ++tabSeq;
    root.querySelectorAll('.tabs a').forEach(a => { if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current'); });
    const mod = await TAB_MODULES[tab]();
    if (seq !== tabSeq || !details) return;
    if (tabInst && tabInst.destroy) tabInst.destroy();
    if (tabScope) tabScope.destroy();
    tabScope = scope(ctx);
    tabEl.textContent = '';
    tabInst = mod.mountTab(tabEl, { ...data, tab, query, ctx: tabScope }) || {};
  };

  sw.addEventListener('click', async () => {
    const paused = sw.dataset.paused !== 'true';
    sw.disabled = true;
    try {
      const d = await api(`/api/v2/dags/${enc(dagId)}`, { method: 'PATCH', body: { is_paused: paused } });
      details = { ...details, is_paused: d && typeof d.is_paused === 'boolean' ? d.is_paused : paused };
      renderHeader();
    } catch (e) {
      toast(`Could not ${paused ? 'pause' : 'unpause'}: ${e.message}`, { kind: 'error' });
    } finally { sw.disabled = false; sw.focus(); }
  });
  trigger.addEventListener('click', () => openTrigger(dagId, details, { onDone: () => tabInst && tabInst.refresh && tabInst.refresh() }));

  const reloadDag = events.debounce(async () => {
    if (!(await loadDag())) return;
    if (!tabInst) { root.querySelector('.tabs').hidden = false; errEl.innerHTML = ''; mountTab(); } else if (tabInst.structureChanged) tabInst.structureChanged();
  }, 200);
  ctx.on('dag_updated', d => { if (d && d.dag_id === dagId) reloadDag(); });
  ctx.on('dag_removed', d => {
    if (d && d.dag_id === dagId) errEl.innerHTML = '<div class="error-box" data-testid="dag-removed">This DAG was removed from the DAG folder.</div>';
  });
  // A file that starts or stops failing changes `has_import_errors` but not the DAG itself.
  ctx.on('import_errors', e => {
    const f = e && e.filename;
    if (!f || !details || [details.relative_fileloc, details.fileloc].some(x => x && (x === f || x.endsWith('/' + f) || f.endsWith('/' + x)))) reloadDag();
  });
  ctx.on('lagged', () => reloadDag());
  ctx.cleanup(() => { reloadDag.cancel(); if (tabInst && tabInst.destroy) tabInst.destroy(); if (tabScope) tabScope.destroy(); });

  loadDag().then(ok => { if (ok) mountTab(); });

  return {
    update(r) {
      if (r.params.dagId !== dagId) return false;
      const newTab = r.params.tab || 'grid';
      const oldQuery = query;
      query = r.query;
      if (newTab !== tab) { tab = newTab; if (details) mountTab(); return true; }
      if (tabInst && tabInst.update && oldQuery.toString() !== query.toString()) tabInst.update(query);
      return true;
    },
  };
}
