// Unit tests of the UI's pure functions (layout, grid model, params, log parsing).
// Run: node --experimental-detect-module --test ui/dev/unit.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layout, inversions, edgePath } from '../graph.js';
import { topoOrder, buildTree, buildGrid, indexTis, setTi, gridHtml, taskCell } from '../grid.js';
import { paramFields, coerce, initialRaw } from '../params.js';
import { parseLog, levelOf, recordText, highlight, fromStream } from '../log.js';
import { summarize, norm, label, COLORS, STATES, LABELS } from '../states.js';
import { readFileSync } from 'node:fs';
import { formatDetail } from '../api.js';
import { highlightPython } from '../pages/dag_code.js';
import { debounce } from '../events.js';

const N = ids => ids.map(id => ({ id }));
const E = pairs => pairs.map(([from, to]) => ({ from, to }));
const byId = lay => Object.fromEntries(lay.nodes.map(n => [n.id, n]));

function assertNoOverlap(lay, sep = 0) {
  const layers = {};
  for (const n of lay.nodes) (layers[n.layer] ||= []).push(n);
  for (const L of Object.values(layers)) {
    L.sort((a, b) => a.y - b.y);
    for (let i = 1; i < L.length; i++) assert.ok(L[i].y >= L[i - 1].y + L[i - 1].height + sep - 0.01, `overlap in layer: ${L[i - 1].id} / ${L[i].id}`);
  }
}

test('layout: chain is laid out left to right on one line', () => {
  const lay = layout(N(['a', 'b', 'c']), E([['a', 'b'], ['b', 'c']]));
  const n = byId(lay);
  assert.deepEqual([n.a.layer, n.b.layer, n.c.layer], [0, 1, 2]);
  assert.ok(n.a.x < n.b.x && n.b.x < n.c.x);
  assert.equal(n.a.y, n.b.y);
  assert.equal(n.b.y, n.c.y);
  assert.equal(lay.crossings, 0);
  assert.equal(lay.edges.length, 2);
  const e = lay.edges[0];
  assert.deepEqual(e.points[0], [n.a.x + n.a.width, n.a.y + n.a.height / 2]);
  assert.deepEqual(e.points[e.points.length - 1], [n.b.x, n.b.y + n.b.height / 2]);
});

test('layout: every edge points forward and layers never overlap', () => {
  const ids = Array.from({ length: 40 }, (_, i) => `t${i}`);
  const edges = [];
  for (let i = 0; i < 40; i++) for (const j of [i * 2 + 1, i * 3 + 2]) if (j < 40) edges.push([`t${i}`, `t${j}`]);
  const lay = layout(N(ids), E(edges));
  const n = byId(lay);
  for (const [a, b] of edges) assert.ok(n[a].layer < n[b].layer, `${a}→${b}`);
  assertNoOverlap(lay, 16);
  assert.ok(lay.width > 0 && lay.height > 0);
  for (const node of lay.nodes) {
    assert.ok(node.x >= 0 && node.y >= 0 && node.x + node.width <= lay.width && node.y + node.height <= lay.height);
  }
});

test('layout: barycentre ordering removes an avoidable crossing', () => {
  // a1→b2 and a2→b1 cross in input order; reordering fixes it.
  const lay = layout(N(['a1', 'a2', 'b1', 'b2', 'c']), E([['a1', 'b2'], ['a2', 'b1'], ['b1', 'c'], ['b2', 'c']]));
  assert.equal(lay.crossings, 0);
});

test('layout: diamond keeps the middle pair in one layer with the join centred', () => {
  const lay = layout(N(['a', 'b', 'c', 'd']), E([['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']]));
  const n = byId(lay);
  assert.equal(n.b.layer, n.c.layer);
  assert.equal(lay.crossings, 0);
  assert.ok(Math.abs((n.a.y + n.a.height / 2) - (n.d.y + n.d.height / 2)) < 1);
});

test('layout: long edges route through dummy points; sources sit next to their successor', () => {
  const lay = layout(N(['a', 'b', 'c', 'd', 'late']), E([['a', 'b'], ['b', 'c'], ['c', 'd'], ['a', 'd'], ['late', 'd']]));
  const n = byId(lay);
  const long = lay.edges.find(e => e.from === 'a' && e.to === 'd');
  assert.equal(long.points.length, 4); // start, two dummies, end
  assert.equal(n.late.layer, n.d.layer - 1);
});

test('layout: cycles and bad edges do not hang or throw', () => {
  const lay = layout(N(['a', 'b', 'c']), E([['a', 'b'], ['b', 'c'], ['c', 'a'], ['a', 'a'], ['a', 'missing'], ['a', 'b']]));
  assert.equal(lay.nodes.length, 3);
  assert.equal(lay.edges.length, 3);
  const back = lay.edges.find(e => e.from === 'c' && e.to === 'a');
  assert.ok(back.points.length >= 2);
});

test('layout: top-to-bottom direction and empty graph', () => {
  const lay = layout(N(['a', 'b']), E([['a', 'b']]), { direction: 'TB' });
  const n = byId(lay);
  assert.ok(n.a.y < n.b.y);
  assert.equal(n.a.x, n.b.x);
  const empty = layout([], []);
  assert.equal(empty.nodes.length, 0);
});

test('layout: 300 tasks lay out quickly and deterministically', () => {
  const ids = Array.from({ length: 300 }, (_, i) => `g${i % 7}.t${i}`);
  const edges = [];
  for (let i = 0; i < 300; i++) for (const k of [1, 7, 31]) if (i + k < 300 && (i * k) % 5 !== 0) edges.push([ids[i], ids[i + k]]);
  const t0 = performance.now();
  const a = layout(N(ids), E(edges));
  const ms = performance.now() - t0;
  const b = layout(N(ids), E(edges));
  assert.deepEqual(a, b);
  assertNoOverlap(a, 16);
  assert.ok(ms < 1500, `layout took ${ms} ms`);
});

test('inversions and edge paths', () => {
  assert.equal(inversions([1, 2, 3]), 0);
  assert.equal(inversions([3, 2, 1]), 3);
  assert.equal(inversions([2, 1, 2, 1]), 3);
  assert.match(edgePath([[0, 0], [10, 10]]), /^M0,0C5,0 5,10 10,10$/);
});

const TASKS = [
  { task_id: 'consume', downstream_task_ids: ['grp.inner1'] },
  { task_id: 'fanout', downstream_task_ids: ['square'] },
  { task_id: 'grp.inner1', downstream_task_ids: ['grp.inner2'] },
  { task_id: 'grp.inner2', downstream_task_ids: [] },
  { task_id: 'produce', downstream_task_ids: ['consume'] },
  { task_id: 'square', downstream_task_ids: [], is_mapped: true },
];

test('grid: topological order with stable ties; groups nest where their first task is', () => {
  const order = topoOrder(TASKS);
  assert.deepEqual(order, ['fanout', 'produce', 'consume', 'grp.inner1', 'grp.inner2', 'square']);
  const tree = buildTree(order);
  assert.deepEqual(tree.children.map(c => c.id), ['fanout', 'produce', 'consume', 'grp', 'square']);
  assert.deepEqual(tree.children[3].children.map(c => c.id), ['grp.inner1', 'grp.inner2']);
  assert.equal(topoOrder([{ task_id: 'a', downstream_task_ids: ['b'] }, { task_id: 'b', downstream_task_ids: ['a'] }]).length, 2);
});

test('grid: cells, mapped summaries, group summaries, collapse', () => {
  const runs = [{ dag_run_id: 'r1', state: 'success' }, { dag_run_id: 'r2', state: 'running' }];
  const idx = indexTis([
    { dag_run_id: 'r1', task_id: 'produce', map_index: -1, state: 'success' },
    { dag_run_id: 'r1', task_id: 'grp.inner1', map_index: -1, state: 'success' },
    { dag_run_id: 'r1', task_id: 'grp.inner2', map_index: -1, state: 'failed' },
    { dag_run_id: 'r2', task_id: 'produce', map_index: -1, state: null },
    ...[0, 1, 2].map(i => ({ dag_run_id: 'r1', task_id: 'square', map_index: i, state: i === 1 ? 'running' : 'success' })),
  ]);
  const m = buildGrid({ tasks: TASKS, runs, idx });
  const row = id => m.rows.find(r => r.id === id);
  assert.equal(row('produce').cells[0].state, 'success');
  assert.equal(row('produce').cells[1].state, 'none');
  assert.equal(row('consume').cells[0], null);
  assert.deepEqual(row('square').cells[0], { state: 'running', count: 3, counts: { success: 2, running: 1 } });
  assert.equal(row('grp').cells[0].state, 'failed');
  assert.equal(row('grp.inner1').depth, 1);
  setTi(idx, 'r2', 'produce', -1, 'running');
  assert.equal(taskCell(idx, 'r2', 'produce').state, 'running');
  const collapsed = buildGrid({ tasks: TASKS, runs, idx, collapsed: new Set(['grp']) });
  assert.ok(!collapsed.rows.some(r => r.id === 'grp.inner1'));
  const html = gridHtml(m, 'd');
  assert.ok(html.includes('data-testid="grid-cell-r1-produce" data-state="success"'));
  assert.ok(html.includes('data-testid="grid-cell-r1-square" data-state="running"'));
  assert.ok(html.includes('data-count="3"'));
  assert.ok(html.includes('href="/dags/d/runs/r1/tasks/produce"'));
  assert.equal((html.match(/tabindex="0"/g) || []).length, 1);
});

test('grid: 50 runs × 100 tasks builds in well under 200 ms', () => {
  const tasks = Array.from({ length: 100 }, (_, i) => ({ task_id: `g${i % 10}.t${i}`, downstream_task_ids: i < 99 ? [`g${(i + 1) % 10}.t${i + 1}`] : [] }));
  const runs = Array.from({ length: 50 }, (_, i) => ({ dag_run_id: `manual__2026-01-01T00:${String(i).padStart(2, '0')}:00+00:00`, state: 'success', duration: i }));
  const tis = runs.flatMap(r => tasks.map(t => ({ dag_run_id: r.dag_run_id, task_id: t.task_id, map_index: -1, state: 'success' })));
  const t0 = performance.now();
  const html = gridHtml(buildGrid({ tasks, runs, idx: indexTis(tis) }), 'big');
  const ms = performance.now() - t0;
  assert.equal((html.match(/class="c /g) || []).length, 50 * 110);
  assert.ok(ms < 200, `${ms} ms`);
});

test('params: widgets per JSON-schema type', () => {
  const f = Object.fromEntries(paramFields({
    s: { value: 'x', schema: { type: 'string' } },
    e: { value: 'b', schema: { type: 'string', enum: ['a', 'b'] } },
    b: { value: true, schema: { type: 'boolean' } },
    i: { value: 3, schema: { type: 'integer', minimum: 1, maximum: 5 } },
    o: { value: { k: 1 }, schema: { type: 'object' } },
    a: { value: [1], schema: { type: 'array' } },
    d: { value: '2026-01-01', schema: { type: 'string', format: 'date' } },
    n: { value: null, schema: { type: ['null', 'integer'] } },
    r: { value: null, schema: { type: 'string' } },
    plain: 42,
    untyped: { value: 'hello', schema: {}, description: null, source: null },
  }).map(x => [x.name, x]));
  assert.equal(f.s.widget, 'text');
  assert.equal(f.e.widget, 'select');
  assert.equal(initialRaw(f.e), '1');
  assert.equal(f.b.widget, 'checkbox');
  assert.equal(f.i.widget, 'number');
  assert.equal(f.o.widget, 'json');
  assert.equal(f.a.widget, 'json');
  assert.equal(f.d.widget, 'date');
  assert.equal(f.n.nullable, true);
  assert.equal(f.n.required, false);
  assert.equal(f.r.required, true);
  assert.equal(f.plain.widget, 'number');
  assert.equal(f.untyped.widget, 'text');
  assert.equal(f.untyped.required, false);
});

test('params: coerce validates before submit', () => {
  const [i, o, a, e, r, n, s] = paramFields({
    i: { value: 3, schema: { type: 'integer', minimum: 1, maximum: 5 } },
    o: { value: {}, schema: { type: 'object' } },
    a: { value: [], schema: { type: 'array' } },
    e: { value: 'a', schema: { enum: ['a', 'b'] } },
    r: { value: null, schema: { type: 'string' } },
    n: { value: null, schema: { type: ['null', 'number'] } },
    s: { value: 'ab', schema: { type: 'string', minLength: 2, pattern: '^a' } },
  });
  assert.deepEqual(coerce(i, '4'), { value: 4 });
  assert.ok(coerce(i, '9').error);
  assert.ok(coerce(i, '2.5').error);
  assert.ok(coerce(i, '').error);
  assert.deepEqual(coerce(o, '{"a":1}'), { value: { a: 1 } });
  assert.ok(coerce(o, '[1]').error);
  assert.ok(coerce(o, '{').error);
  assert.deepEqual(coerce(a, '[1,2]'), { value: [1, 2] });
  assert.ok(coerce(a, '{}').error);
  assert.deepEqual(coerce(e, '1'), { value: 'b' });
  assert.ok(coerce(r, '').error);
  assert.deepEqual(coerce(r, 'x'), { value: 'x' });
  assert.deepEqual(coerce(n, ''), { value: null });
  assert.ok(coerce(s, 'b').error);
  assert.ok(coerce(s, 'bc').error);
  assert.deepEqual(coerce(s, 'abc'), { value: 'abc' });
});

test('log: NDJSON, JSON and plain bodies; levels; highlight escapes', () => {
  const nd = '{"timestamp":null,"event":"::group::src"}\n{"timestamp":"2026-01-01T00:00:00Z","event":"hello","level":"info"}\nnot json\n\n';
  const recs = parseLog(nd);
  assert.equal(recs.length, 3);
  assert.equal(recs[2].event, 'not json');
  assert.equal(parseLog({ content: [{ event: 'a' }, { event: 'b' }] }).length, 2);
  assert.equal(parseLog({ content: 'x\ny' }).length, 2);
  assert.equal(levelOf({ event: 'x', level: 'error' }), 'error');
  assert.equal(levelOf({ event: 'ERROR: boom' }), 'error');
  assert.equal(levelOf({ event: 'ValueError: nope' }), 'error');
  assert.equal(levelOf({ event: 'WARNING - careful' }), 'warning');
  assert.equal(levelOf({ event: 'fine' }), '');
  assert.equal(recordText({ event: '\x1b[31mred\x1b[0m' }), 'red');
  assert.match(recordText({ event: 'failed', error_detail: [{ exc_type: 'ValueError', exc_value: 'x', frames: [{ filename: 'f.py', lineno: 3, name: 'run' }] }] }), /File "f.py", line 3, in run\nValueError: x/);
  assert.equal(highlight('a<b>A', 'a'), '<mark>a</mark>&lt;b&gt;<mark>A</mark>');
  assert.equal(highlight('&amp', 'amp'), '&amp;<mark>amp</mark>');
  assert.deepEqual(fromStream({ timestamp: 't', stream: 'stderr', line: 'x' }), { timestamp: 't', event: 'x', stream: 'stderr', level: '' });
});

test('states, error details, highlighting, debounce', async () => {
  assert.equal(summarize(['success', 'running', 'failed']), 'failed');
  assert.equal(summarize(['success', null]), 'none');
  assert.equal(summarize([]), null);
  assert.equal(norm(null), 'none');
  assert.equal(label('up_for_retry'), 'Up For Retry');
  assert.equal(formatDetail('x'), 'x');
  assert.equal(formatDetail([{ loc: ['query', 'limit'], msg: 'bad' }]), 'query.limit: bad');
  assert.equal(formatDetail({ reason: 'r', message: 'm' }), 'm');
  const src = 'def f():\n    """doc\n    more"""\n    return 1  # c\n';
  const h = highlightPython(src);
  assert.equal((h.match(/class="line"/g) || []).length, 4);
  assert.ok(h.includes('<span class="tk-k">def</span>'));
  assert.ok(h.includes('<span class="tk-c"># c</span>'));
  let calls = 0;
  const d = debounce(() => calls++, 30, 1000);
  for (let i = 0; i < 10; i++) d();
  await new Promise(r => setTimeout(r, 80));
  assert.equal(calls, 1);
});

test('style.css carries every state colour of states.js', () => {
  const css = readFileSync(new URL('../style.css', import.meta.url), 'utf8');
  for (const s of STATES) {
    assert.ok(css.includes(`.s-${s} { --sc: ${COLORS[s]}; }`), s);
    assert.ok(LABELS[s], s);
  }
});
