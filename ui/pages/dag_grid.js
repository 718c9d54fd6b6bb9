// Grid tab: the last N runs × the DAG's tasks. Data: GET dagRuns?limit=N&order_by=-run_after,
// then every task instance of those runs in one paged call on the `~` run wildcard
// (run_after_gte = oldest run shown). Live: task_instance events patch the cell model and
// re-render (debounced); dag_run events for unseen runs reload the data.

import { api, apiAll, isAbort } from '../api.js';
import { debounce } from '../events.js';
import { enc, errorBox, delayedLoading } from '../dom.js';
import { legend } from '../states.js';
import { buildGrid, gridHtml, indexTis, setTi, attachGrid, patchGrid } from '../grid.js';

const LIMITS = [10, 25, 50, 100];

export function mountTab(el, d) {
  const { dagId, ctx } = d;
  let limit = LIMITS.includes(+d.query.get('runs')) ? +d.query.get('runs') : 25;
  const storeKey = `leoflow.collapsed.${dagId}`;
  let collapsed;
  try { collapsed = new Set(JSON.parse(localStorage.getItem(storeKey) || '[]')); } catch { collapsed = new Set(); }
  let runs = [];
  let idx = new Map();
  let model = { runs: [], rows: [] };
  let first = true;

  el.innerHTML = `<div class="toolbar">
      <label class="muted" for="grid-limit">Runs</label>
      <select id="grid-limit" data-testid="grid-run-limit">${LIMITS.map(n => `<option${n === limit ? ' selected' : ''}>${n}</option>`).join('')}</select>
      <button type="button" class="btn btn-sm" data-act="expand" data-testid="grid-expand-all" hidden>Expand all</button>
      <button type="button" class="btn btn-sm" data-act="collapse" data-testid="grid-collapse-all" hidden>Collapse all</button>
      <span class="spacer"></span>${legend()}
    </div>
    <div class="grid-wrap" data-testid="grid"></div>`;
  const wrap = el.querySelector('.grid-wrap');

  const render = () => {
    if (!d.tasks) return;
    const t0 = performance.now();
    model = buildGrid({ tasks: d.tasks, runs, idx, collapsed });
    const atEnd = wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 4;
    const { scrollLeft, scrollTop } = wrap;
    const focused = wrap.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
    wrap.innerHTML = gridHtml(model, dagId) + (runs.length ? '' : '<p class="empty" data-testid="grid-empty">No runs yet: press Trigger to start one.</p>');
    if (first || atEnd) wrap.scrollLeft = wrap.scrollWidth; else wrap.scrollLeft = scrollLeft;
    wrap.scrollTop = scrollTop;
    first = false;
    if (focused) {
      const f = wrap.querySelector(`[data-testid="${CSS.escape(focused)}"]`);
      if (f) { wrap.querySelectorAll('a.c[tabindex="0"]').forEach(a => { a.tabIndex = -1; }); f.tabIndex = 0; f.focus({ preventScroll: true }); }
    }
    const hasGroups = model.rows.some(r => r.kind === 'group');
    el.querySelector('[data-act="expand"]').hidden = !hasGroups;
    el.querySelector('[data-act="collapse"]').hidden = !hasGroups;
    // For the budget bench: model + HTML + layout (scrollWidth above forced it), then up to
    // the first task after the next frame.
    const detail = { runs: runs.length, rows: model.rows.length };
    performance.measure('leoflow:grid-render', { start: t0, detail });
    requestAnimationFrame(() => setTimeout(() => performance.measure('leoflow:grid-painted', { start: t0, detail })));
  };

  let seq = 0;
  const load = async () => {
    const my = ++seq;
    const done = delayedLoading(wrap);
    try {
      const r = await api(`/api/v2/dags/${enc(dagId)}/dagRuns`, { query: { limit, order_by: '-run_after' }, signal: ctx.signal });
      const newRuns = (r.dag_runs || []).slice().reverse();
      let tis = [];
      if (newRuns.length) {
        const oldest = newRuns[0].run_after;
        tis = await apiAll(`/api/v2/dags/${enc(dagId)}/dagRuns/~/taskInstances`, 'task_instances', { query: { run_after_gte: oldest }, signal: ctx.signal, speculate: true });
        const ids = new Set(newRuns.map(x => x.dag_run_id));
        tis = tis.filter(ti => ids.has(ti.dag_run_id));
      }
      if (my !== seq) return;
      runs = newRuns;
      idx = indexTis(tis);
      render();
    } catch (e) {
      if (!isAbort(e) && my === seq) wrap.innerHTML = errorBox(e, 'grid-error');
    } finally { done(); }
  };

  const detach = attachGrid(wrap, {
    getModel: () => model,
    onToggle: g => {
      if (collapsed.has(g)) collapsed.delete(g); else collapsed.add(g);
      localStorage.setItem(storeKey, JSON.stringify([...collapsed]));
      render();
      const b = wrap.querySelector(`[data-group="${CSS.escape(g)}"]`);
      if (b) b.focus();
    },
  });
  el.querySelector('.toolbar').addEventListener('click', e => {
    const a = e.target.closest('[data-act]');
    if (!a) return;
    if (a.dataset.act === 'expand') collapsed.clear();
    else d.tasks.forEach(t => { const p = t.task_id.split('.'); for (let i = 1; i < p.length; i++) collapsed.add(p.slice(0, i).join('.')); });
    localStorage.setItem(storeKey, JSON.stringify([...collapsed]));
    render();
  });
  el.querySelector('#grid-limit').addEventListener('change', e => {
    limit = +e.target.value;
    const q = new URLSearchParams(location.search);
    q.set('runs', limit);
    history.replaceState(null, '', `${location.pathname}?${q}`);
    load();
  });

  // A task state change recolours cells in place (no new elements under the pointer).
  const patch = () => {
    if (!d.tasks) return;
    const next = buildGrid({ tasks: d.tasks, runs, idx, collapsed });
    if (patchGrid(wrap, model, next)) model = next; else render();
  };
  const rerender = debounce(patch, 120, 500);
  const reload = debounce(load, 200);
  ctx.on('task_instance', t => {
    if (!t || t.dag_id !== dagId) return;
    if (runs.some(r => r.dag_run_id === t.run_id)) { setTi(idx, t.run_id, t.task_id, t.map_index, t.state); rerender(); }
    else reload();
  });
  ctx.on('dag_run', r => {
    if (!r || r.dag_id !== dagId) return;
    // State changes of a run shown here refetch the run list (bar height = duration); new runs reload.
    reload();
  });
  ctx.on('lagged', () => reload());
  ctx.cleanup(() => { rerender.cancel(); reload.cancel(); detach(); });

  load();
  return {
    refresh: load,
    structureChanged: render,
    update(q) { const n = +q.get('runs'); if (LIMITS.includes(n) && n !== limit) { limit = n; el.querySelector('#grid-limit').value = n; load(); } },
  };
}
