import { TimeoutError } from '../errors.js';
import type { AttemptEndEvent, AttemptStartEvent } from '../events/events.js';
import { deadlineHeaderValue } from '../resilience/deadline.js';
import type { AttemptOutcome } from '../types.js';
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

const ATTEMPT_HEADER = 'x-rxhttp-attempt';

/** A header record as undici's flat `[name, value, …]` list, which it reads without walking an object. */
function pairsOf(record: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(record)) out.push(name, record[name]!);
  return out;
}

/**
 * The pairs of the records calls share (the client's, frozen): made once per record. Not frozen
 * themselves: `slice()` of a frozen array takes V8's slow path (~250 ns against ~20 ns), and only
 * undici, which reads them, ever sees them.
 */
const sharedPairs = new WeakMap<object, readonly string[]>();
let lastRecord: object | undefined;
let lastPairs: readonly string[] = [];

/** The pairs of a call's header record: shared records' from the cache, a call's own made anew. */
function basePairs(record: Readonly<Record<string, string>>): readonly string[] {
  if (record === lastRecord) return lastPairs;
  if (!Object.isFrozen(record)) return pairsOf(record);
  let pairs = sharedPairs.get(record);
  if (pairs === undefined) {
    pairs = pairsOf(record);
    sharedPairs.set(record, pairs);
  }
  lastRecord = record;
  lastPairs = pairs;
  return pairs;
}

/**
 * True when `record` (a call's headers, names lower-cased) has none of the names in `ours`, in any
 * case (B3's are `X-B3-TraceId` and the like).
 */
function noneOf(record: Readonly<Record<string, string>>, ours: Readonly<Record<string, string>>): boolean {
  for (const name of Object.keys(ours)) if (record[name.toLowerCase()] !== undefined) return false;
  return true;
}

/**
 * The headers an attempt sends, as undici's flat `[name, value, …]` list: the call's, plus
 * `x-rxhttp-attempt` from the second attempt on, the tracing headers made from its start event, and
 * the time left to `deadlineAt` when the client sends a deadline header. Ours win over the call's of
 * the same name. A call with the client's shared headers (most calls) starts from their pairs, made
 * once: no record is copied per attempt.
 */
export function attemptHeaders(
  rt: Runtime,
  spec: CallSpec,
  start: AttemptStartEvent,
  deadlineAt: number,
  now: number,
): string[] {
  const record = spec.headers;
  const deadlineHeader = rt.deadlineHeader;
  const attempt = start.attempt;
  const tracing = rt.attemptHeaders === undefined ? undefined : rt.attemptHeaders(start);
  if (
    (deadlineHeader === undefined || record[deadlineHeader] === undefined) &&
    (attempt === 1 || record[ATTEMPT_HEADER] === undefined) &&
    (tracing === undefined || noneOf(record, tracing))
  ) {
    const base = basePairs(record);
    // undici reads the list and never writes it: the shared one goes out as it is.
    if (attempt === 1 && deadlineHeader === undefined && tracing === undefined) return base as string[];
    const out = base.slice();
    if (attempt > 1) out.push(ATTEMPT_HEADER, String(attempt));
    if (tracing !== undefined) for (const name of Object.keys(tracing)) out.push(name, tracing[name]!);
    if (deadlineHeader !== undefined) out.push(deadlineHeader, deadlineHeaderValue(deadlineAt, now));
    return out;
  }
  // A call's own header of a name we set: merged as a record, ours last.
  const headers = Object.assign(Object.create(null) as Record<string, string>, record);
  if (attempt > 1) headers[ATTEMPT_HEADER] = String(attempt);
  if (tracing !== undefined)
    for (const name of Object.keys(tracing)) {
      delete headers[name.toLowerCase()];
      headers[name] = tracing[name]!;
    }
  if (deadlineHeader !== undefined) headers[deadlineHeader] = deadlineHeaderValue(deadlineAt, now);
  return pairsOf(headers);
}
