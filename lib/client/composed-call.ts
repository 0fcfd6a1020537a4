import type { Observable, SchedulerLike } from 'rxjs';
import { invalidArgument, XhttpError } from '../errors.js';
import type { CallEvent } from '../events/events.js';
import { CallScope, type EventSink } from '../operators/call-scope.js';
import type { HostBreakers, PickTarget } from '../operators/pick.js';
import type { RetryBackoffOptions } from '../operators/retry-backoff.js';
import { tracedWith } from '../operators/traced.js';
import type { Address, GroupLike, XResponse } from '../types.js';
import { attemptStep$, type StepScope } from './attempt-step.js';
import { fastestCandidateMs } from './deadline.js';
import type { CallSpec } from './request.js';
import type { Runtime } from './runtime.js';
import { CallLog } from './timeline.js';

/**
 * One call of `client.compose$`: the {@link CallScope} every stage shares, plus what the client
 * knows of the call — its group, the attempt step, its breakers as a pick sees them, its retry
 * options as `retryBackoff` takes them, its timeout.
 */
export class ComposedCall extends CallScope implements StepScope {
  /** The events of this call, folded into `response.timeline` / `error.timeline` when read. */
  readonly log: CallLog;
  /** The call's group (for `pick`). */
  readonly group: GroupLike;
  /** The client's breakers for this request, for `pick`; undefined when breakers are off. */
  readonly breakers: HostBreakers | undefined;
  /**
   * The call's `retry` options for `retryBackoff` (with `events: this`): `{ maxAttempts: 1 }`
   * without retry, which still makes the one transparent retry of a failure that reached no server.
   */
  readonly retry: RetryBackoffOptions<XResponse> & { readonly events: CallScope };
  /** The call's deadline, ms (`options.timeout`, else the client's `requestTimeout`). */
  readonly timeout: number;

  constructor(
    readonly rt: Runtime,
    readonly spec: CallSpec,
    sink: EventSink,
  ) {
    const log = new CallLog(spec.timeout);
    const bus = rt.bus;
    // The call's own sink: every event into its log (its timeline) and onto the client's stream.
    super(
      { ...sink, emit: (e: CallEvent) => (log.record(e), bus.emit(e)) },
      { group: spec.group, method: spec.method, path: spec.path, timeout: spec.timeout },
    );
    this.log = log;
    this.group = spec.group;
    this.timeout = spec.timeout;
    this.once = spec.once;
    this.breakers = rt.breakers && hostBreakers(rt, spec);
    const r = spec.retry;
    this.retry =
      r === undefined
        ? { maxAttempts: 1, events: this }
        : {
            maxAttempts: r.maxAttempts,
            backoff: r.backoff,
            respectRetryAfter: r.respectRetryAfter,
            retryNonIdempotent: r.retryNonIdempotent,
            // The call's retryOn reads the attempt's outcome, which the attempt step recorded.
            retryOn: () => r.retryOn(this.outcome!),
            events: this,
          };
  }

  /** The attempt step: one exchange to `target`'s host (see `attemptStep$`). */
  readonly attempt$ = (_address: Address, target: PickTarget): Observable<XResponse> =>
    attemptStep$(this.rt, this.spec, this, target);

  emitEvent(e: CallEvent): void {
    this.sink.emit(e);
  }
}

/** The client's keyed breakers for one request, as a pick consults them. */
function hostBreakers(rt: Runtime, spec: CallSpec): HostBreakers {
  const b = rt.breakers!;
  const req = spec.request;
  return {
    get allClosed() {
      return b.allClosed;
    },
    key: (a) => b.key(req, a),
    state: (k) => b.state(k),
    canAttempt: (k) => b.canAttempt(k),
    tryAcquire: (k) => b.tryAcquire(k),
    allRejecting: (as, now) => b.allRejecting(as, now),
    noteAllRejecting: (as, now) => b.noteAllRejecting(req, as, now),
  };
}

/**
 * A call written out as operators: `build(call)` composes the stages (see `Client.compose$`);
 * this adds the call-level stage — id, `call-start`, `call-end`, and what the fused `Call` checks
 * before its first attempt (client closed, signal already aborted). Buffered responses only.
 */
export function composedCall$(
  rt: Runtime,
  spec: CallSpec,
  sink: EventSink,
  build: (call: ComposedCall) => Observable<XResponse>,
): Observable<XResponse> {
  if (spec.stream) throw invalidArgument('responseType', "'stream' is not supported by compose$");
  return tracedWith(
    () => new ComposedCall(rt, spec, sink),
    build,
    () => {
      if (rt.calls.closed)
        return { error: new XhttpError('ABORTED', 'client closed', { attempts: 0 }), outcome: 'cancelled' };
      if (spec.signal?.aborted)
        return { error: new XhttpError('ABORTED', 'request aborted by signal'), outcome: 'cancelled' };
      return undefined;
    },
  );
}

/** The event sink of a client (`client.eventSink`): its stream, clock, ids, random, budget, statistics. */
export function clientEventSink(rt: Runtime, scheduler: SchedulerLike | undefined): EventSink {
  const { bus, clock, loadStats } = rt;
  return {
    emit: (e) => bus.emit(e),
    now: () => clock.now(),
    nextCallId: () => rt.nextCallId(),
    scheduler,
    random: rt.random,
    budget: rt.budget,
    pickContext: rt.pickContext,
    expectedAttemptMs: (addresses, tried, now) => fastestCandidateMs(addresses, tried, loadStats, now),
  };
}
