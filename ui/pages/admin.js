// /admin/variables, /admin/connections, /admin/pools (list + create/edit/delete) and
// /admin/audit (event log, read-only). Connection passwords are never shown: the edit form
// leaves the field empty and an empty password is not sent (update_mask leaves it unchanged).

import { api, isAbort } from '../api.js';
import { debounce } from '../events.js';
import { esc, enc, timeTag, errorBox, delayedLoading, toast, dagUrl, runUrl } from '../dom.js';
import { openDialog, confirmAction } from '../dialog.js';

const PAGE = 50;
const clip = (s, n = 80) => { s = s == null ? '' : String(s); return s.length > n ? s.slice(0, n - 1) + '…' : s; };
const muted = s => `<span class="muted">${s}</span>`;

const SECTIONS = {
  variables: {
    title: 'Variables', noun: 'variable', path: '/api/v2/variables', list: 'variables', id: 'key', search: 'variable_key_pattern', order: 'key',
    head: ['Key', 'Value', 'Description'],
    narrow: [2],
    cells: v => [`<code>${esc(v.key)}</code>`, `<span class="mono" title="${esc(clip(v.value, 2000))}">${esc(clip(v.value))}</span>`, esc(v.description || '')],
    fields: [
      { name: 'key', label: 'Key', required: true, fixed: true },
      { name: 'value', label: 'Value', type: 'textarea', required: true, mono: true },
      { name: 'description', label: 'Description', type: 'textarea' },
    ],
  },
  connections: {
    title: 'Connections', noun: 'connection', path: '/api/v2/connections', list: 'connections', id: 'connection_id', search: 'connection_id_pattern', order: 'connection_id',
    head: ['Connection ID', 'Type', 'Host', 'Login', 'Port', 'Description'],
    narrow: [3, 4, 5],
    cells: c => [`<code>${esc(c.connection_id)}</code>`, esc(c.conn_type || ''), esc(c.host || ''), esc(c.login || ''), esc(c.port ?? ''), esc(c.description || '')],
    fields: [
      { name: 'connection_id', label: 'Connection ID', required: true, fixed: true },
      { name: 'conn_type', label: 'Connection type', required: true, placeholder: 'http, postgres, aws, …' },
      { name: 'description', label: 'Description', type: 'textarea' },
      { name: 'host', label: 'Host' },
      { name: 'schema', label: 'Schema' },
      { name: 'login', label: 'Login', autocomplete: 'off' },
      { name: 'password', label: 'Password', type: 'password', secret: true },
      { name: 'port', label: 'Port', type: 'number', min: 0, max: 65535 },
      { name: 'extra', label: 'Extra (JSON)', type: 'textarea', mono: true, json: true },
    ],
  },
  pools: {
    title: 'Pools', noun: 'pool', path: '/api/v2/pools', list: 'pools', id: 'name', search: 'pool_name_pattern', order: 'name',
    head: ['Pool', 'Slots', 'Running', 'Queued', 'Open', 'Description'],
    numeric: [1, 2, 3, 4],
    narrow: [3, 5],
    cells: p => [`<code>${esc(p.name)}</code>`, esc(p.slots), esc(p.running_slots ?? ''), esc(p.queued_slots ?? ''), esc(p.open_slots ?? ''), esc(p.description || '')],
    undeletable: p => p.name === 'default_pool',
    fields: [
      { name: 'name', label: 'Name', required: true, fixed: true },
      { name: 'slots', label: 'Slots', type: 'number', required: true, min: -1, help: '-1 means unlimited.' },
      { name: 'description', label: 'Description', type: 'textarea' },
      { name: 'include_deferred', label: 'Deferred tasks take a slot', type: 'checkbox' },
    ],
  },
};

function fieldHtml(f, value, editing) {
  const id = `f-${f.name}`;
  const attrs = `id="${id}" name="${f.name}" data-testid="field-${f.name}"${f.required ? ' required aria-required="true"' : ''}${f.fixed && editing ? ' readonly' : ''} aria-describedby="${id}-e"`;
  let input;
  if (f.type === 'checkbox') {
    return `<div class="field field-check"><label class="check"><input type="checkbox" ${attrs}${value ? ' checked' : ''}> ${esc(f.label)}</label><small class="field-error" id="${id}-e"></small></div>`;
  }
  if (f.type === 'textarea') input = `<textarea ${attrs} rows="3"${f.mono ? ' class="mono" spellcheck="false"' : ''}>${esc(value ?? '')}</textarea>`;
  else if (f.type === 'password') input = `<input type="password" ${attrs} autocomplete="new-password" placeholder="${editing ? 'Unchanged' : ''}" value="">`;
  else input = `<input type="${f.type === 'number' ? 'number' : 'text'}" ${attrs} value="${esc(value ?? '')}"${f.min != null ? ` min="${f.min}"` : ''}${f.max != null ? ` max="${f.max}"` : ''}${f.placeholder ? ` placeholder="${esc(f.placeholder)}"` : ''} autocomplete="off">`;
  return `<div class="field"><label for="${id}">${esc(f.label)}${f.required ? ' <span class="req" aria-hidden="true">*</span>' : ''}</label>${input}${f.help ? `<small class="help">${esc(f.help)}</small>` : ''}<small class="field-error" id="${id}-e" role="alert"></small></div>`;
}

/** Reads + validates the form → {body, errors} */
function readForm(form, fields, editing) {
  const body = {};
  let firstInvalid = null;
  for (const f of fields) {
    const el = form.elements[f.name];
    const errEl = form.querySelector(`#f-${f.name}-e`);
    let err = '';
    let v;
    if (f.type === 'checkbox') v = el.checked;
    else if (f.type === 'number') {
      const raw = el.value.trim();
      v = raw === '' ? null : Number(raw);
      if (raw !== '' && !Number.isInteger(v)) err = 'Enter a whole number';
      else if (v != null && f.min != null && v < f.min) err = `Must be ≥ ${f.min}`;
      else if (v != null && f.max != null && v > f.max) err = `Must be ≤ ${f.max}`;
    } else {
      v = el.value;
      if (f.type !== 'textarea' || f.json) v = v.trim();
      if (f.json && v) { try { JSON.parse(v); } catch (e) { err = `Invalid JSON: ${e.message}`; } }
      if (v === '' && !f.required) v = null;
    }
    if (f.required && (v == null || v === '')) err = 'Required';
    if (f.secret && editing && !v) continue; // keep the stored password
    if (err) el.setAttribute('aria-invalid', 'true'); else el.removeAttribute('aria-invalid');
    if (errEl) errEl.textContent = err;
    if (err && !firstInvalid) firstInvalid = el;
    body[f.name] = v;
  }
  return { body, firstInvalid };
}

function crud(root, cfg, ctx, section) {
  let search = '';
  let offset = 0;
  let items = [];
  root.innerHTML = `<div class="page-head"><h1>${cfg.title}</h1><span class="muted" data-testid="admin-count"></span><span class="spacer"></span>
      <button type="button" class="btn btn-primary" data-testid="add-button">Add ${cfg.noun}</button></div>
    <div class="toolbar"><input type="search" data-hotkey="/" data-testid="admin-search" placeholder="Search   ( / )" aria-label="Search ${cfg.title.toLowerCase()}" autocomplete="off"></div>
    <div class="panel tbl-wrap"><table class="tbl" data-testid="${section}-table"><thead><tr>${cfg.head.map((h, i) => `<th class="${(cfg.numeric || []).includes(i) ? 'num' : ''}${(cfg.narrow || []).includes(i) ? ' hide-sm' : ''}">${h}</th>`).join('')}<th><span class="sr-only">Actions</span></th></tr></thead><tbody></tbody></table></div>
    <div class="pager"></div>`;
  const tbody = root.querySelector('tbody');
  const pager = root.querySelector('.pager');
  let seq = 0;
  const load = async () => {
    const my = ++seq;
    const done = delayedLoading(root.querySelector('.panel'));
    try {
      const r = await api(cfg.path, { query: { limit: PAGE, offset, order_by: cfg.order, [cfg.search]: search || undefined }, signal: ctx.signal });
      if (my !== seq) return;
      items = r[cfg.list] || [];
      const total = r.total_entries ?? items.length;
      root.querySelector('[data-testid="admin-count"]').textContent = `${total}`;
      tbody.innerHTML = items.map((it, i) => {
        const id = esc(it[cfg.id]);
        return `<tr data-testid="${cfg.noun}-row-${id}">${cfg.cells(it).map((c, j) => `<td class="${(cfg.numeric || []).includes(j) ? 'num' : 'clip'}${(cfg.narrow || []).includes(j) ? ' hide-sm' : ''}">${c}</td>`).join('')}
          <td class="actions"><button type="button" class="btn btn-sm" data-edit="${i}" data-testid="edit-${id}">Edit</button>
          <button type="button" class="btn btn-sm" data-del="${i}" data-testid="delete-${id}"${cfg.undeletable && cfg.undeletable(it) ? ' disabled title="The default pool cannot be deleted"' : ''}>Delete</button></td></tr>`;
      }).join('') || `<tr><td colspan="${cfg.head.length + 1}"><div class="empty">No ${cfg.title.toLowerCase()}${search ? ' match' : ' yet'}.</div></td></tr>`;
      pager.innerHTML = total > PAGE ? `<span>${offset + 1}–${offset + items.length} of ${total}</span>
        <button type="button" class="btn btn-sm" data-off="${Math.max(0, offset - PAGE)}"${offset ? '' : ' disabled'}>Previous</button>
        <button type="button" class="btn btn-sm" data-off="${offset + PAGE}"${offset + PAGE < total ? '' : ' disabled'}>Next</button>` : '';
    } catch (e) {
      if (!isAbort(e) && my === seq) tbody.innerHTML = `<tr><td colspan="${cfg.head.length + 1}">${errorBox(e)}</td></tr>`;
    } finally { done(); }
  };

  const edit = item => {
    const editing = !!item;
    const d = openDialog({
      title: editing ? `Edit ${cfg.noun} ${item[cfg.id]}` : `Add ${cfg.noun}`,
      testid: `${cfg.noun}-dialog`,
      body: `<form class="form" novalidate data-testid="${cfg.noun}-form">${cfg.fields.map(f => fieldHtml(f, item ? item[f.name] : f.type === 'number' && f.name === 'slots' ? 128 : '', editing)).join('')}<div class="form-error" role="alert" data-testid="form-error" hidden></div></form>`,
    });
    d.footer.innerHTML = `<button type="button" class="btn" data-close>Cancel</button><button type="button" class="btn btn-primary" data-testid="form-submit">Save</button>`;
    const form = d.body.querySelector('form');
    const errEl = d.body.querySelector('.form-error');
    const save = d.footer.querySelector('[data-testid="form-submit"]');
    const first = form.querySelector('input:not([readonly]), textarea');
    if (first) first.focus();
    const go = async () => {
      const { body, firstInvalid } = readForm(form, cfg.fields, editing);
      if (firstInvalid) { firstInvalid.focus(); return; }
      save.disabled = true;
      errEl.hidden = true;
      try {
        if (editing) {
          const mask = Object.keys(body).filter(k => k !== cfg.id);
          await api(`${cfg.path}/${enc(item[cfg.id])}`, { method: 'PATCH', body, query: { update_mask: mask } });
        } else {
          await api(cfg.path, { method: 'POST', body });
        }
        d.close(true);
        toast(`${cfg.noun[0].toUpperCase() + cfg.noun.slice(1)} ${body[cfg.id]} saved`);
        load();
      } catch (e) {
        errEl.textContent = e.status ? `${e.status}: ${e.message}` : e.message;
        errEl.hidden = false;
        save.disabled = false;
      }
    };
    save.addEventListener('click', go);
    form.addEventListener('submit', e => { e.preventDefault(); go(); });
    form.addEventListener('keydown', e => { if (e.key === 'Enter' && e.target.tagName === 'INPUT') { e.preventDefault(); go(); } });
  };

  // root (#main) outlives this page: the listener ends with it (ctx.signal).
  root.addEventListener('click', async e => {
    if (e.target.closest('[data-testid="add-button"]')) return edit(null);
    const ed = e.target.closest('[data-edit]');
    if (ed) return edit(items[+ed.dataset.edit]);
    const off = e.target.closest('[data-off]');
    if (off) { offset = +off.dataset.off; return load(); }
    const del = e.target.closest('[data-del]');
    if (del) {
      const it = items[+del.dataset.del];
      const ok = await confirmAction({
        title: `Delete ${cfg.noun}`, testid: 'delete-dialog', confirmLabel: 'Delete', danger: true,
        message: `Delete ${cfg.noun} <code>${esc(it[cfg.id])}</code>? This cannot be undone.`,
        run: () => api(`${cfg.path}/${enc(it[cfg.id])}`, { method: 'DELETE' }),
      });
      if (ok) { toast(`Deleted ${it[cfg.id]}`); load(); }
    }
  }, { signal: ctx.signal });
  const onSearch = debounce(() => { search = root.querySelector('[data-testid="admin-search"]').value.trim(); offset = 0; load(); }, 250);
  root.querySelector('[data-testid="admin-search"]').addEventListener('input', onSearch);
  ctx.on('lagged', () => load());
  ctx.cleanup(() => onSearch.cancel());
  load();
}

function audit(root, ctx) {
  let offset = 0;
  root.innerHTML = `<div class="page-head"><h1>Audit log</h1><span class="muted" data-testid="admin-count"></span></div>
    <div class="toolbar">
      <input type="search" data-hotkey="/" data-testid="audit-dag-filter" placeholder="DAG id   ( / )" aria-label="Filter by DAG id" autocomplete="off">
      <input type="search" data-testid="audit-event-filter" placeholder="Event" aria-label="Filter by event" autocomplete="off">
    </div>
    <div class="panel tbl-wrap"><table class="tbl" data-testid="audit-table"><thead><tr><th>When</th><th>Event</th><th>DAG</th><th class="hide-sm">Run</th><th class="hide-sm">Task</th><th>Owner</th><th class="hide-sm">Extra</th></tr></thead><tbody></tbody></table></div>
    <div class="pager"></div>`;
  const tbody = root.querySelector('tbody');
  const pager = root.querySelector('.pager');
  const [dagIn, evIn] = root.querySelectorAll('input');
  let seq = 0;
  const load = async () => {
    const my = ++seq;
    const done = delayedLoading(root.querySelector('.panel'));
    try {
      const r = await api('/api/v2/eventLogs', { query: { limit: PAGE, offset, order_by: '-when', dag_id_pattern: dagIn.value.trim() || undefined, event_pattern: evIn.value.trim() || undefined }, signal: ctx.signal });
      if (my !== seq) return;
      const logs = r.event_logs || [];
      const total = r.total_entries ?? logs.length;
      root.querySelector('[data-testid="admin-count"]').textContent = `${total} events`;
      tbody.innerHTML = logs.map(l => `<tr data-testid="audit-row-${esc(l.event_log_id)}"><td>${timeTag(l.when)}</td><td><code>${esc(l.event)}</code></td>
        <td>${l.dag_id ? `<a href="${esc(dagUrl(l.dag_id))}">${esc(l.dag_id)}</a>` : muted('—')}</td>
        <td class="hide-sm clip">${l.run_id && l.dag_id ? `<a href="${esc(runUrl(l.dag_id, l.run_id))}">${esc(l.run_id)}</a>` : muted('—')}</td>
        <td class="hide-sm">${esc(l.task_id || '')}${l.map_index != null && l.map_index >= 0 ? `[${esc(l.map_index)}]` : ''}</td>
        <td>${esc(l.owner || '')}</td><td class="hide-sm clip mono" title="${esc(l.extra || '')}">${esc(clip(l.extra || '', 60))}</td></tr>`).join('')
        || '<tr><td colspan="7"><div class="empty">No events.</div></td></tr>';
      pager.innerHTML = total > PAGE ? `<span>${offset + 1}–${offset + logs.length} of ${total}</span>
        <button type="button" class="btn btn-sm" data-off="${Math.max(0, offset - PAGE)}"${offset ? '' : ' disabled'}>Previous</button>
        <button type="button" class="btn btn-sm" data-off="${offset + PAGE}"${offset + PAGE < total ? '' : ' disabled'}>Next</button>` : '';
    } catch (e) {
      if (!isAbort(e) && my === seq) tbody.innerHTML = `<tr><td colspan="7">${errorBox(e)}</td></tr>`;
    } finally { done(); }
  };
  const onInput = debounce(() => { offset = 0; load(); }, 250);
  dagIn.addEventListener('input', onInput);
  evIn.addEventListener('input', onInput);
  pager.addEventListener('click', e => { const b = e.target.closest('[data-off]'); if (b) { offset = +b.dataset.off; load(); } });
  ctx.cleanup(() => onInput.cancel());
  load();
}

export function mount(root, route, ctx) {
  const section = route.params.section;
  if (section === 'audit') { ctx.setTitle('Audit log'); audit(root, ctx); return {}; }
  const cfg = SECTIONS[section];
  ctx.setTitle(cfg.title);
  crud(root, cfg, ctx, section);
  return {};
}
