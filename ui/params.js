// DAG params → trigger-form fields, HTML inputs per JSON-schema type, and validation.
// paramFields() and coerce() are pure (unit-tested); renderParamForm()/readParamForm() touch
// only the form they are given.

import { esc } from './dom.js';

const SCALARS = ['string', 'integer', 'number', 'boolean', 'array', 'object'];

function inferType(v) {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (Array.isArray(v)) return 'array';
  if (v && typeof v === 'object') return 'object';
  return 'string';
}

/** Normalises `/details` params ({name: {value, schema, description}} or plain values). */
export function paramFields(params) {
  if (!params || typeof params !== 'object') return [];
  return Object.entries(params).map(([name, p]) => {
    const isParam = p && typeof p === 'object' && !Array.isArray(p) && ('schema' in p || 'value' in p || '__class' in p);
    const value = isParam ? p.value : p;
    const schema = (isParam && p.schema && typeof p.schema === 'object') ? p.schema : {};
    const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    const nullable = !types.length || types.includes('null') || (schema.enum || []).includes(null);
    let type = types.find(t => SCALARS.includes(t)) || (value != null ? inferType(value) : 'string');
    const enumVals = Array.isArray(schema.enum) ? schema.enum.filter(v => v !== null) : null;
    let widget;
    if (enumVals && enumVals.length) widget = 'select';
    else if (type === 'boolean') widget = 'checkbox';
    else if (type === 'integer' || type === 'number') widget = 'number';
    else if (type === 'array' || type === 'object') widget = 'json';
    else if (schema.format === 'date') widget = 'date';
    else if (schema.format === 'date-time') widget = 'datetime';
    else if (schema.format === 'time') widget = 'time';
    else if (schema.format === 'multiline') widget = 'textarea';
    else widget = 'text';
    const description = (isParam && p.description) || schema.description || schema.description_md || '';
    return {
      name, type, widget, nullable, schema, value,
      label: schema.title || name,
      description: description ? String(description) : '',
      enum: enumVals,
      valuesDisplay: schema.values_display || {},
      required: value == null && !nullable,
    };
  });
}

const isoLocal = v => (typeof v === 'string' ? v.replace(/Z$|[+-]\d\d:\d\d$/, '').slice(0, 16) : '');

/** The form's initial raw input for a field. */
export function initialRaw(f) {
  const v = f.value;
  switch (f.widget) {
    case 'checkbox': return !!v;
    case 'select': { const i = f.enum.findIndex(e => JSON.stringify(e) === JSON.stringify(v)); return i < 0 ? '' : String(i); }
    case 'json': return v == null ? '' : JSON.stringify(v, null, 2);
    case 'datetime': return isoLocal(v);
    default: return v == null ? '' : String(v);
  }
}

/** Raw input → {value} or {error}. */
export function coerce(f, raw) {
  const s = f.schema || {};
  if (f.widget === 'checkbox') return { value: !!raw };
  const empty = raw === '' || raw == null;
  if (f.widget === 'select') {
    if (empty) return f.required ? { error: 'Required' } : { value: null };
    const v = f.enum[Number(raw)];
    return v === undefined ? { error: 'Choose one of the listed values' } : { value: v };
  }
  if (empty && f.type !== 'string') return f.nullable ? { value: null } : { error: 'Required' };
  if (f.widget === 'number') {
    const n = Number(String(raw).trim());
    if (!isFinite(n)) return { error: 'Enter a number' };
    if (f.type === 'integer' && !Number.isInteger(n)) return { error: 'Enter a whole number' };
    if (s.minimum != null && n < s.minimum) return { error: `Must be ≥ ${s.minimum}` };
    if (s.maximum != null && n > s.maximum) return { error: `Must be ≤ ${s.maximum}` };
    if (s.exclusiveMinimum != null && n <= s.exclusiveMinimum) return { error: `Must be > ${s.exclusiveMinimum}` };
    if (s.exclusiveMaximum != null && n >= s.exclusiveMaximum) return { error: `Must be < ${s.exclusiveMaximum}` };
    if (s.multipleOf && Math.abs(n / s.multipleOf - Math.round(n / s.multipleOf)) > 1e-9) return { error: `Must be a multiple of ${s.multipleOf}` };
    return { value: n };
  }
  if (f.widget === 'json') {
    let v;
    try { v = JSON.parse(raw); } catch (e) { return { error: `Invalid JSON: ${e.message}` }; }
    if (f.type === 'array' && !Array.isArray(v)) return { error: 'Must be a JSON array' };
    if (f.type === 'object' && (typeof v !== 'object' || v === null || Array.isArray(v))) return { error: 'Must be a JSON object' };
    if (f.type === 'array' && s.minItems != null && v.length < s.minItems) return { error: `At least ${s.minItems} items` };
    if (f.type === 'array' && s.maxItems != null && v.length > s.maxItems) return { error: `At most ${s.maxItems} items` };
    return { value: v };
  }
  // string-like widgets
  if (empty) {
    if (f.required) return { error: 'Required' };
    if (f.nullable && (f.value == null)) return { value: null };
    if (s.minLength) return { error: `At least ${s.minLength} characters` };
    return { value: '' };
  }
  let v = String(raw);
  if (f.widget === 'datetime') v = v.length === 16 ? `${v}:00+00:00` : /[Zz+-]\d*:?\d*$/.test(v.slice(19)) ? v : `${v}+00:00`;
  if (s.minLength != null && v.length < s.minLength) return { error: `At least ${s.minLength} characters` };
  if (s.maxLength != null && v.length > s.maxLength) return { error: `At most ${s.maxLength} characters` };
  if (s.pattern) {
    let re = null;
    try { re = new RegExp(s.pattern, 'u'); } catch { /* invalid pattern: let the server judge */ }
    if (re && !re.test(v)) return { error: `Must match ${s.pattern}` };
  }
  return { value: v };
}

/** HTML for the fields (inputs named by index; data-testid="param-<name>"). */
export function renderParamForm(fields) {
  return fields.map((f, i) => {
    const id = `param-${i}`;
    const tid = `param-${esc(f.name)}`;
    const raw = initialRaw(f);
    const req = f.required ? ' required aria-required="true"' : '';
    const desc = f.description ? `<small class="help" id="${id}-d">${esc(f.description)}</small>` : '';
    const aria = ` aria-describedby="${id}-e${f.description ? ` ${id}-d` : ''}"`;
    const s = f.schema || {};
    let input;
    switch (f.widget) {
      case 'checkbox':
        return `<div class="field field-check"><label class="check"><input type="checkbox" id="${id}" name="${id}" data-testid="${tid}"${raw ? ' checked' : ''}${aria}> ${esc(f.label)}</label>${desc}<small class="field-error" id="${id}-e" role="alert"></small></div>`;
      case 'select':
        input = `<select id="${id}" name="${id}" data-testid="${tid}"${req}${aria}>${f.required ? '' : '<option value="">—</option>'}${
          f.enum.map((v, j) => `<option value="${j}"${String(j) === raw ? ' selected' : ''}>${esc(f.valuesDisplay[v] ?? (typeof v === 'string' ? v : JSON.stringify(v)))}</option>`).join('')}</select>`;
        break;
      case 'number':
        input = `<input type="number" id="${id}" name="${id}" data-testid="${tid}" value="${esc(raw)}" step="${f.type === 'integer' ? (s.multipleOf || 1) : 'any'}"${s.minimum != null ? ` min="${s.minimum}"` : ''}${s.maximum != null ? ` max="${s.maximum}"` : ''}${req}${aria}>`;
        break;
      case 'json':
      case 'textarea':
        input = `<textarea id="${id}" name="${id}" data-testid="${tid}" rows="${f.widget === 'json' ? 4 : 3}" spellcheck="false" class="${f.widget === 'json' ? 'mono' : ''}"${req}${aria}>${esc(raw)}</textarea>`;
        break;
      default: {
        const type = { date: 'date', datetime: 'datetime-local', time: 'time' }[f.widget] || 'text';
        const list = Array.isArray(s.examples) && type === 'text' ? ` list="${id}-l"` : '';
        input = `<input type="${type}" id="${id}" name="${id}" data-testid="${tid}" value="${esc(raw)}"${list}${s.maxLength ? ` maxlength="${s.maxLength}"` : ''}${req}${aria}>${
          list ? `<datalist id="${id}-l">${s.examples.map(x => `<option value="${esc(x)}">`).join('')}</datalist>` : ''}`;
      }
    }
    const kind = f.widget === 'json' ? ` <span class="muted">(JSON ${f.type})</span>` : f.widget === 'datetime' ? ' <span class="muted">(UTC)</span>' : '';
    return `<div class="field"><label for="${id}">${esc(f.label)}${f.required ? ' <span class="req" aria-hidden="true">*</span>' : ''}${kind}</label>${input}${desc}<small class="field-error" id="${id}-e" role="alert"></small></div>`;
  }).join('');
}

/** Reads and validates the form; marks invalid inputs. → {conf, errors, firstInvalid} */
export function readParamForm(form, fields) {
  const conf = {};
  const errors = {};
  let firstInvalid = null;
  fields.forEach((f, i) => {
    const el = form.elements[`param-${i}`];
    const err = form.querySelector(`#param-${i}-e`);
    const raw = f.widget === 'checkbox' ? el.checked : el.value;
    const r = coerce(f, raw);
    if (r.error) {
      errors[f.name] = r.error;
      el.setAttribute('aria-invalid', 'true');
      if (err) err.textContent = r.error;
      firstInvalid = firstInvalid || el;
    } else {
      el.removeAttribute('aria-invalid');
      if (err) err.textContent = '';
      conf[f.name] = r.value;
    }
  });
  return { conf, errors, firstInvalid };
}
