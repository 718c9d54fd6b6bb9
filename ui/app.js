// App shell and router: History-API routes → page modules (loaded on demand), link
// interception, header (theme toggle, live indicator, health, sign-out), `/` to focus search,
// and a visible overlay for uncaught errors.
//
// A page module exports mount(root, route, ctx) → {update?(route) → bool, destroy?()}.
// ctx: {signal, on(type, fn), navigate, setTitle, cleanup(fn)}; everything registered through
// ctx is released when the page goes away.

import { api, clearToken, getToken, ApiError } from './api.js';
import * as events from './events.js';
import { $, esc } from './dom.js';

const PAGES = {
  login: () => import('./pages/login.js'),
  dags: () => import('./pages/dags.js'),
  dag: () => import('./pages/dag.js'),
  run: () => import('./pages/run.js'),
  task: () => import('./pages/task.js'),
  admin: () => import('./pages/admin.js'),
};

const ROUTES = [
  ['login', /^\/login\/?$/, []],
  ['dags', /^\/(?:dags\/?)?$/, []],
  ['admin', /^\/admin\/(variables|connections|pools|audit)\/?$/, ['section']],
  ['task', /^\/dags\/([^/]+)\/runs\/([^/]+)\/tasks\/([^/]+)\/?$/, ['dagId', 'runId', 'taskId']],
  ['run', /^\/dags\/([^/]+)\/runs\/([^/]+)\/?$/, ['dagId', 'runId']],
  ['dag', /^\/dags\/([^/]+)(?:\/(grid|graph|code|runs|versions|details))?\/?$/, ['dagId', 'tab']],
];

const safeDecode = s => { try { return decodeURIComponent(s); } catch { return s; } };

/** pathname → {name, params} (name 'notfound' when nothing matches). */
export function match(pathname) {
  for (const [name, re, keys] of ROUTES) {
    const m = re.exec(pathname);
    if (m) return { name, params: Object.fromEntries(keys.map((k, i) => [k, m[i + 1] == null ? undefined : safeDecode(m[i + 1])])) };
  }
  return { name: 'notfound', params: {} };
}

let current = null;
let navSeq = 0;

export function navigate(url, { replace = false } = {}) {
  if (url === location.pathname + location.search && !replace) return render();
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  return render();
}

function makeCtx() {
  const ctl = new AbortController();
  const fns = [];
  return {
    signal: ctl.signal,
    on(type, fn) { fns.push(events.on(type, fn)); },
    cleanup(fn) { fns.push(fn); },
    navigate,
    setTitle(t) { document.title = t ? `${t} · Leoflow` : 'Leoflow Lite'; },
    _destroy() { ctl.abort(); fns.forEach(f => { try { f(); } catch { /* ignore */ } }); },
  };
}

function updateNav(name, params) {
  const key = name === 'admin' ? params.section : ['dags', 'dag', 'run', 'task'].includes(name) ? 'dags' : '';
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.nav === key) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.body.classList.toggle('bare', name === 'login');
  $('#logout').hidden = !getToken();
}

async function render() {
  const seq = ++navSeq;
  const r = match(location.pathname);
  const route = { ...r, query: new URLSearchParams(location.search), path: location.pathname + location.search };
  updateNav(r.name, r.params);
  if (current && current.name === r.name && current.inst.update && current.inst.update(route)) return;
  const main = $('#main');
  if (r.name === 'notfound') {
    teardown();
    main.innerHTML = `<div class="empty" data-testid="not-found"><h1>Page not found</h1><p>Nothing lives at <code>${esc(location.pathname)}</code>.</p><p><a href="/dags">Go to DAGs</a></p></div>`;
    document.title = 'Not found · Leoflow';
    return;
  }
  let mod;
  try {
    mod = await PAGES[r.name]();
  } catch (e) {
    showError(e);
    return;
  }
  if (seq !== navSeq) return;
  teardown();
  const ctx = makeCtx();
  main.textContent = '';
  main.dataset.page = r.name;
  current = { name: r.name, ctx, inst: mod.mount(main, route, ctx) || {} };
}

function teardown() {
  if (!current) return;
  current.ctx._destroy();
  try { current.inst.destroy && current.inst.destroy(); } catch (e) { showError(e); }
  current = null;
}

// ---- link interception ----------------------------------------------------------------------
document.addEventListener('click', e => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.getAttribute('href'), location.href);
  if (url.origin !== location.origin || /^\/(api|auth|static|ui\/events)(\/|$)/.test(url.pathname)) return;
  e.preventDefault();
  const samePage = url.pathname === location.pathname && url.search === location.search;
  navigate(url.pathname + url.search, { replace: samePage });
  if (!samePage && !url.hash) window.scrollTo(0, 0);
});
window.addEventListener('popstate', () => render());

// ---- keyboard: "/" focuses the page's search box --------------------------------------------
document.addEventListener('keydown', e => {
  if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t.closest && t.closest('input, textarea, select, [contenteditable=true], dialog')) return;
  const s = document.querySelector('[data-hotkey="/"]');
  if (s) { e.preventDefault(); s.focus(); s.select && s.select(); }
});

// ---- auth -----------------------------------------------------------------------------------
window.addEventListener('leoflow:unauthorized', () => {
  if (location.pathname === '/login') return;
  events.stop();
  navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
});

$('#logout').addEventListener('click', async () => {
  try { await fetch('/api/v2/auth/logout', { redirect: 'manual', credentials: 'same-origin', headers: { Authorization: `Bearer ${getToken()}` } }); } catch { /* signing out anyway */ }
  clearToken();
  events.stop();
  navigate('/login', { replace: true });
});

// ---- theme ----------------------------------------------------------------------------------
const themeBtn = $('#theme-toggle');
const themeLabel = () => themeBtn.setAttribute('aria-label', document.documentElement.dataset.theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
themeBtn.addEventListener('click', () => {
  window.__leoflowTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
  themeLabel();
});
themeLabel();

// ---- live indicator, health, version --------------------------------------------------------
const live = $('[data-testid="live-indicator"]');
events.onStatus(s => {
  live.dataset.state = s;
  live.title = { live: 'Live updates: connected', connecting: 'Live updates: connecting…', reconnecting: 'Live updates: reconnecting…', idle: 'Live updates: off' }[s] || s;
});

async function checkHealth() {
  if (location.pathname === '/login') return;
  const el = $('[data-testid="health"]');
  try {
    const h = await api('/api/v2/monitor/health');
    const bad = Object.entries(h || {}).filter(([, v]) => v && typeof v === 'object' && v.status && v.status !== 'healthy').map(([k]) => k.replace(/_/g, ' '));
    el.hidden = !bad.length;
    el.textContent = bad.length ? `${bad.join(', ')} unhealthy` : '';
  } catch { /* the page shows its own errors */ }
}
events.on('lagged', checkHealth);

async function showVersion() {
  try {
    const v = await api('/api/v2/version', { auth: false });
    $('[data-testid="env-badge"]').title = `Leoflow Lite (local development) · Airflow API ${v.version}${v.git_version ? ' · ' + v.git_version : ''}`;
  } catch { /* optional */ }
}

// ---- errors ---------------------------------------------------------------------------------
function showError(err) {
  if (!err || err.name === 'AbortError' || (err instanceof ApiError && err.status === 401)) return;
  let box = document.querySelector('[data-testid="error-overlay"]');
  if (!box) {
    box = document.createElement('div');
    box.className = 'error-overlay';
    box.dataset.testid = 'error-overlay';
    box.setAttribute('role', 'alert');
    box.title = 'Click to dismiss';
    box.onclick = () => box.remove();
    document.body.append(box);
  }
  box.textContent = `Unexpected error: ${err.message || err}${err.stack ? '\n' + String(err.stack).split('\n').slice(1, 4).join('\n') : ''}`;
}
window.addEventListener('error', e => showError(e.error || e.message));
window.addEventListener('unhandledrejection', e => showError(e.reason));

// ---- boot -----------------------------------------------------------------------------------
if (location.pathname === '/admin' || location.pathname === '/admin/') history.replaceState(null, '', '/admin/variables');
render();
// The badge tooltip and the health pill can wait: over HTTP/1.1 (six connections a host, one
// held by the event stream) they would queue the page's own first requests.
setTimeout(() => { showVersion(); checkHealth(); }, 600);
