import { Counter, Gauge, type Registry, type RegistryContentType } from 'prom-client';
import { invalidArgument } from '../errors.js';
import type { CallEndEvent } from '../events/events.js';
import type { Address, BreakerSnapshot } from '../types.js';
import { labelSafe } from './redact.js';
import { LocalHistogram, type Series } from './local-histogram.js';

/**
 * The metric family rxhttp registers once per prom-client registry and every attached client shares:
 * the histograms, counters and scrape-time gauges, the sources those gauges read, and the lookup
 * caches of the hot path (used by `attachMetrics`). Shared across copies of rxhttp through branded metrics.
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
export interface ActiveCount {
  readonly labels: Record<(typeof ACTIVE_LABELS)[number], string>;
  n: number;
}

const ACTIVE_LABELS = [
  'http_request_method',
  'server_address',
  'server_port',
  'url_scheme',
  'rxhttp_group',
] as const;

/** Said in the help text of the two OpenTelemetry-named metrics, whose other labels are the conventions'. */
const GROUP_LABEL_NOTE =
  'rxhttp_group (the rxhttp address group) is an rxhttp label, not an OpenTelemetry one.';

/** The metric family shared by every client attached to one registry. */
export interface Metrics {
  readonly attemptDuration: LocalHistogram;
  readonly activeGauge: Gauge<(typeof ACTIVE_LABELS)[number]>;
  readonly callDuration: LocalHistogram;
  readonly retries: Counter<'reason' | 'rxhttp_group'>;
  readonly budgetRefusals: Counter<'rxhttp_group'>;
  readonly failFast: Counter<'rxhttp_group'>;
  readonly overloaded: Counter<'rxhttp_group'>;
  readonly hedges: Counter<'rxhttp_group'>;
  readonly hedgeRefusals: Counter<'reason' | 'rxhttp_group'>;
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

/** What an attempt-start finds for its method, address and group, kept until its attempt-end. */
export interface AttemptSlot {
  readonly group: string;
  readonly scheme: string;
  readonly active: ActiveCount;
  /** The attempt series of this slot by status, for attempts that ended without an error. */
  readonly byStatus: Map<number, Series>;
}

/** Call series of one group and method, by outcome. */
export type CallSlot = { [O in CallEndEvent['outcome']]?: Series };

/** Whether every metric of `m` is still the one registered under its name (`clear()` drops them all). */
function stillRegistered(registry: Registry<RegistryContentType>, m: Metrics): boolean {
  const own: readonly (readonly [string, object])[] = [
    ['http_client_request_duration_seconds', m.attemptDuration],
    ['http_client_active_requests', m.activeGauge],
    ['rxhttp_call_duration_seconds', m.callDuration],
    ['rxhttp_retries_total', m.retries],
    ['rxhttp_retry_budget_refusals_total', m.budgetRefusals],
    ['rxhttp_fail_fast_total', m.failFast],
    ['rxhttp_overloaded_total', m.overloaded],
    ['rxhttp_hedges_total', m.hedges],
    ['rxhttp_hedge_refusals_total', m.hedgeRefusals],
    ['rxhttp_circuit_breaker_state', m.breakerState],
    ['rxhttp_circuit_breaker_transitions_total', m.transitions],
    ['rxhttp_group_addresses', m.groupAddresses],
    ['rxhttp_resolver_errors_total', m.resolverErrors],
  ];
  return own.every(([name, metric]) => registry.getSingleMetric(name) === metric);
}

/**
 * The family registered on `registry`: made (and registered) on the first attach, shared after that,
 * registered anew when the registry dropped it; a family another copy of rxhttp made is adopted.
 *
 * @throws XhttpError `INVALID_ARGUMENT` when a metric of one of its names was made by someone else.
 * @example
 * ```ts
 * const m = metricsFor(registry);
 * m.sources.add(sources);
 * ```
 */
export function metricsFor(registry: Registry<RegistryContentType>): Metrics {
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
      'Duration of HTTP client attempts (one per request sent on the wire; a streamed one ends with its ' +
        'body). error_type: the status for 4xx/5xx, the lower-case rxhttp error code for failures, ' +
        `empty for successes and cancellations. ${GROUP_LABEL_NOTE}`,
      ATTEMPT_DURATION_BUCKETS,
    ),
    activeGauge: shared(
      registry,
      'http_client_active_requests',
      (name) =>
        new Gauge({
          name,
          help: `HTTP client attempts in flight (a streamed one until its body ends). ${GROUP_LABEL_NOTE}`,
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
    overloaded: shared(
      registry,
      'rxhttp_overloaded_total',
      (name) =>
        new Counter({
          name,
          help: "Calls failed at once with OVERLOADED: the group's bulkhead was full (maxConcurrentCalls and maxQueued).",
          labelNames: ['rxhttp_group'] as const,
          registers,
        }),
    ),
    hedges: shared(
      registry,
      'rxhttp_hedges_total',
      (name) =>
        new Counter({
          name,
          help: 'Hedges sent: a second attempt while the first was still in flight (the hedge option).',
          labelNames: ['rxhttp_group'] as const,
          registers,
        }),
    ),
    hedgeRefusals: shared(
      registry,
      'rxhttp_hedge_refusals_total',
      (name) =>
        new Counter({
          name,
          help: 'Hedges the hedge option wanted but did not send, by reason (budget, deadline-insufficient).',
          labelNames: ['reason', 'rxhttp_group'] as const,
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
