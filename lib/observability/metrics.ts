import type { Registry, RegistryContentType } from 'prom-client';
import type { Observable, Subscription } from 'rxjs';
import type { AttemptEndEvent, AttemptStartEvent, CallEndEvent, CallEvent } from '../events/events.js';
import { labelSafe, methodLabel } from './redact.js';
import { onEvents } from '../events/bus.js';
import { record, type Series } from './local-histogram.js';
import {
  metricsFor,
  type ActiveCount,
  type AttemptSlot,
  type MetricSources,
  type Metrics,
} from './metric-family.js';

export { ATTEMPT_DURATION_BUCKETS, CALL_DURATION_BUCKETS, type MetricSources } from './metric-family.js';

/**
 * Prometheus metrics as a subscriber of `client.events$`, named and labelled after the OpenTelemetry
 * HTTP client conventions (`http.client.request.duration`, `http.client.active_requests`), plus
 * `rxhttp_group`, which is ours. Label values are bounded: the method (standard ones, else `_OTHER`),
 * `url_scheme` (`http`, `https`), host, port, status, `error_type` (see {@link errorType}), and the
 * group name or breaker key passed through {@link labelSafe}. Paths, query strings and header values
 * never become labels.
 */

type AttemptLabels = Record<
  | 'http_request_method'
  | 'server_address'
  | 'server_port'
  | 'http_response_status_code'
  | 'error_type'
  | 'url_scheme'
  | 'rxhttp_group',
  string
>;
type CallLabels = Record<'http_request_method' | 'rxhttp_group' | 'outcome', string>;

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
 * Cancelled attempts are observed in `http_client_request_duration_seconds` too, because the time was
 * spent and a connection was held, with an empty `error_type`: a cancellation is not an error. A
 * streamed response's attempt is observed when its body ends, so its duration includes the body.
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
   * In-flight attempts of this client by (call, attempt) — a hedged call has several at once — so
   * attempt-end finds its counter and unsubscribe can undo what never ended.
   */
  const inFlight = new Map<number, AttemptSlot>();

  const subscription = onEvents(events$, (ev) => {
    switch (ev.type) {
      case 'attempt-start': {
        // A start without an end (never expected) must not leak a count.
        const previous = inFlight.get(attemptKey(ev));
        if (previous !== undefined) previous.active.n--;
        const slot = attemptSlot(m, ev);
        slot.active.n++;
        inFlight.set(attemptKey(ev), slot);
        if (ev.hedge === true) m.hedges.inc({ rxhttp_group: labelSafe(ev.group) });
        break;
      }
      case 'attempt-end': {
        const slot = inFlight.get(attemptKey(ev));
        let series: Series | undefined;
        if (slot !== undefined) {
          inFlight.delete(attemptKey(ev));
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
        if (ev.errorCode === 'OVERLOADED') m.overloaded.inc({ rxhttp_group: labelSafe(ev.group) });
        break;
      case 'retry-scheduled':
        m.retries.inc({ reason: ev.reason, rxhttp_group: labelSafe(ev.group) });
        break;
      case 'retry-refused':
        if (ev.reason === 'budget') m.budgetRefusals.inc({ rxhttp_group: labelSafe(ev.group) });
        break;
      case 'hedge-refused':
        m.hedgeRefusals.inc({ reason: ev.reason, rxhttp_group: labelSafe(ev.group) });
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

/**
 * `error_type`, as the OpenTelemetry HTTP client conventions have `error.type`: empty for a cancelled
 * attempt (not an error) and for a success; our error code in lower case for a failure without a
 * usable response, or after it (a streamed body that failed: `reset`, `timeout`, `response_too_large`,
 * `protocol`, …); else the status as a string for 4xx and 5xx, which client spans treat as errors.
 * At most the nine error codes and the statuses 400–999: bounded.
 */
function errorType(ev: AttemptEndEvent): string {
  if (ev.cancelled) return '';
  if (ev.errorCode !== undefined) return ev.errorCode.toLowerCase();
  if (ev.status !== undefined && ev.status >= 400) return String(ev.status);
  return '';
}

function attemptSeries(m: Metrics, ev: AttemptEndEvent): Series {
  const status = ev.status === undefined ? '' : String(ev.status);
  const error = errorType(ev);
  // The event's method, not its label: the label is computed once, on a miss.
  const scheme = ev.scheme ?? 'http';
  const key = `${ev.method}\0${scheme}\0${ev.key}\0${ev.group}\0${status}\0${error}`;
  let series = m.attemptSeries.get(key);
  if (series === undefined) {
    series = m.attemptDuration.series<AttemptLabels>({
      http_request_method: methodLabel(ev.method),
      server_address: ev.address.host,
      server_port: String(ev.address.port),
      http_response_status_code: status,
      error_type: error,
      url_scheme: scheme,
      rxhttp_group: labelSafe(ev.group),
    });
    remember(m.attemptSeries, key, series);
  }
  return series;
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
  // A slot per method, group and scheme: the same address object may serve two groups.
  if (slot === undefined || slot.group !== ev.group || slot.scheme !== (ev.scheme ?? 'http')) {
    slot = { group: ev.group, scheme: ev.scheme ?? 'http', active: activeCount(m, ev), byStatus: new Map() };
    remember(byMethod, ev.method, slot);
  }
  return slot;
}

function activeCount(m: Metrics, ev: AttemptStartEvent): ActiveCount {
  const scheme = ev.scheme ?? 'http';
  const key = `${methodLabel(ev.method)}\0${scheme}\0${ev.key}\0${ev.group}`;
  let count = m.active.get(key);
  if (count === undefined) {
    count = {
      labels: {
        http_request_method: methodLabel(ev.method),
        server_address: ev.address.host,
        server_port: String(ev.address.port),
        url_scheme: scheme,
        rxhttp_group: labelSafe(ev.group),
      },
      n: 0,
    };
    m.active.set(key, count);
  }
  return count;
}

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

/** One number per (call, attempt): attempt numbers stay below 1 024 (100 rounds of 5 at most). */
function attemptKey(ev: { readonly callId: number; readonly attempt: number }): number {
  return ev.callId * 1024 + ev.attempt;
}
