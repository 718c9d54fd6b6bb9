// DAG graph: a pure layered (Sugiyama-style) layout, an SVG renderer and zoom/pan.
//
// layout(nodes, edges, opts) is pure and DOM-free (unit-tested in ui/dev/unit.test.js):
//   1. cycle guard (DFS; back edges are reversed, then drawn the right way round),
//   2. longest-path layering, sources pulled next to their first successor,
//   3. dummy nodes on edges that span several layers,
//   4. ordering by barycentre sweeps (down then up), keeping the order with fewest crossings,
//   5. coordinates: within each layer, nodes move toward the mean of their neighbours under
//      order + spacing constraints, solved exactly by isotonic regression (pool adjacent
//      violators), alternating directions a few times,
//   6. edges as point lists through the dummies.

import { esc } from './dom.js';
import { norm, label as stateLabel } from './states.js';

/**
 * layout(nodes, edges, opts) →
 *   {nodes: [{id, x, y, width, height, layer, order}], edges: [{from, to, label, points}],
 *    width, height, crossings}
 * nodes: [{id, width?, height?}]; edges: [{from, to, label?}].
 * opts: {nodeWidth=180, nodeHeight=44, rankSep=64, nodeSep=16, dummySize=6, sweeps=8,
 *        direction='LR'|'TB', margin=16}
 */
export function layout(nodes, edges, opts = {}) {
  const o = { nodeWidth: 180, nodeHeight: 44, rankSep: 64, nodeSep: 16, dummySize: 6, sweeps: 8, direction: 'LR', margin: 16, ...opts };
  const LR = o.direction !== 'TB';
  // Internally layers run along the "main" axis and order along the "cross" axis.
  const V = nodes.map((n, i) => ({
    id: n.id, i, dummy: false,
    main: LR ? (n.width ?? o.nodeWidth) : (n.height ?? o.nodeHeight),
    cross: LR ? (n.height ?? o.nodeHeight) : (n.width ?? o.nodeWidth),
    preds: [], succs: [], layer: 0, pos: 0, c: 0,
  }));
  const index = new Map(V.map(v => [v.id, v]));
  // Deduplicated, valid edges.
  const seen = new Set();
  const E = [];
  for (const e of edges) {
    const a = index.get(e.from), b = index.get(e.to);
    const k = `${e.from}\u0000${e.to}`;
    if (!a || !b || a === b || seen.has(k)) continue;
    seen.add(k);
    E.push({ from: a, to: b, label: e.label || '', reversed: false });
  }
  // 1. Cycle guard: iterative DFS, reverse back edges.
  const out = new Map(V.map(v => [v, []]));
  E.forEach(e => out.get(e.from).push(e));
  const mark = new Map();
  for (const root of V) {
    if (mark.has(root)) continue;
    const stack = [[root, 0]];
    mark.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [v, k] = top;
      const list = out.get(v);
      if (k >= list.length) { mark.set(v, 2); stack.pop(); continue; }
      top[1]++;
      const e = list[k];
      const w = e.to;
      if (mark.get(w) === 1) e.reversed = true;
      else if (!mark.has(w)) { mark.set(w, 1); stack.push([w, 0]); }
    }
  }
  for (const e of E) {
    const [a, b] = e.reversed ? [e.to, e.from] : [e.from, e.to];
    a.succs.push(b); b.preds.push(a);
  }
  // 2. Longest-path layering (Kahn order).
  const indeg = new Map(V.map(v => [v, v.preds.length]));
  const queue = V.filter(v => !v.preds.length);
  const topo = [];
  while (queue.length) {
    const v = queue.shift();
    topo.push(v);
    for (const w of v.succs) {
      w.layer = Math.max(w.layer, v.layer + 1);
      indeg.set(w, indeg.get(w) - 1);
      if (!indeg.get(w)) queue.push(w);
    }
  }
  // Pull sources right, next to their nearest successor (shorter edges).
  for (const v of topo) if (!v.preds.length && v.succs.length) v.layer = Math.min(...v.succs.map(w => w.layer)) - 1;
  // 3. Dummy nodes for long edges; segments[] are the unit-span edges used for ordering.
  const all = V.slice();
  const chains = [];
  for (const e of E) {
    const [a, b] = e.reversed ? [e.to, e.from] : [e.from, e.to];
    const chain = [a];
    for (let l = a.layer + 1; l < b.layer; l++) {
      const d = { id: null, dummy: true, main: 0, cross: o.dummySize, preds: [], succs: [], layer: l, pos: 0, c: 0, i: all.length };
      all.push(d);
      chain.push(d);
    }
    chain.push(b);
    chains.push({ e, chain });
  }
  for (const v of all) { v.up = []; v.down = []; }
  for (const { chain } of chains) for (let k = 0; k + 1 < chain.length; k++) { chain[k].down.push(chain[k + 1]); chain[k + 1].up.push(chain[k]); }
  const nLayers = all.reduce((m, v) => Math.max(m, v.layer + 1), 0);
  const layers = Array.from({ length: nLayers }, () => []);
  // Initial order: DFS from sources so connected nodes start close together.
  const placed = new Set();
  const visit = v => {
    if (placed.has(v)) return;
    placed.add(v);
    layers[v.layer].push(v);
    v.down.forEach(visit);
  };
  all.filter(v => !v.up.length).sort((a, b) => a.layer - b.layer || a.i - b.i).forEach(visit);
  all.forEach(visit);
  layers.forEach(L => L.forEach((v, k) => { v.pos = k; }));
  // 4. Barycentre sweeps.
  const crossings = () => {
    let total = 0;
    for (let l = 0; l + 1 < nLayers; l++) {
      const pairs = [];
      for (const v of layers[l]) for (const w of v.down) pairs.push([v.pos, w.pos]);
      pairs.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
      total += inversions(pairs.map(p => p[1]));
    }
    return total;
  };
  const snapshot = () => layers.map(L => L.slice());
  let best = snapshot();
  let bestC = crossings();
  for (let s = 0; s < o.sweeps && bestC > 0; s++) {
    const down = s % 2 === 0;
    const range = down ? [...Array(nLayers).keys()].slice(1) : [...Array(nLayers).keys()].reverse().slice(1);
    for (const l of range) {
      const L = layers[l];
      const bary = new Map();
      for (const v of L) {
        const nb = down ? v.up : v.down;
        bary.set(v, nb.length ? nb.reduce((a, w) => a + w.pos, 0) / nb.length : v.pos);
      }
      L.sort((a, b) => bary.get(a) - bary.get(b) || a.pos - b.pos);
      L.forEach((v, k) => { v.pos = k; });
    }
    const c = crossings();
    if (c < bestC) { bestC = c; best = snapshot(); }
  }
  best.forEach((L, l) => { layers[l] = L; L.forEach((v, k) => { v.pos = k; }); });
  // 5. Cross-axis coordinates (centres).
  for (const L of layers) {
    let y = 0;
    for (const v of L) { v.c = y + v.cross / 2; y += v.cross + o.nodeSep; }
  }
  const gap = (a, b) => (a.cross + b.cross) / 2 + (a.dummy && b.dummy ? o.nodeSep / 2 : o.nodeSep);
  const place = (L, desired) => {
    // Minimise Σ(c_i − d_i)² s.t. c_{i+1} − c_i ≥ gap_i: shift by cumulative gaps, then PAV.
    const off = [0];
    for (let k = 1; k < L.length; k++) off.push(off[k - 1] + gap(L[k - 1], L[k]));
    const blocks = [];
    for (let k = 0; k < L.length; k++) {
      blocks.push({ sum: desired[k] - off[k], n: 1 });
      while (blocks.length > 1) {
        const b = blocks[blocks.length - 1], a = blocks[blocks.length - 2];
        if (a.sum / a.n <= b.sum / b.n) break;
        a.sum += b.sum; a.n += b.n; blocks.pop();
      }
    }
    let k = 0;
    for (const b of blocks) for (let t = 0; t < b.n; t++, k++) L[k].c = b.sum / b.n + off[k];
  };
  for (let it = 0; it < 8; it++) {
    const mode = it % 4; // down, up, down, both
    const order = mode === 1 ? [...layers].reverse() : layers;
    for (const L of order) {
      if (!L.length) continue;
      place(L, L.map(v => {
        const nb = mode === 0 || mode === 2 ? v.up : mode === 1 ? v.down : v.up.concat(v.down);
        return nb.length ? nb.reduce((a, w) => a + w.c, 0) / nb.length : v.c;
      }));
    }
  }
  // Main-axis positions: layer columns as wide as their widest node.
  const layerSize = layers.map(L => L.reduce((m, v) => Math.max(m, v.main), 0) || o.dummySize);
  const hasLabels = E.some(e => e.label);
  const sep = o.rankSep + (hasLabels ? 40 : 0);
  const layerStart = [];
  let acc = o.margin;
  for (let l = 0; l < nLayers; l++) { layerStart.push(acc); acc += layerSize[l] + sep; }
  const minC = all.reduce((m, v) => Math.min(m, v.c - v.cross / 2), Infinity);
  const shift = isFinite(minC) ? o.margin - minC : o.margin;
  for (const v of all) {
    v.c += shift;
    v.m = layerStart[v.layer] + (layerSize[v.layer] - v.main) / 2; // node's near edge on the main axis
  }
  const crossMax = all.reduce((m, v) => Math.max(m, v.c + v.cross / 2), 0) + o.margin;
  const mainMax = nLayers ? acc - sep + o.margin : 2 * o.margin;
  const pt = (m, c) => (LR ? [round(m), round(c)] : [round(c), round(m)]);
  const outNodes = V.map(v => {
    const [x, y] = pt(v.m, v.c - v.cross / 2);
    return { id: v.id, x, y, width: LR ? v.main : v.cross, height: LR ? v.cross : v.main, layer: v.layer, order: v.pos };
  });
  const outEdges = chains.map(({ e, chain }) => {
    const pts = chain.map((v, k) => {
      if (k === 0) return pt(v.m + v.main, v.c);
      if (k === chain.length - 1) return pt(v.m, v.c);
      return pt(layerStart[v.layer] + layerSize[v.layer] / 2, v.c);
    });
    if (e.reversed) pts.reverse();
    return { from: e.from.id, to: e.to.id, label: e.label, points: pts };
  });
  return {
    nodes: outNodes, edges: outEdges, crossings: bestC,
    width: round(LR ? mainMax : crossMax), height: round(LR ? crossMax : mainMax),
  };
}

const round = v => Math.round(v * 10) / 10;

/** Number of inversions in an array (merge sort, O(n log n)). */
export function inversions(a) {
  if (a.length < 2) return 0;
  const mid = a.length >> 1;
  const l = a.slice(0, mid), r = a.slice(mid);
  let n = inversions(l) + inversions(r);
  let i = 0, j = 0, k = 0;
  while (i < l.length && j < r.length) {
    if (l[i] <= r[j]) a[k++] = l[i++];
    else { a[k++] = r[j++]; n += l.length - i; }
  }
  while (i < l.length) a[k++] = l[i++];
  while (j < r.length) a[k++] = r[j++];
  return n;
}

/** SVG path through points with horizontal (LR) or vertical (TB) tangents. */
export function edgePath(points, LR = true) {
  if (!points.length) return '';
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let k = 1; k < points.length; k++) {
    const [x0, y0] = points[k - 1], [x1, y1] = points[k];
    if (LR) { const dx = (x1 - x0) / 2; d += `C${x0 + dx},${y0} ${x1 - dx},${y1} ${x1},${y1}`; }
    else { const dy = (y1 - y0) / 2; d += `C${x0},${y0 + dy} ${x1},${y1 - dy} ${x1},${y1}`; }
  }
  return d;
}

const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

/** A node's second line: operator (clipped to what the state leaves room for) · state [count]. */
function subText(d, width) {
  const tail = `${d.state ? stateLabel(norm(d.state)) : 'No Status'}${d.count ? ` [${d.count}]` : ''}`;
  const room = Math.floor((width - 22) / 6.2) - tail.length - 3;
  return `${d.sub && room >= 4 ? clip(d.sub, room) + ' · ' : ''}${tail}`;
}

/**
 * SVG markup for a laid-out graph. info(id) → {label, group, sub, state, href, count}.
 */
export function graphSvg(lay, info, { direction = 'LR' } = {}) {
  const LR = direction !== 'TB';
  let edges = '';
  let labels = '';
  for (const e of lay.edges) {
    edges += `<path d="${edgePath(e.points, LR)}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" marker-end="url(#lf-arrow)"/>`;
    if (e.label) {
      const mid = e.points[Math.floor((e.points.length - 1) / 2)], nxt = e.points[Math.floor((e.points.length - 1) / 2) + 1] || mid;
      const x = (mid[0] + nxt[0]) / 2, y = (mid[1] + nxt[1]) / 2;
      const t = clip(e.label, 24);
      labels += `<g class="ge-label" transform="translate(${x},${y})"><rect x="${-t.length * 3.4 - 4}" y="-9" width="${t.length * 6.8 + 8}" height="18" rx="4"/><text text-anchor="middle" dy="4">${esc(t)}</text></g>`;
    }
  }
  let nodes = '';
  for (const n of lay.nodes) {
    const d = info(n.id);
    const s = norm(d.state);
    const chars = Math.floor((n.width - 22) / 7);
    const grp = d.group ? `<tspan class="gn-grp">${esc(clip(d.group + '.', 14))}</tspan>` : '';
    const name = clip(d.label, Math.max(4, chars - (d.group ? Math.min(14, d.group.length + 1) : 0)));
    const sub = subText(d, n.width);
    const body = `<rect class="gn-box" width="${n.width}" height="${n.height}" rx="6"/><rect class="gn-bar" width="6" height="${n.height}" rx="3"/>` +
      `<text class="gn-label" x="14" y="${n.height / 2 - 3}">${grp}${esc(name)}</text><text class="gn-sub" x="14" y="${n.height / 2 + 13}">${esc(sub)}</text><title>${esc(n.id)} · ${esc(stateLabel(s))}</title>`;
    const attrs = `class="gn s-${s}" data-testid="graph-node-${esc(n.id)}" data-state="${s}" data-id="${esc(n.id)}" transform="translate(${n.x},${n.y})"`;
    nodes += `<a${d.href ? ` href="${esc(d.href)}"` : ''} ${attrs}>${body}</a>`;
  }
  return `<svg class="graph-svg" xmlns="http://www.w3.org/2000/svg" data-testid="graph-svg" aria-label="Task graph">
<defs><marker id="lf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>
<g class="viewport"><g class="edges">${edges}</g><g class="edge-labels">${labels}</g><g class="nodes">${nodes}</g></g></svg>`;
}

/** Updates node colours in place (no re-layout). states: Map(id → {state, count, href}). */
export function updateGraphStates(root, info) {
  for (const g of root.querySelectorAll('.gn')) {
    const d = info(g.dataset.id);
    const s = norm(d.state);
    if (d.href) g.setAttribute('href', d.href); else g.removeAttribute('href');
    if (g.dataset.state === s && !d.count) continue;
    g.setAttribute('class', `gn s-${s}`);
    g.dataset.state = s;
    const sub = g.querySelector('.gn-sub');
    const w = +g.querySelector('.gn-box').getAttribute('width');
    if (sub) sub.textContent = subText(d, w);
    const t = g.querySelector('title');
    if (t) t.textContent = `${g.dataset.id} · ${stateLabel(s)}`;
  }
}

/** Wheel zoom (around the cursor), drag pan, fit. Returns {fit, zoomBy, destroy}. */
export function attachZoom(svg, contentSize) {
  const vp = svg.querySelector('.viewport');
  const t = { x: 0, y: 0, k: 1 };
  const apply = () => vp.setAttribute('transform', `translate(${t.x},${t.y}) scale(${t.k})`);
  const clampK = k => Math.max(0.15, Math.min(3, k));
  const zoomAt = (px, py, factor) => {
    const k = clampK(t.k * factor);
    t.x = px - (px - t.x) * (k / t.k);
    t.y = py - (py - t.y) * (k / t.k);
    t.k = k;
    apply();
  };
  const fit = () => {
    // The whole graph when it fits at ≥ 50 %; otherwise 50 % from the top-left corner, so
    // labels stay legible and the rest is a drag away.
    const r = svg.getBoundingClientRect();
    if (!r.width || !r.height) return;
    const k = clampK(Math.max(0.5, Math.min(1, (r.width - 16) / contentSize.width, (r.height - 16) / contentSize.height)));
    const w = contentSize.width * k, h = contentSize.height * k;
    t.k = k;
    t.x = w <= r.width ? (r.width - w) / 2 : 8;
    t.y = h <= r.height ? Math.min((r.height - h) / 2, 96) : 8;
    apply();
  };
  const wheel = e => {
    e.preventDefault();
    const r = svg.getBoundingClientRect();
    zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-e.deltaY * (e.deltaMode ? 0.05 : 0.0015)));
  };
  let drag = null;
  let moved = false;
  const down = e => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, tx: t.x, ty: t.y, id: e.pointerId };
    moved = false;
  };
  const move = e => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!moved && Math.hypot(dx, dy) < 4) return;
    if (!moved) { moved = true; svg.setPointerCapture(drag.id); svg.classList.add('panning'); }
    t.x = drag.tx + dx; t.y = drag.ty + dy;
    apply();
  };
  const up = () => { drag = null; svg.classList.remove('panning'); };
  const click = e => { if (moved) { e.preventDefault(); e.stopPropagation(); moved = false; } };
  svg.addEventListener('wheel', wheel, { passive: false });
  svg.addEventListener('pointerdown', down);
  svg.addEventListener('pointermove', move);
  svg.addEventListener('pointerup', up);
  svg.addEventListener('pointercancel', up);
  svg.addEventListener('click', click, true);
  apply();
  return {
    fit,
    zoomBy: f => { const r = svg.getBoundingClientRect(); zoomAt(r.width / 2, r.height / 2, f); },
    get transform() { return { ...t }; },
    destroy() { svg.removeEventListener('wheel', wheel); },
  };
}
