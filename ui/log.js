// Task log viewer: parses Airflow's NDJSON/JSON log bodies, renders lines with level colours and
// collapsible ::group:: sections, appends live lines, and offers follow, wrap, search
// (highlight + next/prev) and download. parseLog()/levelOf()/recordText() are pure.

import { esc } from './dom.js';

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** Body of GET .../logs/{try} (NDJSON text, `{content: [...]}`, or plain text) → records. */
export function parseLog(body) {
  if (body == null) return [];
  if (typeof body === 'object') {
    const c = body.content ?? body;
    if (Array.isArray(c)) return c.map(toRecord);
    if (typeof c === 'string') return parseLog(c);
    return [];
  }
  const out = [];
  for (const line of String(body).split('\n')) {
    if (!line.trim()) continue;
    if (line[0] === '{') {
      try { out.push(toRecord(JSON.parse(line))); continue; } catch { /* plain line */ }
    }
    out.push(toRecord({ event: line }));
  }
  return out;
}

function toRecord(r) {
  if (typeof r === 'string') return { timestamp: null, event: r, level: '' };
  return r && typeof r === 'object' ? r : { event: String(r) };
}

/** Converts an SSE `log` line {timestamp, stream, line} to a record. */
export function fromStream(l) {
  return { timestamp: l.timestamp || null, event: l.line ?? l.event ?? '', stream: l.stream || '', level: l.level || '' };
}

/** The text shown for a record: event plus any structured exception details. */
export function recordText(r) {
  let t = r.event == null ? '' : typeof r.event === 'string' ? r.event : JSON.stringify(r.event);
  t = t.replace(ANSI, '');
  if (Array.isArray(r.error_detail)) {
    for (const ex of r.error_detail) {
      if (!ex || typeof ex !== 'object') continue;
      t += '\nTraceback (most recent call last):';
      for (const f of ex.frames || []) t += `\n  File "${f.filename}", line ${f.lineno}, in ${f.name}`;
      t += `\n${ex.exc_type || 'Error'}: ${ex.exc_value ?? ''}`;
    }
  }
  return t;
}

/** 'error' | 'warning' | 'info' | 'debug' | '' from the record's level or its text. */
export function levelOf(r, text = recordText(r)) {
  const lv = String(r.level || '').toLowerCase();
  if (lv === 'error' || lv === 'critical' || lv === 'fatal' || lv === 'exception') return 'error';
  if (lv === 'warning' || lv === 'warn') return 'warning';
  if (lv === 'debug') return 'debug';
  if (/\b(ERROR|CRITICAL|FATAL)\b|^Traceback \(most recent call last\)|^\w*(Error|Exception): /m.test(text)) return 'error';
  if (/\bWARN(ING)?\b/.test(text)) return 'warning';
  return lv === 'info' ? 'info' : lv ? lv : '';
}

/** Escaped text with every case-insensitive occurrence of `needle` (lower-case) in <mark>. */
export function highlight(text, needle) {
  const lower = text.toLowerCase();
  let out = '';
  let i = 0;
  for (let j; needle && (j = lower.indexOf(needle, i)) >= 0; i = j + needle.length) {
    out += `${esc(text.slice(i, j))}<mark>${esc(text.slice(j, j + needle.length))}</mark>`;
  }
  return out + esc(text.slice(i));
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
function shortTime(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (isNaN(d)) return '';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export class LogView {
  /** root: element to render into; opts: {filename} */
  constructor(root, { filename = 'task.log' } = {}) {
    this.root = root;
    this.filename = filename;
    this.lines = []; // {text, level, ts, el}
    this.follow = true;
    this.wrap = localStorage.getItem('leoflow.logWrap') === '1';
    this.query = '';
    this.matches = [];
    this.current = -1;
    root.innerHTML = `<div class="log-panel" data-testid="log-panel">
      <div class="log-tools" role="toolbar" aria-label="Log tools">
        <input type="search" class="log-search" placeholder="Search log" aria-label="Search log" data-testid="log-search">
        <span class="log-count muted" data-testid="log-search-count" aria-live="polite"></span>
        <button type="button" class="btn btn-sm" data-act="prev" data-testid="log-search-prev" aria-label="Previous match">↑</button>
        <button type="button" class="btn btn-sm" data-act="next" data-testid="log-search-next" aria-label="Next match">↓</button>
        <span class="spacer"></span>
        <button type="button" class="btn btn-sm" data-act="wrap" data-testid="log-wrap" aria-pressed="${this.wrap}">Wrap</button>
        <button type="button" class="btn btn-sm" data-act="follow" data-testid="log-follow" aria-pressed="true">Follow</button>
        <button type="button" class="btn btn-sm" data-act="download" data-testid="log-download">Download</button>
      </div>
      <div class="log-view${this.wrap ? ' wrap' : ''}" data-testid="log-view" tabindex="0" role="log" aria-label="Task log"></div>
    </div>`;
    this.view = root.querySelector('.log-view');
    this.countEl = root.querySelector('.log-count');
    this.searchEl = root.querySelector('.log-search');
    this.cur = this.view;
    this.stack = [];
    root.querySelector('.log-tools').addEventListener('click', e => {
      const b = e.target.closest('button[data-act]');
      if (!b) return;
      const a = b.dataset.act;
      if (a === 'prev') this.step(-1);
      else if (a === 'next') this.step(1);
      else if (a === 'wrap') this.setWrap(!this.wrap);
      else if (a === 'follow') this.setFollow(!this.follow);
      else if (a === 'download') this.download();
    });
    let t = 0;
    this.searchEl.addEventListener('input', () => { clearTimeout(t); t = setTimeout(() => this.search(this.searchEl.value), 120); });
    this.searchEl.addEventListener('keydown', e => {
      if (e.key === 'Enter') { e.preventDefault(); clearTimeout(t); if (this.searchEl.value !== this.query) this.search(this.searchEl.value); else this.step(e.shiftKey ? -1 : 1); }
      if (e.key === 'Escape' && this.searchEl.value) { e.stopPropagation(); this.searchEl.value = ''; this.search(''); }
    });
    this.view.addEventListener('click', e => {
      const h = e.target.closest('.lg-h');
      if (h) this.toggleGroup(h);
    });
    this.programmatic = false;
    this.view.addEventListener('scroll', () => {
      if (this.programmatic) { this.programmatic = false; return; }
      const atBottom = this.view.scrollHeight - this.view.scrollTop - this.view.clientHeight < 24;
      if (this.follow !== atBottom) this.setFollow(atBottom, false);
    });
  }

  toggleGroup(h, open) {
    const g = h.nextElementSibling;
    const isOpen = open ?? h.getAttribute('aria-expanded') !== 'true';
    h.setAttribute('aria-expanded', String(isOpen));
    g.hidden = !isOpen;
  }

  /** Replaces the content with records. */
  setRecords(records, { empty = 'No log lines.' } = {}) {
    this.lines = [];
    this.view.textContent = '';
    this.cur = this.view;
    this.stack = [];
    this.emptyText = empty;
    this.append(records);
    if (!records.length) this.view.innerHTML = `<p class="empty log-empty">${esc(empty)}</p>`;
  }

  /** Appends records (one fragment per call). */
  append(records) {
    if (!records.length) return;
    const emptyEl = this.view.querySelector('.log-empty');
    if (emptyEl) emptyEl.remove();
    let html = '';
    let from = this.lines.length;
    const tpl = document.createElement('template');
    const flush = () => {
      if (!html) return;
      tpl.innerHTML = html;
      let k = from;
      for (const el of tpl.content.children) this.lines[k++].el = el;
      this.cur.append(tpl.content);
      html = '';
      from = this.lines.length;
    };
    for (const r of records) {
      const text = recordText(r);
      if (text.startsWith('::group::')) {
        flush();
        const h = document.createElement('button');
        h.type = 'button';
        h.className = 'lg-h';
        h.setAttribute('aria-expanded', 'false');
        h.textContent = text.slice(9) || 'Group';
        const g = document.createElement('div');
        g.className = 'lg';
        g.hidden = true;
        this.cur.append(h, g);
        this.stack.push(this.cur);
        this.cur = g;
        continue;
      }
      if (text.startsWith('::endgroup::')) {
        flush();
        if (this.stack.length) this.cur = this.stack.pop();
        continue;
      }
      const level = levelOf(r, text);
      const i = this.lines.length;
      this.lines.push({ text, level, ts: r.timestamp || '', stream: r.stream || '', el: null, group: this.cur === this.view ? null : this.cur });
      html += `<div class="ll${level ? ' lv-' + level : ''}${r.stream === 'stderr' ? ' ls-err' : ''}" data-i="${i}"${level ? ` data-level="${level}"` : ''}><span class="lt" title="${esc(r.timestamp || '')}">${shortTime(r.timestamp)}</span><span class="lx">${esc(text)}</span></div>`;
    }
    flush();
    if (this.query) this.search(this.query, true);
    if (this.follow) this.scrollToEnd();
  }

  scrollToEnd() {
    this.programmatic = true;
    this.view.scrollTop = this.view.scrollHeight;
  }

  setFollow(on, scroll = true) {
    this.follow = on;
    this.root.querySelector('[data-act="follow"]').setAttribute('aria-pressed', String(on));
    if (on && scroll) this.scrollToEnd();
  }

  setWrap(on) {
    this.wrap = on;
    localStorage.setItem('leoflow.logWrap', on ? '1' : '0');
    this.view.classList.toggle('wrap', on);
    this.root.querySelector('[data-act="wrap"]').setAttribute('aria-pressed', String(on));
  }

  /** Highlights every match of q; keeps the current match when re-run after an append. */
  search(q, keep = false) {
    for (const m of this.matches) {
      const l = this.lines[m];
      l.el.querySelector('.lx').textContent = l.text;
      l.el.classList.remove('hit', 'hit-cur');
    }
    const prev = keep ? this.current : -1;
    this.query = q;
    this.matches = [];
    if (!q) { this.current = -1; this.countEl.textContent = ''; return; }
    const needle = q.toLowerCase();
    this.lines.forEach((l, i) => {
      if (!l.text.toLowerCase().includes(needle)) return;
      this.matches.push(i);
      l.el.classList.add('hit');
      l.el.querySelector('.lx').innerHTML = highlight(l.text, needle);
    });
    this.current = -1;
    if (keep && prev >= 0 && prev < this.matches.length) this.current = prev;
    this.updateCount();
    if (!keep && this.matches.length) this.step(1);
  }

  updateCount() {
    this.countEl.textContent = this.query ? (this.matches.length ? `${this.current + 1}/${this.matches.length}` : 'No matches') : '';
  }

  step(dir) {
    if (!this.matches.length) return;
    const old = this.matches[this.current];
    if (old != null) this.lines[old].el.classList.remove('hit-cur');
    this.current = (this.current + dir + this.matches.length) % this.matches.length;
    const l = this.lines[this.matches[this.current]];
    // Open enclosing groups.
    for (let g = l.el.parentElement; g && g !== this.view; g = g.parentElement) {
      if (g.classList.contains('lg') && g.hidden) this.toggleGroup(g.previousElementSibling, true);
    }
    l.el.classList.add('hit-cur');
    if (this.follow) this.setFollow(false);
    this.programmatic = true;
    l.el.scrollIntoView({ block: 'center' });
    this.updateCount();
  }

  text() {
    return this.lines.map(l => `${l.ts ? l.ts + ' ' : ''}${l.level ? '[' + l.level.toUpperCase() + '] ' : ''}${l.text}`).join('\n') + '\n';
  }

  download() {
    const url = URL.createObjectURL(new Blob([this.text()], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = this.filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}
