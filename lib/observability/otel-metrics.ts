import type * as Api from '@opentelemetry/api';
import type { Observable, Subscription } from 'rxjs';
import { onEvents } from '../events/bus.js';
import type { AttemptEndEvent, AttemptStartEvent, CallEvent } from '../events/events.js';
import { labelSafe, methodLabel } from './redact.js';

/**
 * The bucket boundaries the HTTP semantic conventions advise for `http.client.request.duration`,
 * in seconds.
 */
export const HTTP_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/**
 * rxhttp's metrics through an OpenTelemetry `Meter`, as the stable HTTP client conventions name them:
 *
 * - `http.client.request.duration` (histogram, `s`, {@link HTTP_DURATION_BUCKETS} as advice): one
 *   sample per attempt (a retry or hedge is a request of its own), with `http.request.method`,
 *   `server.address`, `server.port`, `url.scheme`, `http.response.status_code` when a response came,
 *   and `error.type` for a failure (our error code in lower case, or the 4xx/5xx status); a cancelled
 *   attempt has no `error.type`.
 * - `http.client.active_requests` (up-down counter, `{request}`): attempts in flight, with the
 *   method, server and scheme.
 * - `rxhttp.retries` (`reason`, `rxhttp.group`), `rxhttp.retry_budget.refusals`, `rxhttp.fail_fast`,
 *   `rxhttp.hedges` (`rxhttp.group`), `rxhttp.hedge.refusals` (`reason`, `rxhttp.group`) and
 *   `rxhttp.breaker.transitions` (`from`, `to`): counters.
 *
 * No attribute holds a path, query or header value. Unsubscribing takes back the attempts still
 * counted as active.
 */
export function attachOtelMetrics(events$: Observable<CallEvent>, meter: Api.Meter): Subscription {
  const duration = meter.createHistogram('http.client.request.duration', {
    description: 'Duration of HTTP client requests.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...HTTP_DURATION_BUCKETS] },
  });
  const active = meter.createUpDownCounter('http.client.active_requests', {
    description: 'Number of active HTTP requests.',
    unit: '{request}',
  });
  const retries = meter.createCounter('rxhttp.retries', {
    description: 'Retries scheduled.',
    unit: '{retry}',
  });
  const refusals = meter.createCounter('rxhttp.retry_budget.refusals', {
    description: 'Retries the retry budget refused.',
    unit: '{retry}',
  });
  const failFast = meter.createCounter('rxhttp.fail_fast', {
    description: 'Attempts refused because every breaker of the group was open.',
    unit: '{attempt}',
  });
  const hedges = meter.createCounter('rxhttp.hedges', {
    description: 'Hedges sent: a second attempt while the first was still in flight.',
    unit: '{attempt}',
  });
  const hedgeRefusals = meter.createCounter('rxhttp.hedge.refusals', {
    description: 'Hedges the hedge option wanted but did not send, by reason.',
    unit: '{attempt}',
  });
  const transitions = meter.createCounter('rxhttp.breaker.transitions', {
    description: 'Circuit breaker state changes.',
    unit: '{transition}',
  });
  // The active-requests attributes of each attempt in flight, by (call, attempt): a hedged call has
  // several at once.
  const inFlight = new Map<number, Api.Attributes>();

  const subscription = onEvents(events$, (ev) => {
    switch (ev.type) {
      case 'attempt-start': {
        const previous = inFlight.get(attemptKey(ev));
        if (previous !== undefined) active.add(-1, previous);
        const attributes = serverAttributes(ev);
        inFlight.set(attemptKey(ev), attributes);
        active.add(1, attributes);
        if (ev.hedge === true) hedges.add(1, { 'rxhttp.group': labelSafe(ev.group) });
        break;
      }
      case 'attempt-end': {
        const started = inFlight.get(attemptKey(ev));
        if (started !== undefined) {
          inFlight.delete(attemptKey(ev));
          active.add(-1, started);
        }
        duration.record(ev.durationMs / 1000, endAttributes(ev));
        break;
      }
      case 'retry-scheduled':
        retries.add(1, { reason: ev.reason, 'rxhttp.group': labelSafe(ev.group) });
        break;
      case 'retry-refused':
        if (ev.reason === 'budget') refusals.add(1, { 'rxhttp.group': labelSafe(ev.group) });
        break;
      case 'hedge-refused':
        hedgeRefusals.add(1, { reason: ev.reason, 'rxhttp.group': labelSafe(ev.group) });
        break;
      case 'fail-fast':
        failFast.add(1, { 'rxhttp.group': labelSafe(ev.group) });
        break;
      case 'breaker-transition':
        transitions.add(1, { from: ev.from, to: ev.to });
        break;
      default:
        break;
    }
  });
  subscription.add(() => {
    for (const attributes of inFlight.values()) active.add(-1, attributes);
    inFlight.clear();
  });
  return subscription;
}

function serverAttributes(ev: AttemptStartEvent | AttemptEndEvent): Api.Attributes {
  return {
    'http.request.method': methodLabel(ev.method),
    'server.address': ev.address.host,
    'server.port': ev.address.port,
    'url.scheme': ev.scheme ?? 'http',
  };
}

function endAttributes(ev: AttemptEndEvent): Api.Attributes {
  const attributes = serverAttributes(ev);
  if (ev.status !== undefined) attributes['http.response.status_code'] = ev.status;
  if (ev.cancelled) return attributes;
  if (ev.errorCode !== undefined) attributes['error.type'] = ev.errorCode.toLowerCase();
  else if (ev.status !== undefined && ev.status >= 400) attributes['error.type'] = String(ev.status);
  return attributes;
}

/** One number per (call, attempt): attempt numbers stay below 1 024 (100 rounds of 5 at most). */
function attemptKey(ev: { readonly callId: number; readonly attempt: number }): number {
  return ev.callId * 1024 + ev.attempt;
}
