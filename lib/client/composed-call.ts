import type { Observable, SchedulerLike } from 'rxjs';
import { invalidArgument, XhttpError } from '../errors.js';
import type { CallEvent } from '../events/events.js';
import { CallScope, type EventSink } from '../operators/call-scope.js';
import type { HostBreakers, PickTarget } from '../operators/pick.js';
import type { RetryBackoffOptions } from '../operators/retry-backoff.js';
import { tracedWith } from '../operators/traced.js';
import type { CandidateState } from '../balancer/eligible.js';
import type { CircuitBreakers } from '../breaker/breakers.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { Address, GroupLike, XRequest, XResponse } from '../types.js';
import { attemptStep$, type StepScope } from './attempt-step.js';
import { fastestCandidateMs } from './deadline.js';
import type { CallSpec } from './request.js';
import type { Runtime } from './runtime.js';
import type { LiveCall } from './live-calls.js';
import { CallLog } from './timeline.js';

/**
 * One call of `client.compose$`: the {@link CallScope} every stage shares, plus what the client
 * knows of the call — its group, the attempt step, its breakers as a pick sees them, its retry
 * options as `retryBackoff` takes them, its timeout.
 */
export class ComposedCall extends CallScope implements StepScope, LiveCall {
  /** @internal Links on the client's list of live calls (see LiveCalls). */
  prevLive: LiveCall | undefined = undefined;
  /** @internal */
  nextLive: LiveCall | undefined = undefined;
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
    super(new LoggedSink(sink, log, bus), {
      group: spec.group,
      method: spec.method,
      path: spec.path,
      timeout: spec.timeout,
    });
    this.log = log;
    this.group = spec.group;
    this.timeout = spec.timeout;
    this.once = spec.once;
    this.breakers = rt.breakers && new RequestBreakers(rt.breakers, spec.request);
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

  /** LiveCall: `client.close()` has begun; the call ends cancelled, its caller seeing `ABORTED`. */
  closeByClient(): void {
    this.abort(new XhttpError('ABORTED', 'client closed', { attempts: this.attempts }));
  }

  /** The caller's `signal` listener, made only for a call that has a signal. */
  #onAbort: (() => void) | undefined;

  /** The caller's `signal` aborts the call as `client.close()` does (one listener, removed at the end). */
  listenToSignal(signal: AbortSignal): void {
    this.#onAbort = () =>
      this.abort(new XhttpError('ABORTED', 'request aborted by signal', { attempts: this.attempts }));
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  override onEnd(): void {
    this.rt.calls.remove(this);
    if (this.#onAbort !== undefined) this.spec.signal!.removeEventListener('abort', this.#onAbort);
  }

  emitEvent(e: CallEvent): void {
    this.sink.emit(e);
  }
}

/** The client's keyed breakers for one request, as a pick consults them (a class: no closures per call). */
class RequestBreakers implements HostBreakers {
  constructor(
    readonly b: CircuitBreakers,
    readonly req: XRequest,
  ) {}

  get allClosed(): boolean {
    return this.b.allClosed;
  }

  key(a: Address): string {
    return this.b.key(this.req, a);
  }

  state(k: string): CandidateState {
    return this.b.state(k);
  }

  canAttempt(k: string): boolean {
    return this.b.canAttempt(k);
  }

  tryAcquire(k: string): boolean {
    return this.b.tryAcquire(k);
  }

  allRejecting(as: readonly Address[], now: number): boolean {
    return this.b.allRejecting(as, now);
  }

  noteAllRejecting(as: readonly Address[], now: number): void {
    this.b.noteAllRejecting(this.req, as, now);
  }
}

/** The sink of one composed call: the client's, every event also kept in the call's log. */
class LoggedSink implements EventSink {
  constructor(
    readonly client: EventSink,
    readonly log: CallLog,
    readonly bus: Runtime['bus'],
  ) {}

  emit(e: CallEvent): void {
    this.log.record(e);
    this.bus.emit(e);
  }

  now(): number {
    return this.client.now();
  }

  nextCallId(): number {
    return this.client.nextCallId();
  }

  get scheduler(): SchedulerLike | undefined {
    return this.client.scheduler;
  }

  get random(): (() => number) | undefined {
    return this.client.random;
  }

  get budget(): RetryBudget | undefined {
    return this.client.budget;
  }

  get pickContext(): EventSink['pickContext'] {
    return this.client.pickContext;
  }

  setTimer(fn: () => void, ms: number): () => void {
    return this.client.setTimer!(fn, ms);
  }

  expectedAttemptMs(addresses: readonly Address[], tried: (key: string) => boolean, now: number): number {
    return this.client.expectedAttemptMs!(addresses, tried, now);
  }
}

/**
 * A call written out as operators: `build(call)` composes the stages (see `Client.compose$`);
 * this adds the call-level stage — id, `call-start`, `call-end`, and what the fused `Call` checks
 * before its first attempt (client closed, signal already aborted). Buffered responses only.
 */
export function composedCall$(
  rt: Runtime,
  specOf: () => CallSpec,
  sink: EventSink,
  build: (call: ComposedCall) => Observable<XResponse>,
): Observable<XResponse> {
  // One Observable per call: `specOf` validates at subscribe (a throw is the error notification,
  // before call-start, as for request$).
  return tracedWith(
    () => {
      const spec = specOf();
      if (spec.stream) throw invalidArgument('responseType', "'stream' is not supported by compose$");
      return new ComposedCall(rt, spec, sink);
    },
    build,
    (call) => {
      if (rt.calls.closed)
        return { error: new XhttpError('ABORTED', 'client closed', { attempts: 0 }), outcome: 'cancelled' };
      if (call.spec.signal?.aborted)
        return { error: new XhttpError('ABORTED', 'request aborted by signal'), outcome: 'cancelled' };
      // On the client's list from here: close() ends it, in flight or in back-off.
      rt.calls.add(call);
      const signal = call.spec.signal;
      if (signal !== undefined) call.listenToSignal(signal);
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
    setTimer: (fn, ms) => clock.setTimer(fn, ms),
    expectedAttemptMs: (addresses, tried, now) => fastestCandidateMs(addresses, tried, loadStats, now),
  };
}
