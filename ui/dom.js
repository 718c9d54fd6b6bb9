// Small DOM and formatting helpers shared by every page. No state, no network.

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = v => String(v ?? '').replace(/[&<>"']/g, c => ESC[c]);

class Raw { constructor(s) { this.s = s; } toString() { return this.s; } }
/** Marks a string as already-safe HTML for `html```. */
export const raw = s => new Raw(String(s ?? ''));

function part(v) {
  if (v instanceof Raw) return v.s;
  if (Array.isArray(v)) return v.map(part).join('');
  if (v == null || v === false) return '';
  return esc(v);
}
/** Tagged template: interpolated values are escaped unless wrapped in raw(); arrays are joined. */
export function html(strings, ...vals) {
  let out = strings[0];
  for (let i = 0; i < vals.length; i++) out += part(vals[i]) + strings[i + 1];
  return new Raw(out);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** Sets innerHTML from a string or Raw. */
export function setHtml(el, h) { el.innerHTML = String(h); return el; }

// ---- URLs -----------------------------------------------------------------------------------
export const enc = encodeURIComponent;
export const dagUrl = (dagId, tab) => `/dags/${enc(dagId)}${tab ? '/' + tab : ''}`;
export const runUrl = (dagId, runId) => `/dags/${enc(dagId)}/runs/${enc(runId)}`;
export function tiUrl(dagId, runId, taskId, mapIndex, tryNumber) {
  const q = new URLSearchParams();
  if (mapIndex != null && mapIndex >= 0) q.set('map_index', mapIndex);
  if (tryNumber) q.set('try', tryNumber);
  const s = q.toString();
  return `${runUrl(dagId, runId)}/tasks/${enc(taskId)}${s ? '?' + s : ''}`;
}
/** API path for a task instance (with the map index segment when mapped). */
export function tiApi(dagId, runId, taskId, mapIndex) {
  const base = `/api/v2/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}`;
  return mapIndex != null && mapIndex >= 0 ? `${base}/${mapIndex}` : base;
}

// ---- formatting -----------------------------------------------------------------------------
const pad = n => String(n).padStart(2, '0');
/** Local date-time "2026-11-22 11:15:50" (title carries the ISO/UTC value). */
export function fmtDate(iso, { seconds = true } = {}) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? ':' + pad(d.getSeconds()) : ''}`;
}
export function timeTag(iso, opts) {
  if (!iso) return '<span class="muted">—</span>';
  return `<time datetime="${esc(iso)}" title="${esc(iso)}">${esc(fmtDate(iso, opts))}</time>`;
}
/** "in 3h", "5m ago". */
export function fmtRel(iso, now = Date.now()) {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (isNaN(t)) return '';
  const diff = (t - now) / 1000;
  const a = Math.abs(diff);
  const v = a < 60 ? `${Math.round(a)}s` : a < 3600 ? `${Math.round(a / 60)}m`
    : a < 86400 ? `${Math.round(a / 3600)}h` : `${Math.round(a / 86400)}d`;
  return diff >= 0 ? `in ${v}` : `${v} ago`;
}
/** Seconds → "0.34s", "15.8s", "2m 05s", "1h 02m". */
export function fmtDur(sec) {
  if (sec == null || isNaN(sec)) return '';
  if (sec < 10) return `${Math.round(sec * 100) / 100}s`;
  if (sec < 60) return `${Math.round(sec * 10) / 10}s`;
  const s = Math.round(sec);
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor(s % 3600 / 60))}m`;
}
/** Duration of something with start/end (still running → until now). */
export function durationOf(o) {
  if (o.duration != null) return o.duration;
  if (!o.start_date) return null;
  const end = o.end_date ? new Date(o.end_date) : new Date();
  return (end - new Date(o.start_date)) / 1000;
}
export function fmtJson(v) {
  if (typeof v === 'string') return v;
  try { return JSON.stringify(v, null, 2); } catch { return String(v); }
}

// ---- feedback -------------------------------------------------------------------------------
/** Shows `.is-loading` on el only if work takes longer than 150 ms (no flashing spinners). */
export function delayedLoading(el, ms = 150) {
  const t = setTimeout(() => el.classList.add('is-loading'), ms);
  return () => { clearTimeout(t); el.classList.remove('is-loading'); };
}

export function toast(message, { kind = 'ok', href, linkText, ms = 5000 } = {}) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = document.createElement('div');
  t.className = `toast toast-${kind}`;
  t.dataset.testid = 'toast';
  t.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  t.innerHTML = `<span>${esc(message)}</span>${href ? ` <a href="${esc(href)}">${esc(linkText || 'Open')}</a>` : ''}<button class="icon-btn" aria-label="Dismiss">×</button>`;
  t.querySelector('button').onclick = () => t.remove();
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? ms * 2 : ms);
}

export function errorBox(err, testid = 'page-error') {
  const status = err && err.status ? `${err.status} · ` : '';
  return `<div class="error-box" role="alert" data-testid="${testid}">${esc(status + (err?.message || String(err)))}</div>`;
}

/** Runs fn over items with at most n in flight. */
export async function pool(items, n, fn) {
  let i = 0;
  const worker = async () => { while (i < items.length) { const it = items[i++]; await fn(it); } };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
