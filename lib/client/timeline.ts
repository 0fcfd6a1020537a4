import type {
  AttemptEndEvent,
  AttemptStartEvent,
  CallEndEvent,
  CallEvent,
  CallStartEvent,
  HedgeRefusedEvent,
  RetryRefusedEvent,
} from '../events/events.js';
import type {
  CallTimeline,
  TimelineAttempt,
  TimelineEntry,
  TimelineHedgeRefused,
  TimelineRetryRefused,
} from '../timeline.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The events one call emitted, kept by reference so its {@link CallTimeline} can be folded on first
 * read. The common call (one attempt) keeps them in four fields, with no array; only a call with
 * more to tell (a retry, a refusal, a fail-fast) grows a list. Held by the response and the error,
 * not the call: reading a timeline keeps neither the request body nor the subscriber alive.
 *
 * Order is the order of emission: call-start, the first attempt's start and end, then the rest,
 * then call-end (once anything lands in the rest, everything after it does too).
 */
export class CallLog {
  #start: CallStartEvent | undefined = undefined;
  #firstStart: AttemptStartEvent | undefined = undefined;
  #firstEnd: AttemptEndEvent | undefined = undefined;
  #rest: CallEvent[] | undefined = undefined;
  #end: CallEndEvent | undefined = undefined;
  #folded: CallTimeline | undefined = undefined;

  constructor(readonly timeoutMs: number) {}

  /** Keeps `e` (an event this call emitted). */
  record(e: CallEvent): void {
    const type = e.type;
    if (type === 'call-start') this.#start = e;
    else if (type === 'call-end') this.#end = e;
    else if (this.#rest !== undefined) this.#rest.push(e);
    else if (type === 'attempt-start' && this.#firstStart === undefined) this.#firstStart = e;
    else if (type === 'attempt-end' && this.#firstEnd === undefined) this.#firstEnd = e;
    else this.#rest = [e];
  }

  /** The call's timeline as of now; folded once the call has ended, then kept. */
  get timeline(): CallTimeline {
    const done = this.#folded;
    if (done !== undefined) return done;
    const events: CallEvent[] = [];
    if (this.#firstStart !== undefined) events.push(this.#firstStart);
    if (this.#firstEnd !== undefined) events.push(this.#firstEnd);
    if (this.#rest !== undefined) events.push(...this.#rest);
    // Every call emits call-start before anything else, so a response or error always has it.
    const t = foldTimeline(this.#start!, events, this.#end, this.timeoutMs);
    if (this.#end !== undefined) this.#folded = t;
    return t;
  }
}

/**
 * Folds a call's events into its timeline: each attempt-start opens an attempt entry that its
 * attempt-end closes (matched by attempt number, so concurrent attempts fit), and every decision
 * becomes an entry where it happened. Pure: the same events give the same timeline.
 */
export function foldTimeline(
  start: CallStartEvent,
  events: readonly CallEvent[],
  end: CallEndEvent | undefined,
  timeoutMs: number,
): CallTimeline {
  const t0 = start.time;
  const entries: TimelineEntry[] = [];
  const open = new Map<number, Mutable<TimelineAttempt>>();
  for (const e of events) {
    switch (e.type) {
      case 'attempt-start': {
        if (e.breakerSkipped !== undefined)
          entries.push({
            kind: 'breaker-skip',
            atMs: e.time - t0,
            attempt: e.attempt,
            breakerKey: e.breakerSkipped,
          });
        if (e.hedge === true)
          entries.push({
            kind: 'hedge',
            atMs: e.time - t0,
            attempt: e.attempt,
            delayMs: e.hedgeDelayMs ?? 0,
          });
        const a: Mutable<TimelineAttempt> = {
          kind: 'attempt',
          attempt: e.attempt,
          atMs: e.time - t0,
          address: e.address,
          key: e.key,
          outcome: 'in-flight',
        };
        if (e.hedge === true) a.hedge = true;
        open.set(e.attempt, a);
        entries.push(a);
        break;
      }
      case 'attempt-end': {
        const a = open.get(e.attempt);
        if (a === undefined) break;
        open.delete(e.attempt);
        a.endMs = e.time - t0;
        a.outcome = e.cancelled ? 'cancelled' : e.errorCode !== undefined ? 'error' : 'response';
        if (e.status !== undefined) a.status = e.status;
        if (e.errorCode !== undefined) a.errorCode = e.errorCode;
        if (e.timeoutPhase !== undefined) a.timeoutPhase = e.timeoutPhase;
        a.verdict = e.verdict;
        if (e.lostTo !== undefined) a.lostTo = e.lostTo;
        break;
      }
      case 'retry-scheduled':
        entries.push({
          kind: 'retry',
          atMs: e.time - t0,
          attempt: e.attempt,
          delayMs: e.delayMs,
          delayReason: e.delayReason,
          reason: e.reason,
        });
        break;
      case 'retry-refused':
      case 'hedge-refused':
        entries.push(refusal(e, t0));
        break;
      case 'fail-fast':
        entries.push({ kind: 'fail-fast', atMs: e.time - t0, attempt: e.attempt });
        break;
      default:
        break;
    }
  }
  const timeline: Mutable<CallTimeline> = {
    callId: start.callId,
    group: start.group,
    method: start.method,
    path: start.path,
    start: t0,
    timeoutMs,
    durationMs: end?.durationMs,
    outcome: end?.outcome ?? 'in-flight',
    entries,
  };
  if (end?.status !== undefined) timeline.status = end.status;
  if (end?.errorCode !== undefined) timeline.errorCode = end.errorCode;
  return timeline;
}

/** The timeline entry of a retry or hedge the call wanted and did not make. */
function refusal(
  e: RetryRefusedEvent | HedgeRefusedEvent,
  t0: number,
): TimelineRetryRefused | TimelineHedgeRefused {
  const atMs = e.time - t0;
  const r: Mutable<TimelineRetryRefused> | Mutable<TimelineHedgeRefused> =
    e.type === 'retry-refused'
      ? { kind: e.type, atMs, attempt: e.attempt, reason: e.reason }
      : { kind: e.type, atMs, attempt: e.attempt, reason: e.reason };
  if (e.expectedMs !== undefined) r.expectedMs = e.expectedMs;
  if (e.remainingMs !== undefined) r.remainingMs = e.remainingMs;
  return r;
}
