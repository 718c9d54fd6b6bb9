// Fetch wrapper for the Airflow-compatible API: bearer token from the `_token` cookie, JSON in
// and out, 401 → sign-in page, and Airflow's `{"detail": ...}` turned into a readable message.

const COOKIE = '_token';

export class ApiError extends Error {
  constructor(status, detail, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

export function getToken() {
  const m = document.cookie.match(/(?:^|;\s*)_token=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}
export function setToken(token) {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${COOKIE}=${encodeURIComponent(token)}; path=/; SameSite=Lax${secure}`;
}
export function clearToken() {
  document.cookie = `${COOKIE}=; path=/; max-age=0; SameSite=Lax`;
}

/** Human text for Airflow's `detail`: a string, FastAPI's 422 list, or an object. */
export function formatDetail(detail) {
  if (detail == null) return '';
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail.map(d => {
      if (typeof d !== 'object' || !d) return String(d);
      const loc = Array.isArray(d.loc) ? d.loc.filter(x => x !== 'body').join('.') : '';
      return (loc ? loc + ': ' : '') + (d.msg || JSON.stringify(d));
    }).join('; ');
  }
  if (typeof detail === 'object') {
    return detail.message || detail.reason || detail.msg || JSON.stringify(detail);
  }
  return String(detail);
}

function buildUrl(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v == null || v === '') continue;
    if (Array.isArray(v)) v.forEach(x => q.append(k, x));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

let redirecting = false;
function unauthorized() {
  if (redirecting || location.pathname === '/login') return;
  redirecting = true;
  setTimeout(() => { redirecting = false; }, 1000);
  window.dispatchEvent(new CustomEvent('leoflow:unauthorized'));
}

/**
 * api(path, {method, query, body, accept, signal, raw, auth}) → parsed JSON (or text, or the
 * Response when raw). Throws ApiError with `.status`, `.detail` and a readable `.message`.
 */
export async function api(path, opts = {}) {
  const { method = 'GET', query, body, accept = 'application/json', signal, raw = false, auth = true } = opts;
  const headers = { Accept: accept };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(buildUrl(path, query), {
      method, headers, signal, credentials: 'same-origin',
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, `Cannot reach the server (${e.message})`);
  }
  if (res.status === 401 && auth) {
    unauthorized();
    throw new ApiError(401, null, 'Not signed in');
  }
  if (!res.ok) {
    let detail = null;
    try {
      const text = await res.text();
      try { detail = JSON.parse(text).detail ?? text; } catch { detail = text; }
    } catch { /* body unreadable */ }
    throw new ApiError(res.status, detail, formatDetail(detail) || `${res.status} ${res.statusText}`);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const ct = res.headers.get('content-type') || '';
  if (ct.includes('json') && !ct.includes('ndjson')) return res.json();
  return res.text();
}

/** Airflow's default cap on `limit` (`maximum_page_limit`), which Lite keeps. */
const SERVER_PAGE = 100;

/**
 * Fetches the items `offset` … `offset + max` of a list endpoint (`limit`/`offset`,
 * `total_entries`). The first answer tells the server's page size and the total; the rest is
 * fetched four pages at a time and joined in order. With `speculate` (lists that are often
 * long), the second page of the usual size goes out with the first: one round trip saved, and
 * a wrong guess costs one small request. The array's `total` is the server's `total_entries`.
 */
export async function apiAll(path, key, { query = {}, signal, offset = 0, max = 20000, speculate = false } = {}) {
  const get = (o, limit) => api(path, { query: { ...query, limit, offset: o }, signal });
  const guess = speculate && max > SERVER_PAGE ? get(offset + SERVER_PAGE, SERVER_PAGE).catch(() => null) : null;
  const first = await get(offset, Math.min(1000, max));
  const out = [...(first[key] || [])];
  out.total = first.total_entries ?? out.length;
  const step = out.length;
  const end = Math.min(out.total, offset + max);
  if (!step || offset + step >= end) return out;
  const offsets = [];
  for (let o = offset + step; o < end; o += step) offsets.push(o);
  const pages = new Array(offsets.length);
  if (step === SERVER_PAGE && guess) {
    const g = await guess;
    if (g) pages[0] = (g[key] || []).slice(0, end - offsets[0]);
  }
  let next = pages[0] ? 1 : 0;
  const worker = async () => {
    while (next < offsets.length) {
      const i = next++;
      const o = offsets[i];
      pages[i] = (await get(o, Math.min(step, end - o)))[key] || [];
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, offsets.length) }, worker));
  for (const p of pages) out.push(...p);
  return out;
}

export const isAbort = e => e && e.name === 'AbortError';
