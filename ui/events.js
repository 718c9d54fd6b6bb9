// Live updates: one EventSource on /ui/events shared by every page, reconnecting with backoff,
// plus debounce helpers so a burst of events costs one refetch.
// After a reconnect a synthetic `lagged` event is dispatched: events may have been missed.

export const EVENT_TYPES = ['dag_updated', 'dag_removed', 'import_errors', 'dag_run', 'task_instance', 'log', 'lagged'];

const listeners = new Map(); // type → Set<fn>
let source = null;
let retryMs = 1000;
let retryTimer = 0;
let droppedOnce = false;
let status = 'idle';
const statusFns = new Set();

function setStatus(s) {
  status = s;
  statusFns.forEach(fn => fn(s));
}
export function onStatus(fn) { statusFns.add(fn); fn(status); return () => statusFns.delete(fn); }

function dispatch(type, data) {
  const set = listeners.get(type);
  if (set) [...set].forEach(fn => { try { fn(data); } catch (e) { setTimeout(() => { throw e; }); } });
}

function connect() {
  clearTimeout(retryTimer);
  if (source) source.close();
  setStatus('connecting');
  const es = new EventSource('/ui/events', { withCredentials: true });
  source = es;
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, e => {
      let data = {};
      try { data = e.data ? JSON.parse(e.data) : {}; } catch { return; }
      dispatch(type, data);
    });
  }
  es.onopen = () => {
    retryMs = 1000;
    setStatus('live');
    if (droppedOnce) dispatch('lagged', { reconnected: true });
  };
  es.onerror = () => {
    if (source !== es) return;
    es.close();
    source = null;
    droppedOnce = true;
    setStatus('reconnecting');
    const wait = retryMs + Math.random() * 500;
    retryMs = Math.min(retryMs * 2, 30000);
    retryTimer = setTimeout(connect, wait);
  };
}

/** Starts the stream (idempotent). */
export function start() { if (!source && !retryTimer) connect(); }

export function stop() {
  clearTimeout(retryTimer);
  retryTimer = 0;
  if (source) source.close();
  source = null;
  setStatus('idle');
}

// A page kept in the back/forward cache would keep its stream open: a few of them exhaust the
// browser's six connections per host and the next page's requests stall. Close the stream when
// the page is hidden; reopen it (and announce `lagged`) when a cached page comes back.
let resumeOnShow = false;
if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => {
    if (!source && !retryTimer) return;
    stop();
    droppedOnce = true;
    resumeOnShow = true;
  });
  window.addEventListener('pageshow', () => {
    if (resumeOnShow) { resumeOnShow = false; start(); }
  });
}

/** Subscribes fn to events of `type`; returns the unsubscribe function. */
export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  start();
  return () => listeners.get(type)?.delete(fn);
}

/** Test hook: feed an event as if it came from the server. */
export function emit(type, data) { dispatch(type, data); }

/**
 * Trailing debounce: runs fn once `ms` after the last call, but at least every `maxWait` ms
 * during a continuous stream. `.cancel()` drops a pending call.
 */
export function debounce(fn, ms = 150, maxWait = 1000) {
  let timer = 0;
  let first = 0;
  let args = [];
  const run = () => { timer = 0; first = 0; fn(...args); };
  const d = (...a) => {
    args = a;
    const now = Date.now();
    if (!first) first = now;
    clearTimeout(timer);
    timer = setTimeout(run, Math.max(0, Math.min(ms, first + maxWait - now)));
  };
  d.cancel = () => { clearTimeout(timer); timer = 0; first = 0; };
  return d;
}

/** Debounce per key (e.g. one refetch per dag_id per burst). */
export function keyedDebounce(fn, ms = 150) {
  const map = new Map();
  const d = key => {
    if (!map.has(key)) map.set(key, debounce(() => { map.delete(key); fn(key); }, ms));
    map.get(key)();
  };
  d.cancel = () => { map.forEach(x => x.cancel()); map.clear(); };
  return d;
}
