// Graph tab: layered SVG layout of the tasks (graph.js), nodes coloured by the task instances of
// the selected run (?run_id=, default the latest). Live: task_instance events of that run
// recolour nodes in place; new runs refresh the run picker (and follow the latest unless a run
// was picked explicitly).

import { api, apiAll, isAbort } from '../api.js';
import { debounce } from '../events.js';
import { esc, enc, tiUrl, errorBox, fmtDate } from '../dom.js';
import { legend, label, norm } from '../states.js';
import { indexTis, setTi, taskCell } from '../grid.js';
import { layout, graphSvg, updateGraphStates, attachZoom } from '../graph.js';

export function mountTab(el, d) {
  const { dagId, ctx } = d;
  let pinned = d.query.get('run_id');
  let runId = pinned;
  let runs = [];
  let idx = new Map();
  let dir = localStorage.getItem('leoflow.graphDir') === 'TB' ? 'TB' : 'LR';
  let zoom = null;

  el.innerHTML = `<div class="toolbar">
      <label class="muted" for="graph-run">Run</label>
      <select id="graph-run" data-testid="graph-run-select" style="max-width:min(420px,60vw)"><option value="">No runs</option></select>
      <button type="button" class="btn btn-sm" data-testid="graph-direction" aria-label="Layout direction">${dir === 'LR' ? 'Left → right' : 'Top → bottom'}</button>
      <span class="spacer"></span>${legend()}
    </div>
    <div class="graph-box" data-testid="graph">
      <div class="graph-tools"><button type="button" class="btn btn-sm" data-z="in" data-testid="graph-zoom-in" aria-label="Zoom in">+</button><button type="button" class="btn btn-sm" data-z="out" data-testid="graph-zoom-out" aria-label="Zoom out">−</button><button type="button" class="btn btn-sm" data-z="fit" data-testid="graph-fit">Fit</button></div>
      <div class="graph-canvas" style="width:100%;height:100%"></div>
    </div>`;
  const sel = el.querySelector('#graph-run');
  const canvas = el.querySelector('.graph-canvas');

  let byId = new Map();
  const info = id => {
    const t = byId.get(id) || {};
    const parts = id.split('.');
    const cell = runId ? taskCell(idx, runId, id) : null;
    return {
      label: parts[parts.length - 1], group: parts.slice(0, -1).join('.'), sub: t.operator_name || '',
      state: cell ? cell.state : null, count: cell && cell.count, href: runId ? tiUrl(dagId, runId, id) : null,
    };
  };

  const draw = () => {
    const tasks = d.tasks || [];
    byId = new Map(tasks.map(t => [t.task_id, t]));
    if (!tasks.length) { canvas.innerHTML = '<p class="empty">This DAG has no tasks.</p>'; return; }
    const lay = layout(tasks.map(t => ({ id: t.task_id })), tasks.flatMap(t => (t.downstream_task_ids || []).map(x => ({ from: t.task_id, to: x }))), { direction: dir });
    canvas.innerHTML = graphSvg(lay, info, { direction: dir });
    if (zoom) zoom.destroy();
    zoom = attachZoom(canvas.querySelector('svg'), lay);
    zoom.fit();
  };
  const recolor = () => { const svg = canvas.querySelector('svg'); if (svg) updateGraphStates(svg, info); };

  const fillRuns = () => {
    sel.innerHTML = runs.length ? runs.map(r => `<option value="${esc(r.dag_run_id)}"${r.dag_run_id === runId ? ' selected' : ''}>${esc(fmtDate(r.run_after || r.logical_date, { seconds: false }))} · ${esc(label(norm(r.state)))} · ${esc(r.dag_run_id)}</option>`).join('') : '<option value="">No runs</option>';
  };

  const loadTis = async () => {
    if (!runId) { idx = new Map(); recolor(); return; }
    const my = runId;
    try {
      const tis = await apiAll(`/api/v2/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances`, 'task_instances', { signal: ctx.signal });
      if (my !== runId) return;
      idx = indexTis(tis);
      recolor();
    } catch (e) { if (!isAbort(e)) canvas.insertAdjacentHTML('afterbegin', errorBox(e, 'graph-error')); }
  };

  const loadRuns = async () => {
    try {
      const r = await api(`/api/v2/dags/${enc(dagId)}/dagRuns`, { query: { limit: 25, order_by: '-run_after' }, signal: ctx.signal });
      runs = r.dag_runs || [];
      const before = runId;
      if (!pinned || !runs.some(x => x.dag_run_id === pinned)) runId = runs.length ? runs[0].dag_run_id : null;
      if (pinned && !runs.some(x => x.dag_run_id === pinned)) {
        // A pinned run older than the 25 newest: fetch it so it stays selectable.
        try { runs.push(await api(`/api/v2/dags/${enc(dagId)}/dagRuns/${enc(pinned)}`, { signal: ctx.signal })); runId = pinned; } catch { pinned = null; }
      }
      fillRuns();
      if (runId !== before || !idx.size) await loadTis();
    } catch (e) { if (!isAbort(e)) canvas.innerHTML = errorBox(e, 'graph-error'); }
  };

  sel.addEventListener('change', () => {
    runId = pinned = sel.value || null;
    const q = new URLSearchParams(location.search);
    if (pinned) q.set('run_id', pinned); else q.delete('run_id');
    history.replaceState(null, '', `${location.pathname}?${q}`);
    idx = new Map();
    recolor();
    loadTis();
  });
  el.querySelector('[data-testid="graph-direction"]').addEventListener('click', e => {
    dir = dir === 'LR' ? 'TB' : 'LR';
    localStorage.setItem('leoflow.graphDir', dir);
    e.currentTarget.textContent = dir === 'LR' ? 'Left → right' : 'Top → bottom';
    draw();
  });
  el.querySelector('.graph-tools').addEventListener('click', e => {
    const b = e.target.closest('[data-z]');
    if (!b || !zoom) return;
    if (b.dataset.z === 'fit') zoom.fit(); else zoom.zoomBy(b.dataset.z === 'in' ? 1.25 : 0.8);
  });

  const recolorSoon = debounce(recolor, 100, 400);
  const reloadRuns = debounce(loadRuns, 200);
  ctx.on('task_instance', t => {
    if (!t || t.dag_id !== dagId) return;
    if (t.run_id === runId) { setTi(idx, t.run_id, t.task_id, t.map_index, t.state); recolorSoon(); }
    else if (!pinned) reloadRuns();
  });
  ctx.on('dag_run', r => { if (r && r.dag_id === dagId) reloadRuns(); });
  ctx.on('lagged', () => { reloadRuns(); loadTis(); });
  const ro = new ResizeObserver(() => zoom && zoom.fit());
  ro.observe(el.querySelector('.graph-box'));
  ctx.cleanup(() => { recolorSoon.cancel(); reloadRuns.cancel(); ro.disconnect(); zoom && zoom.destroy(); });

  draw();
  loadRuns();
  return {
    refresh: loadRuns,
    structureChanged: () => { draw(); recolor(); },
    update(q) {
      const r = q.get('run_id');
      if (r && r !== runId) { runId = pinned = r; fillRuns(); loadRuns(); }
    },
  };
}
