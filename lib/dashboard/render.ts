import type { DashboardView, GroupView, HostView, TrafficView } from './view-model.js';

/**
 * The page's markup for one view, rendered on the server so the first HTML response already shows
 * the current snapshot (groups, host rows, totals) before any script runs or any event arrives.
 * The browser script then renders the same markup from each `/events` message. Every value goes
 * through {@link escape}: a group or host name holding markup shows as text.
 */

const COLOR = /^#[0-9a-f]{6}$/;
const BREAKERS = new Set(['closed', 'open', 'half-open', 'off']);
const FORCED = new Set(['open', 'closed']);

/** Escapes text for an element body or a double-quoted attribute. */
export function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const fixed = (v: unknown): string => {
  const n = num(v);
  return n >= 100 ? String(Math.round(n)) : n.toFixed(1);
};
const ms = (v: unknown): string => `${fixed(v)} ms`;

/** A duration as the page shows it: whole seconds, minutes or hours. */
export function duration(msValue: number): string {
  const s = num(msValue) / 1000;
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

const styleColor = (c: unknown): string =>
  typeof c === 'string' && COLOR.test(c) ? ` style="color:${c}"` : '';

function stat(label: string, value: string, color?: string): string {
  return `<div class="stat"><span class="label">${escape(label)}</span><span class="value"${styleColor(color)}>${escape(value)}</span></div>`;
}

/** The seven traffic figures, as in the header and on each card. */
function traffic(t: TrafficView): string {
  return [
    stat('calls/s', fixed(t.callsPerSecond)),
    stat('error %', `${fixed(t.errorPercent)} %`, t.errorColor),
    stat('p50', ms(t.p50)),
    stat('p90', ms(t.p90)),
    stat('p99', ms(t.p99)),
    stat('retries/s', fixed(t.retriesPerSecond)),
    stat('fail-fast/s', fixed(t.failFastPerSecond)),
  ].join('');
}

function sparkline(values: readonly number[]): string {
  const w = 200;
  const h = 40;
  const list = values.map(num);
  const max = Math.max(1, ...list);
  const step = list.length > 1 ? w / (list.length - 1) : w;
  const points = list.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`);
  return (
    `<div class="spark"><svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none"><polyline points="${points.join(' ')}"></polyline></svg>` +
    `<div class="caption">p90 per second, last ${list.length} s (max ${escape(ms(max))})</div></div>`
  );
}

/** Column heads of the host table; the script uses the same (see `assets/script.ts`). */
export const HOST_COLUMNS: readonly (readonly [label: string, title: string])[] = [
  ['host', 'host:port'],
  ['weight', 'balancing weight'],
  ['breaker', 'worst state of the host’s breakers (with a custom key: open / all keys)'],
  ['since', 'time in that state'],
  ['fail %', 'failure rate in the breaker window'],
  ['window', 'attempts in the breaker window'],
  ['in flight', 'attempts in flight'],
  ['p50', 'attempt latency the host measured, p50 over the window'],
  ['p99', 'attempt latency the host measured, p99 over the window'],
  ['lb cost', 'the balancer’s peak-EWMA cost: a load score (latency × in flight), not a latency'],
  ['ok / err / t-o', 'recent attempts: ok, errors, timeouts'],
];

/**
 * The breaker cell's text: the state, with several keys how many are open, and `(forced)` while a
 * manual override holds (`open (forced)`).
 */
export function breakerLabel(
  h: Pick<HostView, 'breaker' | 'breakerKeys' | 'openBreakers' | 'breakerForced'>,
): string {
  const label = h.breakerKeys > 1 ? `${h.breaker} ${h.openBreakers}/${h.breakerKeys}` : h.breaker;
  return FORCED.has(String(h.breakerForced)) ? `${label} (forced)` : label;
}

function hostRow(h: HostView): string {
  const state = BREAKERS.has(h.breaker) ? h.breaker : 'closed';
  const forced = FORCED.has(String(h.breakerForced)) ? String(h.breakerForced) : '';
  const cells = [
    escape(h.key),
    escape(h.weight),
    `<span class="badge ${state}${forced ? ' forced' : ''}">${escape(breakerLabel({ ...h, breaker: state }))}</span>`,
    h.breakerForMs > 0 ? duration(h.breakerForMs) : '-',
    `<span${styleColor(h.errorColor)}>${fixed(h.failurePercent)} %</span>`,
    escape(num(h.total)),
    escape(num(h.inFlight)),
    ms(h.p50),
    ms(h.p99),
    ms(h.balancerCostMs),
    `${num(h.ok)} / ${num(h.errors)} / ${num(h.timeouts)}`,
  ];
  return (
    `<tr class="host breaker-${state}" data-key="${escape(h.key)}" data-breaker="${state}"${forced ? ` data-forced="${forced}"` : ''}>` +
    cells.map((c) => `<td>${c}</td>`).join('') +
    '</tr>'
  );
}

function card(g: GroupView): string {
  const head = HOST_COLUMNS.map(([l, t]) => `<th title="${escape(t)}">${escape(l)}</th>`).join('');
  return (
    `<section class="card" data-group="${escape(g.name)}"><h2>${escape(g.name)}</h2>` +
    `<div class="summary">${traffic(g)}${sparkline(g.sparkline)}</div>` +
    `<table><thead><tr>${head}</tr></thead><tbody>${g.hosts.map(hostRow).join('')}</tbody></table></section>`
  );
}

/** Markup of the header's totals: which client they belong to when the view joins several. */
export function totals(v: DashboardView): string {
  const of = v.client === undefined ? '' : `<span class="client">totals of ${escape(v.client)}</span>`;
  return of + traffic(v);
}

/** Markup of the groups area. */
export function groups(v: DashboardView): string {
  if (v.groups.length === 0)
    return '<p class="empty">No group yet: make a call, or client.register(name, group).</p>';
  return v.groups.map(card).join('');
}

/** The footer's line. */
export function footer(v: DashboardView): string {
  return `rates, error % and percentiles over the last ${escape(duration(v.windowMs))}; snapshot at ${escape(new Date(v.time).toISOString().slice(11, 19))} UTC`;
}
