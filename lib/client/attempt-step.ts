import { Observable, type Subscriber } from 'rxjs';
import type { Dispatcher } from 'undici';
import { TimeoutError, XhttpError } from '../errors.js';
import type { AttemptEndEvent, CallEvent } from '../events/events.js';
import type { CallScope } from '../operators/call-scope.js';
import {
  BUFFERED,
  Exchange,
  type AttemptTimeouts,
  type ExchangeOwner,
  type RawResponse,
} from '../transport/undici.js';
import type { AttemptOutcome, XResponse } from '../types.js';
import { attemptEndEvent, attemptHeaders, attemptStartEvent, type AttemptTarget } from './attempt-events.js';
import type { CallSpec } from './request.js';
import { CallResponse } from './response.js';
import type { Runtime } from './runtime.js';
import type { CallLog } from './timeline.js';

/** What the attempt step needs of its call: the scope the other stages share, and the call's log. */
export interface StepScope extends CallScope {
  readonly log: CallLog;
  /** Emits a finished event (the step builds attempt events whole, with the fused chain's shape). */
  emitEvent(e: CallEvent): void;
}

/** The client's phase timeouts, plus the call's per-attempt one when it has one. */
function attemptTimeouts(rt: Runtime, spec: CallSpec): AttemptTimeouts {
  const t = spec.retry?.timeoutPerAttempt;
  if (t === undefined) return rt.timeouts;
  return { connect: rt.timeouts.connect, headers: rt.timeouts.headers, body: rt.timeouts.body, attempt: t };
}

/**
 * The attempt step: one exchange of `spec` with `target`'s host over the client's pools, as an
 * Observable — the stage of the fused `Call` between the breaker gate and the retry decision. On
 * subscribe it emits `attempt-start`, sends (tracing and deadline headers, `x-rxhttp-attempt`),
 * and enforces the phase timeouts and `retry.timeoutPerAttempt` in the exchange; at the end it
 * classifies the outcome with the client's breakers and emits `attempt-end` with the verdict, records
 * the outcome on the scope (for `retryBackoff`), then emits the buffered response (any status) or
 * errors. Unsubscribed before that, the exchange is aborted and the attempt ends cancelled — or,
 * when the call's `deadline()` passed, timed out in phase `call`.
 */
export function attemptStep$(
  rt: Runtime,
  spec: CallSpec,
  scope: StepScope,
  target: AttemptTarget,
): Observable<XResponse> {
  return new Observable<XResponse>((subscriber) => {
    const attempt = new StepAttempt(rt, spec, scope, target, subscriber);
    attempt.start();
    return attempt;
  });
}

class StepAttempt implements ExchangeOwner {
  #exchange: Exchange | undefined;
  #ended = false;
  #startedAt = 0;

  constructor(
    readonly rt: Runtime,
    readonly spec: CallSpec,
    readonly scope: StepScope,
    readonly target: AttemptTarget,
    readonly subscriber: Subscriber<XResponse>,
  ) {}

  start(): void {
    const { rt, spec, scope, target } = this;
    const now = rt.clock.now();
    this.#startedAt = now;
    const startEvent = attemptStartEvent(spec, scope.callId, target, now);
    scope.emitEvent(startEvent);
    // A listener may have ended the call from inside that emit: send nothing.
    if (this.#ended || this.subscriber.closed) return;
    const exchange = new Exchange(
      this,
      target.address,
      attemptTimeouts(rt, spec),
      BUFFERED,
      spec.maxResponseBytes,
      rt.clock,
      now,
      scope.deadlineAt,
      spec.decompress,
    );
    this.#exchange = exchange;
    scope.deadlineWatched = true;
    const opts: Dispatcher.DispatchOptions = {
      path: spec.target,
      method: spec.method,
      headers: attemptHeaders(rt, spec, startEvent, scope.deadlineAt, now),
      body: spec.body as string | null,
    };
    exchange.send(rt.dispatcher(spec.group, target.address), opts);
  }

  onExchangeResponse(raw: RawResponse): void {
    const { outcome, thrown } = this.#end(raw, undefined, false);
    if (thrown !== undefined) this.subscriber.error(thrown);
    else {
      this.subscriber.next(new CallResponse(raw, outcome.address, outcome.attempt, this.scope.log));
      this.subscriber.complete();
    }
    this.scope.onUnwatched?.();
  }

  onExchangeBodyEnd(): void {
    // Buffered only: the composed chain does not stream (see composedCall$).
  }

  onExchangeError(error: XhttpError): void {
    if (error.attempts === undefined) error.attempts = this.target.attempt;
    // ABORTED from the transport: the pool closed under the attempt (the client is closing).
    const cancelled = error.code === 'ABORTED';
    const { thrown } = this.#end(undefined, cancelled ? undefined : error, cancelled);
    this.subscriber.error(thrown ?? error);
    this.scope.onUnwatched?.();
  }

  /** The call's deadline came while the exchange ran (its `deadline()` stage normally fires first). */
  onExchangeDeadline(): void {
    this.scope.timedOut = true;
    const error = this.#timeout();
    this.#end(undefined, error, false);
    this.subscriber.error(new TimeoutError('call', this.spec.timeout, { attempts: this.scope.attempts }));
  }

  /** Unsubscribed before the end: abort, and end the attempt cancelled (or timed out, at the deadline). */
  unsubscribe(): void {
    if (this.#ended) return;
    const timeout = this.scope.timedOut ? this.#timeout() : undefined;
    this.#exchange?.cancel(timeout);
    this.#end(undefined, timeout, timeout === undefined);
    this.scope.onUnwatched?.();
  }

  #timeout(): TimeoutError {
    return new TimeoutError('call', this.spec.timeout, {
      address: this.target.address,
      attempts: this.scope.attempts,
    });
  }

  // After each end is delivered, scope.onUnwatched arms deadline()'s timer if the call goes on
  // (a retry's back-off): a call settled by this attempt arms none.

  /** The outcome, its verdict and attempt-end; what a throwing `isFailure` threw. */
  #end(
    response: RawResponse | undefined,
    error: XhttpError | undefined,
    cancelled: boolean,
  ): { outcome: AttemptOutcome; thrown: XhttpError | undefined } {
    this.#ended = true;
    this.#exchange = undefined;
    this.scope.deadlineWatched = false;
    const { rt, spec, scope, target } = this;
    const now = rt.clock.now();
    const outcome: AttemptOutcome = {
      attempt: target.attempt,
      address: target.address,
      method: spec.method,
      response,
      error,
      elapsedMs: now - this.#startedAt,
    };
    let verdict: AttemptEndEvent['verdict'] = 'ignored';
    let thrown: XhttpError | undefined;
    if (!cancelled && rt.breakers !== undefined) {
      try {
        verdict = rt.breakers.classify(outcome);
      } catch (e) {
        thrown = e instanceof XhttpError ? e : new XhttpError('PROTOCOL', 'unexpected failure', { cause: e });
      }
    }
    scope.emitEvent(attemptEndEvent(spec, scope.callId, target, outcome, now, cancelled, verdict, undefined));
    // A throwing isFailure fails the call: no outcome for the retry decision to read.
    if (thrown === undefined && !cancelled) scope.outcome = outcome;
    else scope.attemptRefused = true;
    return { outcome, thrown };
  }
}
