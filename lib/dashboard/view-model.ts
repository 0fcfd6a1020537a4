import type { BulkheadState } from '../client/bulkhead.js';
import type { ClientHealth, GroupHealth, HostHealthRow, TrafficHealth } from '../client/health.js';
import type { CallTimeline } from '../timeline.js';
import { slowCallView, type SlowCallView } from './timeline-view.js';

/** Error percentages where Hystrix's dashboard turns green, yellow, orange and red. */
const HYSTRIX_DOMAIN = [10, 25, 40, 50] as const;
const HYSTRIX_RANGE = [
  [0x00, 0x80, 0x00],
  [0xff, 0xcc, 0x00],
  [0xff, 0x99, 0x00],
  [0xff, 0x00, 0x00],
] as const;

/**
 * Colour of an error percentage as Hystrix's dashboard draws it: a linear scale through green at
 * 10 %, yellow at 25 %, orange at 40 % and red from 50 %, clamped at both ends.
 *
 * @example
 * ```ts
 * errorColor(0); // '#008000'
 * errorColor(60); // '#ff0000'
 * ```
 */
export function errorColor(percent: number): string {
  const p = Number.isFinite(percent) ? percent : 0;
  let i = 0;
  while (i < HYSTRIX_DOMAIN.length - 1 && p > HYSTRIX_DOMAIN[i + 1]!) i++;
  const lo = HYSTRIX_DOMAIN[i]!;
  const hi = HYSTRIX_DOMAIN[Math.min(i + 1, HYSTRIX_DOMAIN.length - 1)]!;
  const t = hi === lo ? 1 : Math.min(1, Math.max(0, (p - lo) / (hi - lo)));
  const a = HYSTRIX_RANGE[i]!;
  const b = HYSTRIX_RANGE[Math.min(i + 1, HYSTRIX_RANGE.length - 1)]!;
  return '#' + [0, 1, 2].map((k) => hex(a[k]! + (b[k]! - a[k]!) * t)).join('');
}

function hex(v: number): string {
  return Math.round(v).toString(16).padStart(2, '0');
}

const round = (v: number, digits = 1): number => {
  const f = 10 ** digits;
  return Number.isFinite(v) ? Math.round(v * f) / f : 0;
};

/** Traffic figures as the page shows them: rounded, with the error colour. */
export interface TrafficView {
  readonly callsPerSecond: number;
  readonly errorPercent: number;
  readonly errorColor: string;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly retriesPerSecond: number;
  readonly failFastPerSecond: number;
}

/** One host row. */
export interface HostView {
  readonly key: string;
  readonly weight: number;
  /** Worst state of the host's breakers; `'off'` when the client has `circuitBreaker: false`. */
  readonly breaker: 'closed' | 'open' | 'half-open' | 'off';
  /** How long the breaker has been in its state, ms. */
  readonly breakerForMs: number;
  /** Breakers of this host (one per custom key) and how many are open. */
  readonly breakerKeys: number;
  readonly openBreakers: number;
  /** Set while that breaker is under a manual override (`client.breakers.forceOpen(key)`, …). */
  readonly breakerForced?: 'open' | 'closed';
  readonly failurePercent: number;
  readonly total: number;
  readonly inFlight: number;
  /** What the host measured: attempt latency p50 / p99 over the window, ms. */
  readonly p50: number;
  readonly p99: number;
  /** The balancer's peak-EWMA cost, ms: a load score, not a latency. */
  readonly balancerCostMs: number;
  readonly ok: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly errorColor: string;
  /** Active health checks' verdict on the host; absent when the group has none. */
  readonly healthCheck?: 'passing' | 'failing' | 'unknown';
}

/** One group card. */
export interface GroupView extends TrafficView {
  readonly name: string;
  readonly sparkline: readonly number[];
  readonly hosts: readonly HostView[];
  /** The group's bulkhead: calls in progress, queued, and turned away with `OVERLOADED`; absent without one. */
  readonly bulkhead?: BulkheadState;
}

/** What `/events` sends and `/snapshot.json` returns: plain JSON, numbers rounded. */
export interface DashboardView extends TrafficView {
  /** Which client the totals belong to, when the view joins several. */
  readonly client?: string;
  readonly time: number;
  readonly windowMs: number;
  readonly groups: readonly GroupView[];
  /**
   * The last slow calls' timelines, newest first, when the dashboard follows the client's `events$`
   * (a `Client` has it); absent otherwise.
   */
  readonly slowCalls?: readonly SlowCallView[];
  /** The threshold those calls reached, ms (`slowCallMs`); set with `slowCalls`. */
  readonly slowCallMs?: number;
}

/** The slow calls a view shows: the threshold and the kept timelines, newest first. */
export interface SlowCallsSource {
  readonly thresholdMs: number;
  readonly calls: readonly CallTimeline[];
}

/** Each kept timeline's view, made once: a timeline is kept for many updates. */
const slowViews = new WeakMap<CallTimeline, SlowCallView>();

function slowView(t: CallTimeline): SlowCallView {
  let v = slowViews.get(t);
  if (v === undefined) slowViews.set(t, (v = slowCallView(t)));
  return v;
}

function trafficView(t: TrafficHealth): TrafficView {
  return {
    callsPerSecond: round(t.callsPerSecond),
    errorPercent: round(t.errorPercent),
    errorColor: errorColor(t.errorPercent),
    p50: round(t.latencyMs.p50),
    p90: round(t.latencyMs.p90),
    p99: round(t.latencyMs.p99),
    retriesPerSecond: round(t.retriesPerSecond),
    failFastPerSecond: round(t.failFastPerSecond),
  };
}

function hostView(h: HostHealthRow, now: number): HostView {
  const counted = h.ok + h.errors;
  return {
    key: h.key,
    weight: h.weight,
    breaker: h.breaker,
    breakerForMs: h.breakerSince > 0 ? Math.max(0, Math.round(now - h.breakerSince)) : 0,
    breakerKeys: h.breakerKeys,
    openBreakers: h.openBreakers,
    ...(h.breakerForced === undefined ? {} : { breakerForced: h.breakerForced }),
    failurePercent: round(100 * h.failureRate),
    total: h.total,
    inFlight: h.inFlight,
    p50: round(h.attemptLatencyMs.p50),
    p99: round(h.attemptLatencyMs.p99),
    balancerCostMs: round(h.balancerCostMs),
    ok: h.ok,
    errors: h.errors,
    timeouts: h.timeouts,
    errorColor: errorColor(counted === 0 ? 0 : (100 * h.errors) / counted),
    ...(h.healthCheck === undefined ? {} : { healthCheck: h.healthCheck }),
  };
}

function groupView(g: GroupHealth, now: number): GroupView {
  return {
    name: g.name,
    ...trafficView(g),
    sparkline: g.sparkline.map((v) => round(v)),
    hosts: g.hosts.map((h) => hostView(h, now)),
    ...(g.bulkhead === undefined ? {} : { bulkhead: { ...g.bulkhead } }),
  };
}

/**
 * The page's view of a health snapshot, with the slow calls when given. Pure; strings stay raw (the
 * page renders them as text).
 */
export function toDashboardView(h: ClientHealth, slow?: SlowCallsSource): DashboardView {
  return {
    ...(h.client === undefined ? {} : { client: h.client }),
    time: Math.round(h.time),
    windowMs: h.windowMs,
    ...trafficView(h),
    groups: h.groups.map((g) => groupView(g, h.time)),
    ...(slow === undefined ? {} : { slowCallMs: slow.thresholdMs, slowCalls: slow.calls.map(slowView) }),
  };
}
