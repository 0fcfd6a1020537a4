import { Counter, Gauge, type Registry, type RegistryContentType } from 'prom-client';
import type { Observable, Subscription } from 'rxjs';
import { invalidArgument } from '../errors.js';
import type { AttemptEndEvent, AttemptStartEvent, CallEndEvent, CallEvent } from '../events/events.js';
import type { Address, BreakerSnapshot } from '../types.js';
import { labelSafe, methodLabel } from './redact.js';
import { onEvents } from '../events/bus.js';
import { LocalHistogram, record, type Series } from './local-histogram.js';

/**
 * Prometheus metrics as a subscriber of `client.events$`, named after the OpenTelemetry HTTP client
 * conventions. Label values are bounded: the method (standard ones, else `_OTHER`), host, port,
 * status, our lower-case error codes, and the group name or breaker key passed through
 * {@link labelSafe}. Paths, query strings and header values never become labels.
 */

/** OpenTelemetry's advice for `http.client.request.duration`, in seconds. */
export const ATTEMPT_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** Whole calls include back-off and retries under a 30 s default deadline, so the tail reaches 60 s. */
export const CALL_DURATION_BUCKETS: readonly number[] = [...ATTEMPT_DURATION_BUCKETS, 30, 60];

/** What a client lends the scrape-time gauges; read on every `registry.metrics()`. */
export interface MetricSources {
  breakerSnapshots(): ReadonlyMap<string, BreakerSnapshot>;
  groupAddressCounts(): ReadonlyMap<string, number>;
}

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** Marks metrics created by rxhttp, across copies of the package, so a second client reuses them. */
const BRAND = Symbol.for('rxhttp.metric');
/** The per-registry set of sources, stored on the gauges so every copy of rxhttp reads the same one. */
const SOURCES = Symbol.for('rxhttp.metricSources');
/** The per-registry in-flight counts, stored on the gauge for the same reason. */
const ACTIVE = Symbol.for('rxhttp.activeRequests');

type Branded = { [BRAND]?: true; [SOURCES]?: Set<MetricSources>; [ACTIVE]?: Map<string, ActiveCount> };

/** In-flight attempts of one label set: plain counters, published to the gauge at scrape time. */
interface ActiveCount {
  readonly labels: Record<(typeof ACTIVE_LABELS)[number], string>;
  n: number;
}

const ACTIVE_LABELS = ['http_request_method', 'server_address', 'server_port', 'rxhttp_group'] as const;
type AttemptLabels = Record<
  | 'http_request_method'
  | 'server_address'
  | 'server_port'
  | 'http_response_status_code'
  | 'error_type'
  | 'rxhttp_group',
  string
>;
type CallLabels = Record<'http_request_method' | 'rxhttp_group' | 'outcome', string>;

/** The metric family shared by every client attached to one registry. */
interface Metrics {
  readonly attemptDuration: LocalHistogram;
  readonly activeGauge: Gauge<(typeof ACTIVE_LABELS)[number]>;
  readonly callDuration: LocalHistogram;
  readonly retries: Counter<'reason' | 'rxhttp_group'>;
  readonly budgetRefusals: Counter<'rxhttp_group'>;
  readonly failFast: Counter<'rxhttp_group'>;
  readonly breakerState: Gauge<'rxhttp_breaker_key' | 'state'>;
  readonly transitions: Counter<'from' | 'to'>;
  readonly groupAddresses: Gauge<'rxhttp_group'>;
  readonly resolverErrors: Counter<'rxhttp_group'>;
  readonly sources: Set<MetricSources>;
  /** Attempts that ended in an error or cancelled, or whose start this client never saw. */
  readonly attemptSeries: Map<string, Series>;
  /** Counted here and copied into the gauge by its `collect()`: a gauge `inc()` costs ten times more. */
  readonly active: Map<string, ActiveCount>;
  /** Hot path: found on attempt-start by address object and method, kept until the attempt ends. */
  readonly slots: WeakMap<Address, Map<string, AttemptSlot>>;
  /** Hot path: by group name, then method. */
  readonly callSeries: Map<string, Map<string, CallSlot>>;
}

const cache = new WeakMap<Registry<RegistryContentType>, Metrics>();

/**
 * Records the client's events into `registry` until the returned subscription is unsubscribed (or
 * `events$` completes, as it does on `client.close()`).
 *
 * Several clients may attach to one registry: the metrics are created once per registry and shared,
 * and the scrape-time gauges (`rxhttp_circuit_breaker_state`, `rxhttp_group_addresses`) read every
 * attached client's `sources`. When two clients report the same breaker key, a state series is 1 if
 * any of them is in that state; when they report the same group, the largest address count wins.
 * Attempts still in flight at unsubscribe are taken off `http_client_active_requests`.
 *
 * Cancelled attempts are observed in `http_client_request_duration_seconds` too, with their error code
 * (`aborted` when none), because the time was spent and a connection was held; filter on `error_type`
 * to leave them out.
 *
 * @throws XhttpError `INVALID_ARGUMENT` when the registry already holds a metric of the same name that
 *   rxhttp did not create.
 * @example
 * ```ts
 * const registry = new Registry();
 * const sub = attachMetrics(client.events$, registry, {
 *   breakerSnapshots: () => latestBreakers,
 *   groupAddressCounts: () => new Map([['users', 3]]),
 * });
 * ```
 */
export function attachMetrics(
  events$: Observable<CallEvent>,
  registry: Registry<RegistryContentType>,
  sources: MetricSources,
): Subscription {
  const m = metricsFor(registry);
  m.sources.add(sources);
  /**
   * In-flight attempts of this client by call id (a call's attempts are sequential), so attempt-end
   * finds its counter and unsubscribe can undo what never ended.
   */
  const inFlight = new Map<number, AttemptSlot>();

  const subscription = onEvents(events$, (ev) => {
    switch (ev.type) {
      case 'attempt-start': {
        // A start without an end (never expected) must not leak a count.
        const previous = inFlight.get(ev.callId);
        if (previous !== undefined) previous.active.n--;
        const slot = attemptSlot(m, ev);
        slot.active.n++;
        inFlight.set(ev.callId, slot);
        break;
      }
      case 'attempt-end': {
        const slot = inFlight.get(ev.callId);
        let series: Series | undefined;
        if (slot !== undefined) {
          inFlight.delete(ev.callId);
          slot.active.n--;
          // The common end, a status and no error, found by the status alone.
          if (ev.errorCode === undefined && !ev.cancelled && ev.status !== undefined) {
            series = slot.byStatus.get(ev.status);
            if (series === undefined) slot.byStatus.set(ev.status, (series = attemptSeries(m, ev)));
          }
        }
        record(series ?? attemptSeries(m, ev), ev.durationMs / 1000);
        break;
      }
      case 'call-end':
        record(callSeries(m, ev), ev.durationMs / 1000);
        break;
      case 'retry-scheduled':
        m.retries.inc({ reason: ev.reason, rxhttp_group: labelSafe(ev.group) });
        break;
      case 'retry-refused':
        if (ev.reason === 'budget') m.budgetRefusals.inc({ rxhttp_group: labelSafe(ev.group) });
        break;
      case 'fail-fast':
        m.failFast.inc({ rxhttp_group: labelSafe(ev.group) });
        break;
      case 'breaker-transition':
        m.transitions.inc({ from: ev.from, to: ev.to });
        break;
      case 'resolver-error':
        m.resolverErrors.inc({ rxhttp_group: labelSafe(ev.group) });
        break;
      default:
        break;
    }
  });
  subscription.add(() => {
    m.sources.delete(sources);
    for (const slot of inFlight.values()) slot.active.n--;
    inFlight.clear();
  });
  return subscription;
}

/** `error_type`: our lower-case code, else the status of a 5xx, else empty. */
function errorType(ev: AttemptEndEvent): string {
  if (ev.errorCode !== undefined) return ev.errorCode.toLowerCase();
  if (ev.cancelled) return 'aborted';
  if (ev.status !== undefined && ev.status >= 500) return String(ev.status);
  return '';
}

function attemptSeries(m: Metrics, ev: AttemptEndEvent): Series {
  const status = ev.status === undefined ? '' : String(ev.status);
  const error = errorType(ev);
  // The event's method, not its label: the label is computed once, on a miss.
  const key = `${ev.method}\0${ev.key}\0${ev.group}\0${status}\0${error}`;
  let series = m.attemptSeries.get(key);
  if (series === undefined) {
    series = m.attemptDuration.series<AttemptLabels>({
      http_request_method: methodLabel(ev.method),
      server_address: ev.address.host,
      server_port: String(ev.address.port),
      http_response_status_code: status,
      error_type: error,
      rxhttp_group: labelSafe(ev.group),
    });
    remember(m.attemptSeries, key, series);
  }
  return series;
}

/** What an attempt-start finds for its method, address and group, kept until its attempt-end. */
interface AttemptSlot {
  readonly group: string;
  readonly active: ActiveCount;
  /** The attempt series of this slot by status, for attempts that ended without an error. */
  readonly byStatus: Map<number, Series>;
}

/**
 * Found by the address object (the balancer hands out the same one for every attempt on that address;
 * a re-resolved list drops its entries with it) and the method, so no key string is built and hashed
 * per attempt. An address object shared by two groups only costs a new slot when the group changes:
 * slots point at shared counters and series, so two slots for one label set count as one.
 */
function attemptSlot(m: Metrics, ev: AttemptStartEvent): AttemptSlot {
  let byMethod = m.slots.get(ev.address);
  if (byMethod === undefined) m.slots.set(ev.address, (byMethod = new Map()));
  let slot = byMethod.get(ev.method);
  if (slot === undefined || slot.group !== ev.group) {
    slot = { group: ev.group, active: activeCount(m, ev), byStatus: new Map() };
    remember(byMethod, ev.method, slot);
  }
  return slot;
}

function activeCount(m: Metrics, ev: AttemptStartEvent): ActiveCount {
  const key = `${methodLabel(ev.method)}\0${ev.key}\0${ev.group}`;
  let count = m.active.get(key);
  if (count === undefined) {
    count = {
      labels: {
        http_request_method: methodLabel(ev.method),
        server_address: ev.address.host,
        server_port: String(ev.address.port),
        rxhttp_group: labelSafe(ev.group),
      },
      n: 0,
    };
    m.active.set(key, count);
  }
  return count;
}

/** Call series of one group and method, by outcome. */
type CallSlot = { [O in CallEndEvent['outcome']]?: Series };

/** Two lookups by strings the client reuses on every call (group name, method): none is built. */
function callSeries(m: Metrics, ev: CallEndEvent): Series {
  let byMethod = m.callSeries.get(ev.group);
  if (byMethod === undefined) remember(m.callSeries, ev.group, (byMethod = new Map()));
  let slot = byMethod.get(ev.method);
  if (slot === undefined) remember(byMethod, ev.method, (slot = {}));
  let series = slot[ev.outcome];
  if (series === undefined) {
    series = slot[ev.outcome] = m.callDuration.series<CallLabels>({
      http_request_method: methodLabel(ev.method),
      rxhttp_group: labelSafe(ev.group),
      outcome: ev.outcome,
    });
  }
  return series;
}

/**
 * The lookup caches only save work: past this many keys (hosts churning under DNS for weeks, callers
 * inventing methods) a cache starts over rather than grow without bound; the histogram keeps its
 * series either way.
 */
const MAX_CACHED_KEYS = 10_000;

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MAX_CACHED_KEYS) cache.clear();
  cache.set(key, value);
}

/** Whether every metric of `m` is still the one registered under its name (`clear()` drops them all). */
function stillRegistered(registry: Registry<RegistryContentType>, m: Metrics): boolean {
  const own: readonly (readonly [string, object])[] = [
    ['http_client_request_duration_seconds', m.attemptDuration],
    ['http_client_active_requests', m.activeGauge],
    ['rxhttp_call_duration_seconds', m.callDuration],
    ['rxhttp_retries_total', m.retries],
    ['rxhttp_retry_budget_refusals_total', m.budgetRefusals],
    ['rxhttp_fail_fast_total', m.failFast],
    ['rxhttp_circuit_breaker_state', m.breakerState],
    ['rxhttp_circuit_breaker_transitions_total', m.transitions],
    ['rxhttp_group_addresses', m.groupAddresses],
    ['rxhttp_resolver_errors_total', m.resolverErrors],
  ];
  return own.every(([name, metric]) => registry.getSingleMetric(name) === metric);
}

function metricsFor(registry: Registry<RegistryContentType>): Metrics {
  const cached = cache.get(registry);
  // Once per attach: after `registry.clear()` (or a removed metric) the family is registered anew.
  if (cached !== undefined && stillRegistered(registry, cached)) return cached;
  const registers = [registry];

  // Found on the registry but not in our cache: another copy of rxhttp created it; share its sources.
  const existingState = registry.getSingleMetric('rxhttp_circuit_breaker_state') as Branded | undefined;
  const sources = existingState?.[SOURCES] ?? new Set<MetricSources>();
  const existingActive = registry.getSingleMetric('http_client_active_requests') as Branded | undefined;
  const active = existingActive?.[ACTIVE] ?? new Map<string, ActiveCount>();

  const m: Metrics = {
    attemptDuration: sharedHistogram(
      registry,
      'http_client_request_duration_seconds',
      'Duration of HTTP client attempts (one per request sent on the wire).',
      ATTEMPT_DURATION_BUCKETS,
    ),
    activeGauge: shared(
      registry,
      'http_client_active_requests',
      (name) =>
        new Gauge({
          name,
          help: 'HTTP client attempts in flight.',
          labelNames: ACTIVE_LABELS,
          registers,
          collect() {
            for (const count of active.values()) this.set(count.labels, count.n);
          },
        }),
    ),
    callDuration: sharedHistogram(
      registry,
      'rxhttp_call_duration_seconds',
      'Duration of whole rxhttp calls, retries and back-off included.',
      CALL_DURATION_BUCKETS,
    ),
    retries: shared(
      registry,
      'rxhttp_retries_total',
      (name) =>
        new Counter({
          name,
          help: 'Retries scheduled, by what failed (status or error code).',
          labelNames: ['reason', 'rxhttp_group'] as const,
          registers,
        }),
    ),
    budgetRefusals: shared(
      registry,
      'rxhttp_retry_budget_refusals_total',
      (name) =>
        new Counter({
          name,
          help: 'Retries the policy wanted but the retry budget refused.',
          labelNames: ['rxhttp_group'] as const,
          registers,
        }),
    ),
    failFast: shared(
      registry,
      'rxhttp_fail_fast_total',
      (name) =>
        new Counter({
          name,
          help: 'Calls failed at once because every candidate circuit breaker was open.',
          labelNames: ['rxhttp_group'] as const,
          registers,
        }),
    ),
    breakerState: shared(
      registry,
      'rxhttp_circuit_breaker_state',
      (name) =>
        new Gauge({
          name,
          help: 'Circuit breaker state: 1 for the current state of each breaker key, 0 for the others.',
          labelNames: ['rxhttp_breaker_key', 'state'] as const,
          registers,
          collect() {
            this.reset();
            const seen = new Map<string, Set<string>>();
            for (const source of sources) {
              for (const [key, snapshot] of readSafely(() => source.breakerSnapshots())) {
                const label = labelSafe(key);
                let states = seen.get(label);
                if (states === undefined) seen.set(label, (states = new Set()));
                states.add(snapshot.state);
              }
            }
            for (const [label, states] of seen) {
              for (const state of BREAKER_STATES) {
                this.set({ rxhttp_breaker_key: label, state }, states.has(state) ? 1 : 0);
              }
            }
          },
        }),
    ),
    transitions: shared(
      registry,
      'rxhttp_circuit_breaker_transitions_total',
      (name) =>
        new Counter({
          name,
          help: 'Circuit breaker state transitions.',
          labelNames: ['from', 'to'] as const,
          registers,
        }),
    ),
    groupAddresses: shared(
      registry,
      'rxhttp_group_addresses',
      (name) =>
        new Gauge({
          name,
          help: 'Addresses currently resolved for each group.',
          labelNames: ['rxhttp_group'] as const,
          registers,
          collect() {
            this.reset();
            const counts = new Map<string, number>();
            for (const source of sources) {
              for (const [group, count] of readSafely(() => source.groupAddressCounts())) {
                const label = labelSafe(group);
                counts.set(label, Math.max(count, counts.get(label) ?? 0));
              }
            }
            for (const [label, count] of counts) this.set({ rxhttp_group: label }, count);
          },
        }),
    ),
    resolverErrors: shared(
      registry,
      'rxhttp_resolver_errors_total',
      (name) =>
        new Counter({
          name,
          help: 'Resolver failures (the last good address list was kept).',
          labelNames: ['rxhttp_group'] as const,
          registers,
        }),
    ),
    sources,
    attemptSeries: new Map(),
    active,
    slots: new WeakMap(),
    callSeries: new Map(),
  };
  (m.breakerState as Branded)[SOURCES] = sources;
  (m.groupAddresses as Branded)[SOURCES] = sources;
  (m.activeGauge as Branded)[ACTIVE] = active;
  cache.set(registry, m);
  return m;
}

/** The registry's metric of that name if rxhttp made it, else a new one; never a double registration. */
function shared<M extends object>(
  registry: Registry<RegistryContentType>,
  name: string,
  create: (name: string) => M,
): M {
  const existing = registry.getSingleMetric(name) as (Branded & object) | undefined;
  if (existing !== undefined) {
    if (existing[BRAND] !== true) {
      throw invalidArgument(
        'metrics.registry',
        `metric ${name} is already registered by something other than rxhttp`,
      );
    }
    return existing as M;
  }
  const metric = create(name);
  (metric as Branded)[BRAND] = true;
  return metric;
}

/** {@link shared} for a {@link LocalHistogram}; one made by an older rxhttp (a prom-client one) is refused. */
function sharedHistogram(
  registry: Registry<RegistryContentType>,
  name: string,
  help: string,
  upperBounds: readonly number[],
): LocalHistogram {
  const histogram = shared(registry, name, () => new LocalHistogram(registry, name, help, upperBounds));
  if (typeof (histogram as Partial<LocalHistogram>).series !== 'function') {
    throw invalidArgument('metrics.registry', `metric ${name} was registered by an incompatible rxhttp`);
  }
  return histogram;
}

/** A scrape must not fail because one client's source threw (e.g. mid-close): that client is skipped. */
function readSafely<K, V>(read: () => ReadonlyMap<K, V>): ReadonlyMap<K, V> {
  try {
    return read();
  } catch {
    return new Map();
  }
}
