// / and /dags: DAG list with search (dag_id_pattern), tag and paused filters, pause toggles,
// schedule + next run, the last 14 runs as bars (fetched per visible row), and the import-error
// banner. Live: dag_updated/dag_removed → list, import_errors → banner, dag_run → that row's bars.

import { api, apiAll, isAbort } from '../api.js';
import { esc, dagUrl, runUrl, fmtDate, fmtRel, delayedLoading, errorBox, toast, durationOf, fmtDur, enc } from '../dom.js';
import { norm, label, legend, RUN_STATES } from '../states.js';
import { debounce, keyedDebounce } from '../events.js';

const PAGE = 500;
const RECENT = 14;

function readQuery(q) {
  return { search: q.get('search') || '', tags: q.getAll('tags'), paused: q.get('paused') || '', offset: Math.max(0, +q.get('offset') || 0) };
}
function toUrl(s) {
  const q = new URLSearchParams();
  if (s.search) q.set('search', s.search);
  s.tags.forEach(t => q.append('tags', t));
  if (s.paused) q.set('paused', s.paused);
  if (s.offset) q.set('offset', s.offset);
  const str = q.toString();
  return `/dags${str ? '?' + str : ''}`;
}

export function importErrorsHtml(list, total) {
  if (!list.length) return '';
  return `<section class="banner-error" data-testid="import-errors" aria-label="DAG import errors">
    <h2>${total} DAG import error${total === 1 ? '' : 's'}</h2>
    ${list.map(e => `<details data-testid="import-error-${esc(e.filename)}"><summary>${esc(e.filename)} <span class="muted">· ${esc(fmtDate(e.timestamp))}</span></summary><pre>${esc(e.stack_trace || '')}</pre></details>`).join('')}
  </section>`;
}

function runsBarsHtml(dagId, runs) {
  if (!runs.length) return '<span class="muted" style="font-size:12px">No runs yet</span>';
  const max = Math.max(1, ...runs.map(r => durationOf(r) || 0));
  return runs.slice().reverse().map(r => {
    const s = norm(r.state);
    const h = 6 + Math.round(20 * Math.min(1, (durationOf(r) || 0) / max));
    return `<a class="s-${s}" href="${esc(runUrl(dagId, r.dag_run_id))}" style="height:${h}px" data-state="${s}" title="${esc(`${r.dag_run_id}\n${label(s)}${durationOf(r) != null ? ' · ' + fmtDur(durationOf(r)) : ''}`)}" aria-label="Run ${esc(r.dag_run_id)}: ${label(s)}"></a>`;
  }).join('');
}

function rowHtml(d, cached) {
  const id = esc(d.dag_id);
  const paused = !!d.is_paused;
  const tags = (d.tags || []).map(t => `<button type="button" class="chip" data-tag="${esc(t.name)}" title="Filter by tag ${esc(t.name)}">${esc(t.name)}</button>`).join('');
  const next = d.next_dagrun_run_after || d.next_dagrun_logical_date;
  return `<div class="dl-row" role="row" data-testid="dag-row-${id}" data-dag-id="${id}">
    <div role="cell"><button type="button" class="switch" role="switch" aria-checked="${!paused}" data-dag="${id}" data-paused="${paused}" data-testid="pause-toggle-${id}" aria-label="${id} active" title="${paused ? 'Paused: click to unpause' : 'Active: click to pause'}"></button></div>
    <div role="cell"><a class="dag-name" href="${esc(dagUrl(d.dag_id))}" data-testid="dag-link-${id}">${esc(d.dag_display_name || d.dag_id).replace(/_/g, '_<wbr>')}</a>${d.description ? `<div class="dag-desc">${esc(d.description)}</div>` : ''}${tags ? `<div>${tags}</div>` : ''}</div>
    <div role="cell" class="hide-sm">${esc((d.owners || []).join(', '))}</div>
    <div role="cell">${d.timetable_summary ? `<code title="${esc(d.timetable_description || '')}">${esc(d.timetable_summary)}</code>` : `<span class="muted" title="${esc(d.timetable_description || '')}">None</span>`}</div>
    <div role="cell" class="hide-sm" data-testid="next-run-${id}">${next ? `<time datetime="${esc(next)}" title="${esc(next)}">${esc(fmtDate(next, { seconds: false }))}</time> <span class="muted">${esc(fmtRel(next))}</span>` : '<span class="muted">—</span>'}</div>
    <div role="cell"><div class="runs-bars" data-testid="dag-runs-${id}" data-runs-for="${id}">${cached ? runsBarsHtml(d.dag_id, cached) : ''}</div></div>
  </div>`;
}

export function mount(root, route, ctx) {
  ctx.setTitle('DAGs');
  let state = readQuery(route.query);
  let dags = [];
  const runsCache = new Map();
  root.innerHTML = `
    <div class="page-head"><h1>DAGs</h1><span class="muted" data-testid="dag-count"></span><span class="spacer"></span>${legend(RUN_STATES)}</div>
    <div data-slot="errors"></div>
    <div class="toolbar">
      <input type="search" data-testid="dag-search" data-hotkey="/" placeholder="Search DAGs   ( / )" aria-label="Search DAGs by id" autocomplete="off">
      <select data-testid="tag-filter" aria-label="Filter by tag"><option value="">All tags</option></select>
      <div class="seg" role="group" aria-label="Show">
        <button type="button" data-paused="" data-testid="filter-all">All</button>
        <button type="button" data-paused="false" data-testid="filter-active">Active</button>
        <button type="button" data-paused="true" data-testid="filter-paused">Paused</button>
      </div>
    </div>
    <div class="panel tbl-wrap" data-slot="list" style="min-height:120px"><div class="dag-list" role="table" aria-label="DAGs" data-testid="dag-table">
      <div class="dl-row dl-head" role="row"><div role="columnheader"><span class="sr-only">Active</span></div><div role="columnheader">DAG</div><div role="columnheader" class="hide-sm">Owner</div><div role="columnheader">Schedule</div><div role="columnheader" class="hide-sm">Next run</div><div role="columnheader">Recent runs</div></div>
      <div role="rowgroup" class="dl-body"></div></div></div>
    <div class="pager" data-slot="pager"></div>`;
  const search = root.querySelector('[data-testid="dag-search"]');
  const tagSel = root.querySelector('[data-testid="tag-filter"]');
  const listEl = root.querySelector('[data-slot="list"]');
  const tbody = listEl.querySelector('.dl-body');
  const errorsEl = root.querySelector('[data-slot="errors"]');
  const pager = root.querySelector('[data-slot="pager"]');
  const countEl = root.querySelector('[data-testid="dag-count"]');

  const syncControls = () => {
    if (document.activeElement !== search) search.value = state.search;
    tagSel.value = state.tags[0] || '';
    root.querySelectorAll('.seg button').forEach(b => b.setAttribute('aria-pressed', String(b.dataset.paused === state.paused)));
  };
  const go = patch => ctx.navigate(toUrl({ ...state, offset: 0, ...patch }), { replace: true });

  // ---- recent runs per visible row ----
  const queue = [];
  let inflight = 0;
  const pump = () => {
    while (inflight < 4 && queue.length) {
      const id = queue.shift();
      inflight++;
      api(`/api/v2/dags/${enc(id)}/dagRuns`, { query: { limit: RECENT, order_by: '-run_after' }, signal: ctx.signal })
        .then(r => {
          runsCache.set(id, r.dag_runs || []);
          const el = tbody.querySelector(`[data-runs-for="${CSS.escape(id)}"]`);
          if (el) el.innerHTML = runsBarsHtml(id, r.dag_runs || []);
        })
        .catch(e => { if (!isAbort(e)) runsCache.delete(id); })
        .finally(() => { inflight--; pump(); });
    }
  };
  const requestRuns = id => { if (!queue.includes(id)) { queue.push(id); pump(); } };
  const visible = new Set();
  const io = new IntersectionObserver(entries => {
    for (const e of entries) {
      const id = e.target.dataset.runsFor;
      if (e.isIntersecting) { visible.add(id); if (!runsCache.has(id)) { runsCache.set(id, null); requestRuns(id); } }
      else visible.delete(id);
    }
  }, { rootMargin: '200px' });
  ctx.cleanup(() => io.disconnect());

  const renderList = () => {
    io.disconnect();
    visible.clear();
    if (!dags.length) {
      const filtered = state.search || state.tags.length || state.paused;
      tbody.innerHTML = `<div class="empty" data-testid="dags-empty">${filtered ? 'No DAGs match these filters.' : 'No DAGs yet. Save a DAG file in the DAG folder and it shows up here.'}</div>`;
    } else {
      tbody.innerHTML = dags.map(d => rowHtml(d, runsCache.get(d.dag_id))).join('');
      tbody.querySelectorAll('[data-runs-for]').forEach(el => io.observe(el));
    }
  };

  // Performance marks for the budget bench: the first list in the DOM, and the first task
  // after the frame that shows it (the page answers input from then on).
  let marked = false;
  const markInteractive = () => {
    if (marked) return;
    marked = true;
    const detail = { rows: dags.length };
    performance.mark('leoflow:dags-rendered', { detail });
    requestAnimationFrame(() => setTimeout(() => performance.mark('leoflow:dags-interactive', { detail })));
  };

  let total = 0;
  let listSeq = 0;
  const loadList = async () => {
    const seq = ++listSeq;
    const done = delayedLoading(listEl);
    try {
      // One screen holds up to PAGE DAGs, fetched in the server's pages (at most 100 each).
      const r = await apiAll('/api/v2/dags', 'dags', {
        signal: ctx.signal, offset: state.offset, max: PAGE, speculate: true,
        query: { dag_id_pattern: state.search || undefined, tags: state.tags, paused: state.paused || undefined, order_by: 'dag_id', exclude_stale: true },
      });
      if (seq !== listSeq) return;
      dags = r;
      total = r.total;
      countEl.textContent = `${total} DAG${total === 1 ? '' : 's'}`;
      renderList();
      markInteractive();
      pager.innerHTML = total > PAGE ? `<span>${state.offset + 1}–${Math.min(total, state.offset + dags.length)} of ${total}</span>
        <button type="button" class="btn btn-sm" data-off="${Math.max(0, state.offset - PAGE)}" ${state.offset ? '' : 'disabled'}>Previous</button>
        <button type="button" class="btn btn-sm" data-off="${state.offset + PAGE}" ${state.offset + PAGE < total ? '' : 'disabled'}>Next</button>` : '';
    } catch (e) {
      if (!isAbort(e) && seq === listSeq) tbody.innerHTML = errorBox(e);
    } finally { done(); }
  };

  const loadErrors = async () => {
    try {
      const r = await api('/api/v2/importErrors', { query: { limit: 100, order_by: 'filename' }, signal: ctx.signal });
      errorsEl.innerHTML = importErrorsHtml(r.import_errors || [], r.total_entries ?? 0);
    } catch (e) { if (!isAbort(e) && e.status !== 401) errorsEl.innerHTML = errorBox(e, 'import-errors-error'); }
  };

  const loadTags = async () => {
    try {
      const r = await apiAll('/api/v2/dagTags', 'tags', { signal: ctx.signal, max: 1000 });
      const tags = r.map(t => (typeof t === 'string' ? t : t.name));
      for (const t of state.tags) if (!tags.includes(t)) tags.push(t);
      tagSel.innerHTML = `<option value="">All tags</option>${tags.map(t => `<option>${esc(t)}</option>`).join('')}`;
      tagSel.value = state.tags[0] || '';
    } catch { /* the filter just stays empty */ }
  };

  // ---- interactions ----
  const onSearch = debounce(() => go({ search: search.value.trim() }), 250, 1000);
  search.addEventListener('input', onSearch);
  search.addEventListener('keydown', e => { if (e.key === 'Enter') { onSearch.cancel(); go({ search: search.value.trim() }); } });
  tagSel.addEventListener('change', () => go({ tags: tagSel.value ? [tagSel.value] : [] }));
  // root (#main) outlives this page: the listener ends with it (ctx.signal).
  root.addEventListener('click', async e => {
    const seg = e.target.closest('.seg button');
    if (seg) return go({ paused: seg.dataset.paused });
    const chip = e.target.closest('button[data-tag]');
    if (chip) return go({ tags: [chip.dataset.tag] });
    const off = e.target.closest('button[data-off]');
    if (off) return ctx.navigate(toUrl({ ...state, offset: +off.dataset.off }));
    const sw = e.target.closest('button.switch[data-dag]');
    if (sw) {
      const id = sw.dataset.dag;
      const paused = sw.dataset.paused !== 'true';
      const set = p => { sw.dataset.paused = String(p); sw.setAttribute('aria-checked', String(!p)); sw.title = p ? 'Paused: click to unpause' : 'Active: click to pause'; };
      set(paused);
      sw.disabled = true;
      try {
        const d = await api(`/api/v2/dags/${enc(id)}`, { method: 'PATCH', body: { is_paused: paused } });
        set(d && typeof d.is_paused === 'boolean' ? d.is_paused : paused);
        const row = dags.find(x => x.dag_id === id);
        if (row) row.is_paused = paused;
      } catch (ex) {
        set(!paused);
        toast(`Could not ${paused ? 'pause' : 'unpause'} ${id}: ${ex.message}`, { kind: 'error' });
      } finally { sw.disabled = false; sw.focus(); }
    }
  }, { signal: ctx.signal });

  // ---- live ----
  const reloadList = debounce(loadList, 200);
  const reloadErrors = debounce(loadErrors, 200);
  const reloadRuns = keyedDebounce(id => { if (dags.some(d => d.dag_id === id) && (visible.has(id) || runsCache.has(id))) requestRuns(id); }, 200);
  ctx.on('dag_updated', () => reloadList());
  ctx.on('dag_removed', () => reloadList());
  ctx.on('import_errors', () => reloadErrors());
  ctx.on('dag_run', d => { if (d && d.dag_id) { reloadRuns(d.dag_id); if (d.state === 'queued' || d.state === 'running') reloadList(); } });
  ctx.on('lagged', () => { reloadList(); reloadErrors(); runsCache.clear(); visible.forEach(requestRuns); });
  ctx.cleanup(() => { reloadList.cancel(); reloadErrors.cancel(); reloadRuns.cancel(); onSearch.cancel(); });

  syncControls();
  // The list first; the tag choices once it is in (they only fill the filter's options).
  loadList().then(() => { if (!ctx.signal.aborted) loadTags(); });
  loadErrors();

  return {
    update(r) {
      state = readQuery(r.query);
      syncControls();
      loadList();
      return true;
    },
  };
}
