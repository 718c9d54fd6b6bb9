// The grid: runs (columns, oldest left → newest right) × tasks (rows, topological order, task
// groups from dotted ids, collapsible), cells coloured by state. The model functions are pure;
// gridHtml() builds the whole table as one string (one innerHTML pass); attachGrid() wires the
// few delegated listeners (group toggles, arrow-key navigation, tooltip) on the container.

import { summarize, norm, label } from './states.js';
import { esc, runUrl, tiUrl, fmtDate, fmtDur, durationOf } from './dom.js';

/** Task ids in topological order (ties broken by the API's order, i.e. by task id). */
export function topoOrder(tasks) {
  const ids = tasks.map(t => t.task_id);
  const pos = new Map(ids.map((id, i) => [id, i]));
  const indeg = new Map(ids.map(id => [id, 0]));
  for (const t of tasks) for (const d of t.downstream_task_ids || []) if (indeg.has(d)) indeg.set(d, indeg.get(d) + 1);
  // A small binary heap keyed by original position keeps this O(n log n).
  const heap = [];
  const push = id => { heap.push(id); let i = heap.length - 1; while (i > 0) { const p = (i - 1) >> 1; if (pos.get(heap[p]) <= pos.get(heap[i])) break; [heap[p], heap[i]] = [heap[i], heap[p]]; i = p; } };
  const pop = () => { const top = heap[0]; const last = heap.pop(); if (heap.length) { heap[0] = last; let i = 0; for (;;) { const l = 2 * i + 1, r = l + 1; let m = i; if (l < heap.length && pos.get(heap[l]) < pos.get(heap[m])) m = l; if (r < heap.length && pos.get(heap[r]) < pos.get(heap[m])) m = r; if (m === i) break; [heap[m], heap[i]] = [heap[i], heap[m]]; i = m; } } return top; };
  ids.forEach(id => { if (!indeg.get(id)) push(id); });
  const byId = new Map(tasks.map(t => [t.task_id, t]));
  const out = [];
  while (heap.length) {
    const id = pop();
    out.push(id);
    for (const d of byId.get(id).downstream_task_ids || []) {
      if (!indeg.has(d)) continue;
      indeg.set(d, indeg.get(d) - 1);
      if (!indeg.get(d)) push(d);
    }
  }
  if (out.length < ids.length) { const seen = new Set(out); ids.forEach(id => { if (!seen.has(id)) out.push(id); }); } // cycle guard
  return out;
}

/** Nests ordered task ids into groups by their dotted prefixes; a group sits where its first task does. */
export function buildTree(orderedIds, taskById = new Map()) {
  const root = { kind: 'group', id: '', children: [] };
  const groups = new Map([['', root]]);
  for (const id of orderedIds) {
    const parts = id.split('.');
    let parent = root;
    for (let i = 1; i < parts.length; i++) {
      const gid = parts.slice(0, i).join('.');
      let g = groups.get(gid);
      if (!g) { g = { kind: 'group', id: gid, label: parts[i - 1], children: [] }; groups.set(gid, g); parent.children.push(g); }
      parent = g;
    }
    const t = taskById.get(id) || {};
    parent.children.push({ kind: 'task', id, label: parts[parts.length - 1], mapped: !!t.is_mapped, display: t.task_display_name || id });
  }
  return root;
}

/** Index of task-instance states: runId → taskId → {state, mapped: Map(mapIndex → state)}. */
export function indexTis(tis) {
  const idx = new Map();
  for (const ti of tis) setTi(idx, ti.dag_run_id ?? ti.run_id, ti.task_id, ti.map_index, ti.state);
  return idx;
}
export function setTi(idx, runId, taskId, mapIndex, state) {
  let r = idx.get(runId);
  if (!r) idx.set(runId, r = new Map());
  let e = r.get(taskId);
  if (!e) r.set(taskId, e = { state: undefined, mapped: new Map() });
  if (mapIndex != null && mapIndex >= 0) e.mapped.set(mapIndex, norm(state));
  else e.state = norm(state);
}

function leafIds(node, out = []) {
  for (const c of node.children) c.kind === 'task' ? out.push(c.id) : leafIds(c, out);
  return out;
}

/** Cell of one task in one run: {state, count?, counts?} or null when no instance exists. */
export function taskCell(idx, runId, taskId) {
  const e = idx.get(runId)?.get(taskId);
  if (!e) return null;
  if (e.mapped.size) {
    const counts = {};
    for (const s of e.mapped.values()) counts[s] = (counts[s] || 0) + 1;
    return { state: summarize(e.mapped.values()), count: e.mapped.size, counts };
  }
  return e.state === undefined ? null : { state: e.state };
}

/**
 * buildGrid({tasks, runs, idx, collapsed}) → {runs, rows}
 * rows: [{kind, id, label, depth, mapped, expanded, cells: [cell|null per run]}]
 */
export function buildGrid({ tasks, runs, idx, collapsed = new Set() }) {
  const byId = new Map(tasks.map(t => [t.task_id, t]));
  const tree = buildTree(topoOrder(tasks), byId);
  const rows = [];
  const walk = (node, depth) => {
    for (const c of node.children) {
      if (c.kind === 'group') {
        const leaves = leafIds(c);
        const expanded = !collapsed.has(c.id);
        rows.push({
          kind: 'group', id: c.id, label: c.label, depth, expanded, size: leaves.length,
          cells: runs.map(r => {
            const states = [];
            for (const l of leaves) { const cell = taskCell(idx, r.dag_run_id, l); if (cell) states.push(cell.state); }
            return states.length ? { state: summarize(states) } : null;
          }),
        });
        if (expanded) walk(c, depth + 1);
      } else {
        rows.push({ kind: 'task', id: c.id, label: c.label, depth, mapped: c.mapped, cells: runs.map(r => taskCell(idx, r.dag_run_id, c.id)) });
      }
    }
  };
  walk(tree, 0);
  return { runs, rows };
}

/**
 * The whole grid as one HTML string. Plain block rows of inline-block cells (no <table>): one
 * element per cell keeps style + layout cheap, and rows off screen skip rendering
 * (content-visibility), so 50 runs × 100 tasks stays well under the frame budget.
 */
export function gridHtml(model, dagId) {
  const { runs, rows } = model;
  const maxDur = Math.max(1, ...runs.map(r => durationOf(r) || 0));
  const latest = runs.length ? runs[runs.length - 1].dag_run_id : null;
  const runHrefs = runs.map(r => esc(runUrl(dagId, r.dag_run_id)));
  const runIds = runs.map(r => esc(r.dag_run_id));
  const tiBase = runs.map(r => esc(runUrl(dagId, r.dag_run_id)) + '/tasks/');
  let h = `<div class="grid" aria-label="Task instances: one row per task, one column per run (newest right)" style="--runs:${runs.length}"><div class="gh"><div class="tn corner">Task</div>`;
  runs.forEach((r, j) => {
    const s = norm(r.state);
    const px = 6 + Math.round(38 * Math.min(1, (durationOf(r) || 0) / maxDur));
    h += `<a class="rb s-${s}" href="${runHrefs[j]}" data-testid="grid-run-${runIds[j]}" data-state="${s}" data-col="${j}" style="height:${px}px" aria-label="Run ${runIds[j]}: ${label(s)}"></a>`;
  });
  h += '</div><div class="gb">';
  let first = true;
  rows.forEach((row, i) => {
    const tid = esc(row.id);
    const enc = encodeURIComponent(row.id);
    h += `<div class="gr${row.kind === 'group' ? ' gg' : ''}" data-row="${i}"><div class="tn" style="--d:${row.depth}">`;
    if (row.kind === 'group') {
      h += `<button type="button" class="gt" aria-expanded="${row.expanded}" data-group="${tid}" data-testid="grid-group-${tid}" title="${tid} (${row.size} tasks)"><span class="chev" aria-hidden="true"></span>${esc(row.label)}</button>`;
    } else if (latest) {
      h += `<a href="${esc(tiUrl(dagId, latest, row.id))}" title="${tid}" data-testid="grid-task-${tid}">${esc(row.label)}${row.mapped ? ' <span class="muted">[ ]</span>' : ''}</a>`;
    } else {
      h += `<span title="${tid}" data-testid="grid-task-${tid}">${esc(row.label)}${row.mapped ? ' <span class="muted">[ ]</span>' : ''}</span>`;
    }
    h += '</div>';
    const cells = row.cells;
    for (let j = 0; j < cells.length; j++) {
      const c = cells[j];
      const s = c ? c.state : 'none';
      const href = row.kind === 'group' ? runHrefs[j] : tiBase[j] + enc;
      h += `<a class="c s-${s}${c ? '' : ' c-empty'}" href="${href}" data-testid="grid-cell-${runIds[j]}-${tid}" data-state="${s}" tabindex="${first ? '0' : '-1'}"${c && c.count ? ` data-count="${c.count}">${c.count}</a>` : '></a>'}`;
      first = false;
    }
    h += '</div>';
  });
  h += '</div></div>';
  if (!rows.length) h += '<p class="empty">This DAG has no tasks.</p>';
  return h;
}

/**
 * Updates the cells of a rendered grid in place from `prev` to `next` when both have the same
 * runs and rows (a live state change); returns false when the structure differs and the grid
 * must be rendered again. Elements stay put, so a click in progress is not lost.
 */
export function patchGrid(root, prev, next) {
  const same = (a, b, key) => a.length === b.length && a.every((x, i) => key(x) === key(b[i]));
  if (!same(prev.runs, next.runs, r => `${r.dag_run_id} ${r.state}`) || !same(prev.rows, next.rows, r => `${r.kind} ${r.id} ${r.expanded}`)) return false;
  const rowEls = root.querySelectorAll('.gb > .gr');
  if (rowEls.length !== next.rows.length) return false;
  next.rows.forEach((row, i) => {
    const old = prev.rows[i].cells;
    row.cells.forEach((c, j) => {
      const o = old[j];
      if ((o && o.state) === (c && c.state) && (o && o.count) === (c && c.count)) return;
      const el = rowEls[i].children[j + 1];
      if (!el) return;
      const st = c ? c.state : 'none';
      el.className = `c s-${st}${c ? '' : ' c-empty'}`;
      el.dataset.state = st;
      if (c && c.count) { el.dataset.count = c.count; el.textContent = c.count; } else { delete el.dataset.count; el.textContent = ''; }
      el.removeAttribute('aria-label');
    });
  });
  return true;
}

/** Tooltip text for the cell at (row i, col j). */
export function cellTip(model, i, j) {
  const row = model.rows[i];
  const run = model.runs[j];
  if (!row || !run) return '';
  const c = row.cells[j];
  let t = `${row.id}\n${run.dag_run_id}\n${c ? label(c.state) : 'No task instance'}`;
  if (c && c.counts) t += '\n' + Object.entries(c.counts).map(([s, n]) => `${n} ${label(s).toLowerCase()}`).join(', ') + ` (${c.count} mapped)`;
  return t;
}
export function runTip(run) {
  return `${run.dag_run_id}\n${label(run.state)} · ${run.run_type || ''}\n${fmtDate(run.run_after || run.logical_date)}${durationOf(run) != null ? ' · ' + fmtDur(durationOf(run)) : ''}`;
}

const indexIn = (parent, child) => Array.prototype.indexOf.call(parent.children, child);

/** Delegated listeners on the grid container. getModel() returns the model currently shown. */
export function attachGrid(container, { getModel, onToggle }) {
  const tip = document.createElement('div');
  tip.className = 'tip';
  tip.hidden = true;
  tip.setAttribute('role', 'tooltip');
  document.body.append(tip);
  const showTip = (el, text) => {
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    const r = el.getBoundingClientRect();
    const w = tip.offsetWidth;
    tip.style.left = `${Math.max(4, Math.min(window.innerWidth - w - 4, r.left + r.width / 2 - w / 2))}px`;
    tip.style.top = `${r.bottom + 6 + tip.offsetHeight > window.innerHeight ? r.top - tip.offsetHeight - 6 : r.bottom + 6}px`;
  };
  const tipFor = el => {
    const m = getModel();
    if (el.classList.contains('rb')) return runTip(m.runs[+el.dataset.col]);
    const row = el.parentElement;
    return cellTip(m, +row.dataset.row, indexIn(row, el) - 1);
  };
  const over = e => {
    const el = e.target.closest('a.c, a.rb');
    if (el && container.contains(el)) {
      const text = tipFor(el);
      showTip(el, text);
      if (e.type === 'focusin' && !el.hasAttribute('aria-label')) el.setAttribute('aria-label', text.replace(/\n/g, ', '));
    } else tip.hidden = true;
  };
  const leave = () => { tip.hidden = true; };
  const click = e => {
    const g = e.target.closest('button[data-group]');
    if (g) onToggle(g.dataset.group);
  };
  const key = e => {
    const a = e.target.closest('a.c');
    if (!a) return;
    const row = a.parentElement;
    const col = indexIn(row, a);
    const cellAt = (r, c) => (r && c >= 1 && r.children[c] && r.children[c].matches('a.c') ? r.children[c] : null);
    let next = null;
    switch (e.key) {
      case 'ArrowRight': next = cellAt(row, col + 1); break;
      case 'ArrowLeft': next = cellAt(row, col - 1); break;
      case 'ArrowDown': next = cellAt(row.nextElementSibling, col); break;
      case 'ArrowUp': next = cellAt(row.previousElementSibling, col); break;
      case 'Home': next = cellAt(row, 1); break;
      case 'End': next = cellAt(row, row.children.length - 1); break;
      default: return;
    }
    e.preventDefault();
    if (next) { a.tabIndex = -1; next.tabIndex = 0; next.focus(); }
  };
  container.addEventListener('mouseover', over);
  container.addEventListener('mouseleave', leave);
  container.addEventListener('focusin', over);
  container.addEventListener('focusout', leave);
  container.addEventListener('click', click);
  container.addEventListener('keydown', key);
  return () => { tip.remove(); };
}
