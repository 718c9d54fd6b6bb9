// Task-instance and DAG-run states: the words and colours of the Airflow 3 UI.
// Colours are the "solid" (600) shades of the Chakra tokens Airflow 3 maps each state to:
// success→green, failed→red, running→cyan, queued→stone, up_for_retry→yellow,
// up_for_reschedule→sky, upstream_failed→orange, skipped→pink, scheduled→zinc,
// deferred→purple, restarting→violet, removed→slate, none→gray.
// Pure data; style.css carries the matching `.s-<state>` classes (a unit test keeps them equal).

export const STATES = [
  'success', 'failed', 'running', 'queued', 'scheduled', 'up_for_retry', 'up_for_reschedule',
  'upstream_failed', 'skipped', 'deferred', 'restarting', 'removed', 'none',
];

export const RUN_STATES = ['queued', 'running', 'success', 'failed'];

export const LABELS = {
  success: 'Success', failed: 'Failed', running: 'Running', queued: 'Queued',
  scheduled: 'Scheduled', up_for_retry: 'Up For Retry', up_for_reschedule: 'Up For Reschedule',
  upstream_failed: 'Upstream Failed', skipped: 'Skipped', deferred: 'Deferred',
  restarting: 'Restarting', removed: 'Removed', none: 'No Status',
};

export const COLORS = {
  success: '#007600', failed: '#e7000b', running: '#0092b8', queued: '#57534d',
  scheduled: '#52525c', up_for_retry: '#d08700', up_for_reschedule: '#0084d1',
  upstream_failed: '#d93f0a', skipped: '#e60076', deferred: '#9810fa',
  restarting: '#7f22fe', removed: '#45556c', none: '#788ba1',
};

// Which state wins when several are summarised in one cell (task groups, mapped tasks):
// Airflow's grid priority, most urgent first.
export const PRIORITY = [
  'failed', 'upstream_failed', 'up_for_retry', 'up_for_reschedule', 'queued', 'scheduled',
  'deferred', 'running', 'restarting', 'none', 'success', 'skipped', 'removed',
];
const RANK = Object.fromEntries(PRIORITY.map((s, i) => [s, i]));

/** Normalises an API state (null/undefined/"" → "none"; unknown kept lower-case). */
export function norm(state) {
  return state ? String(state).toLowerCase() : 'none';
}

export function label(state) {
  const s = norm(state);
  return LABELS[s] || s.replace(/_/g, ' ');
}

/** The state that summarises a list of states (empty → null). */
export function summarize(states) {
  let best = null;
  let bestRank = Infinity;
  for (const raw of states) {
    const s = norm(raw);
    const r = RANK[s] ?? PRIORITY.length;
    if (r < bestRank) { best = s; bestRank = r; }
  }
  return best;
}

export const FINISHED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

/** A badge: coloured dot + word. */
export function badge(state, testid) {
  const s = norm(state);
  const t = testid ? ` data-testid="${testid}"` : '';
  return `<span class="badge s-${s}" data-state="${s}"${t}><i></i>${label(s)}</span>`;
}

/** The legend of every task state. */
export function legend(states = STATES) {
  return `<ul class="legend" data-testid="state-legend" aria-label="State legend">${
    states.map(s => `<li class="s-${s}"><i></i>${LABELS[s]}</li>`).join('')}</ul>`;
}
