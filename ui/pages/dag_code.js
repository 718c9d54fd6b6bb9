// Code tab: the DAG file of the version in view (?version=N, default latest) with line numbers
// and light Python highlighting. Live: dag_updated → versions list (and the source when
// showing the latest).

import { api, isAbort } from '../api.js';
import { debounce } from '../events.js';
import { esc, enc, errorBox, fmtDate, delayedLoading } from '../dom.js';

const KW = new Set('False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case'.split(' '));
const BUILTIN = new Set('print len range dict list set tuple str int float bool open super isinstance enumerate zip map filter sorted min max sum any all'.split(' '));
const TOKEN = /(#[^\n]*)|([rRbBuUfF]{0,2}(?:"""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?))|(@[\w.]+)|(\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|([A-Za-z_]\w*)/g;

/** Python source → HTML lines (<span class="line">…</span>), tokens in tk-* spans. */
export function highlightPython(src) {
  const parts = [];
  let last = 0;
  for (let m; (m = TOKEN.exec(src));) {
    if (m.index > last) parts.push(['', src.slice(last, m.index)]);
    let cls = '';
    if (m[1]) cls = 'c'; else if (m[2]) cls = 's'; else if (m[3]) cls = 'd'; else if (m[4]) cls = 'n';
    else if (KW.has(m[5])) cls = 'k'; else if (BUILTIN.has(m[5])) cls = 'b';
    parts.push([cls, m[0]]);
    last = TOKEN.lastIndex;
  }
  if (last < src.length) parts.push(['', src.slice(last)]);
  // Split into lines, closing and reopening spans that cross a newline.
  const lines = [''];
  for (const [cls, text] of parts) {
    const pieces = text.split('\n');
    pieces.forEach((p, i) => {
      if (i) lines.push('');
      if (p) lines[lines.length - 1] += cls ? `<span class="tk-${cls}">${esc(p)}</span>` : esc(p);
    });
  }
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map(l => `<span class="line">${l}</span>`).join('');
}

export function mountTab(el, d) {
  const { dagId, ctx } = d;
  let version = d.query.get('version') ? +d.query.get('version') : null;
  let versions = [];
  el.innerHTML = `<div class="toolbar">
      <label class="muted" for="code-version">Version</label>
      <select id="code-version" data-testid="code-version-select"><option value="">Latest</option></select>
      <span class="muted" data-slot="file"></span>
    </div>
    <div class="panel"><pre class="code" data-testid="code-view" tabindex="0" aria-label="DAG source"></pre></div>`;
  const sel = el.querySelector('select');
  const pre = el.querySelector('pre');
  el.querySelector('[data-slot="file"]').textContent = d.details.relative_fileloc || d.details.fileloc || '';

  const fillVersions = () => {
    const latest = versions.length ? versions[0].version_number : null;
    sel.innerHTML = versions.map(v => `<option value="${v.version_number}"${(version ?? latest) === v.version_number ? ' selected' : ''}>v${v.version_number} · ${esc(fmtDate(v.created_at, { seconds: false }))}${v.version_number === latest ? ' (latest)' : ''}</option>`).join('') || '<option value="">Latest</option>';
  };
  const loadVersions = async () => {
    try {
      const r = await api(`/api/v2/dags/${enc(dagId)}/dagVersions`, { query: { limit: 100, order_by: '-version_number' }, signal: ctx.signal });
      versions = (r.dag_versions || []).slice().sort((a, b) => b.version_number - a.version_number);
      fillVersions();
    } catch (e) { if (!isAbort(e)) sel.innerHTML = '<option value="">Latest</option>'; }
  };
  let seq = 0;
  const loadSource = async () => {
    const my = ++seq;
    const done = delayedLoading(pre.parentElement);
    try {
      const r = await api(`/api/v2/dagSources/${enc(dagId)}`, { query: { version_number: version ?? undefined }, signal: ctx.signal });
      if (my !== seq) return;
      const content = typeof r === 'string' ? r : r.content || '';
      pre.innerHTML = content ? highlightPython(content) : '<span class="muted">No source stored for this version.</span>';
    } catch (e) {
      if (!isAbort(e) && my === seq) pre.innerHTML = errorBox(e, 'code-error');
    } finally { done(); }
  };
  sel.addEventListener('change', () => {
    const latest = versions.length ? versions[0].version_number : null;
    version = sel.value && +sel.value !== latest ? +sel.value : null;
    const q = new URLSearchParams(location.search);
    if (version) q.set('version', version); else q.delete('version');
    const qs = q.toString();
    history.replaceState(null, '', `${location.pathname}${qs ? '?' + qs : ''}`);
    loadSource();
  });
  const reload = debounce(() => { loadVersions(); if (version == null) loadSource(); }, 200);
  ctx.cleanup(() => reload.cancel());
  loadVersions();
  loadSource();
  return {
    structureChanged: reload,
    update(q) { const v = q.get('version') ? +q.get('version') : null; if (v !== version) { version = v; fillVersions(); loadSource(); } },
  };
}
