import { TimeoutError } from '../errors.js';
import type { AttemptEndEvent, AttemptStartEvent } from '../events/events.js';
import { deadlineHeaderValue } from '../resilience/deadline.js';
import type { AttemptOutcome } from '../types.js';
import { NO_HEADERS } from './config.js';
import type { CallSpec } from './request.js';
import type { Runtime } from './runtime.js';

/**
 * The pure parts of one attempt that the fused `Call` and the composed chain's attempt step share:
 * its start and end events, and the headers it sends. Literal objects, one shape each, no spreads:
 * they are built on the hot path.
 */

/** Who an attempt goes to: what `pick` + the breaker gate decided. */
export interface AttemptTarget {
  readonly attempt: number;
  readonly address: AttemptOutcome['address'];
  readonly key: string;
  /** The breaker key ('' or the address key when there are no breakers). */
  readonly breakerKey: string;
  readonly breakerSkipped: string | undefined;
}

/** The attempt-start event of `target` at `now`; `hedgeDelay` for a hedge, the delay it waited. */
export function attemptStartEvent(
  spec: CallSpec,
  callId: number,
  target: AttemptTarget,
  now: number,
  hedgeDelay?: number,
): AttemptStartEvent {
  return {
    type: 'attempt-start',
    time: now,
    callId,
    group: spec.group.name,
    method: spec.method,
    attempt: target.attempt,
    address: target.address,
    key: target.key,
    breakerKey: target.breakerKey || target.key,
    path: spec.path,
    scheme: spec.group.protocol,
    breakerSkipped: target.breakerSkipped,
    hedge: hedgeDelay === undefined ? undefined : true,
    hedgeDelayMs: hedgeDelay,
  };
}

/**
 * The attempt-end event of `outcome` (ended at `now`) with the breaker's `verdict`; `lostTo`, for
 * a hedging loser, the attempt that answered first.
 */
export function attemptEndEvent(
  spec: CallSpec,
  callId: number,
  target: AttemptTarget,
  outcome: AttemptOutcome,
  now: number,
  cancelled: boolean,
  verdict: AttemptEndEvent['verdict'],
  headersMs: number | undefined,
  lostTo?: number,
): AttemptEndEvent {
  const { response, error } = outcome;
  // Absent fields are undefined rather than missing: same JSON, one object shape, no spreads.
  return {
    type: 'attempt-end',
    time: now,
    callId,
    group: spec.group.name,
    method: spec.method,
    attempt: outcome.attempt,
    address: outcome.address,
    key: target.key,
    breakerKey: target.breakerKey || target.key,
    durationMs: outcome.elapsedMs,
    status: response?.status,
    errorCode: error?.code,
    timeoutPhase: error instanceof TimeoutError ? error.phase : undefined,
    cancelled,
    verdict,
    scheme: spec.group.protocol,
    headersMs,
    lostTo,
  };
}

/**
 * The headers an attempt sends: the call's, plus `x-rxhttp-attempt` from the second attempt on,
 * the tracing headers made from its start event, and the time left to `deadlineAt` when the client
 * sends a deadline header. A first attempt without headers of its own gets a fresh literal (or the
 * shared empty record): no copy, no dictionary-mode record for undici to walk.
 */
export function attemptHeaders(
  rt: Runtime,
  spec: CallSpec,
  start: AttemptStartEvent,
  deadlineAt: number,
  now: number,
): Record<string, string> {
  let headers = spec.headers;
  const deadlineHeader = rt.deadlineHeader;
  const attempt = start.attempt;
  if (attempt === 1 && headers === NO_HEADERS) {
    if (rt.attemptHeaders) {
      headers = rt.attemptHeaders(start);
      if (deadlineHeader !== undefined) headers[deadlineHeader] = deadlineHeaderValue(deadlineAt, now);
    } else if (deadlineHeader !== undefined) {
      headers = { [deadlineHeader]: deadlineHeaderValue(deadlineAt, now) };
    }
  } else if (attempt > 1 || rt.attemptHeaders || deadlineHeader !== undefined) {
    headers = Object.assign(Object.create(null) as Record<string, string>, headers);
    if (attempt > 1) headers['x-rxhttp-attempt'] = String(attempt);
    if (rt.attemptHeaders) Object.assign(headers, rt.attemptHeaders(start));
    if (deadlineHeader !== undefined) headers[deadlineHeader] = deadlineHeaderValue(deadlineAt, now);
  }
  return headers;
}
