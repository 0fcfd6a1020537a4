import { Observable, type Subscriber, type Subscription } from 'rxjs';
import { TimeoutError, isXhttpError, type ErrorCode } from '../errors.js';
import type { CallEndEvent } from '../events/events.js';
import { CallScope, type CallInfo, type EventSink } from './call-scope.js';
import { statusOf } from './outcome.js';

/**
 * One hand-composed call with its call-level events: per subscription a new {@link CallScope}
 * (a call id from `sink`), `call-start`, then the Observable `build(scope)` returns, then
 * `call-end` — `ok` with the status of the first value (emitted before that value, as the fused
 * chain does), `error` with the error's code, or `cancelled` when unsubscribed first (or on
 * rxhttp's `ABORTED`). Hand the scope to the stages inside (`pick`, `retryBackoff`, `deadline`, a
 * client's attempt step) and they emit their events into the same call.
 *
 * A call whose `timeout` is not positive sends nothing and fails with `TimeoutError` phase `call`.
 *
 * @example
 * ```ts
 * traced(client.eventSink, { group: users, method: 'GET', path: '/users/42', timeout: 2_000 }, (call) =>
 *   defer(() => fetch(url)).pipe(retryBackoff({ maxAttempts: 3, events: call }), deadline(2_000, { events: call })),
 * );
 * ```
 */
export function traced<T>(
  sink: EventSink,
  info: CallInfo,
  build: (scope: CallScope) => Observable<T>,
): Observable<T> {
  return tracedWith(() => new CallScope(sink, info), build);
}

/**
 * {@link traced} with a scope of one's own making (a client's composed call adds its attempt step):
 * `make` runs at subscribe. `check` may refuse the call before anything is sent (the error is
 * delivered after call-start, and call-end follows, as in the fused chain).
 */
export function tracedWith<S extends CallScope, T>(
  make: () => S,
  build: (scope: S) => Observable<T>,
  check?: (scope: S) => { error: unknown; outcome: 'error' | 'cancelled' } | undefined,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const scope = make();
    const sink = scope.sink;
    // Literal events, one shape each (a spread per event was a visible cost).
    sink.emit({
      type: 'call-start',
      time: scope.startedAt,
      callId: scope.callId,
      group: scope.groupName,
      method: scope.method,
      path: scope.path,
    });
    const run = new TracedRun<T>(scope, subscriber);
    const refused =
      check?.(scope) ??
      (scope.deadlineAt > scope.startedAt
        ? undefined
        : { error: new TimeoutError('call', 0, { attempts: 0 }), outcome: 'error' as const });
    if (refused !== undefined) {
      run.end(refused.outcome, undefined, refused.error);
      subscriber.error(refused.error);
      return;
    }
    scope.traced = run;
    run.inner = build(scope).subscribe(run);
    return run;
  });
}

/**
 * One traced call while it runs: the observer of its stages, its teardown, and the way to end it
 * early ({@link CallScope.abort}). A class, not closures: measured, the closures of the first form
 * cost a visible share of a composed call.
 */
export class TracedRun<T> {
  /** The stages' subscription; undefined until `build(scope)` has been subscribed. */
  inner: Subscription | undefined = undefined;

  constructor(
    readonly scope: CallScope,
    readonly subscriber: Subscriber<T>,
  ) {}

  /** call-end, once. */
  end(outcome: CallEndEvent['outcome'], status?: number, error?: unknown): void {
    const scope = this.scope;
    if (scope.settled) return;
    scope.settled = true;
    scope.traced = undefined;
    const sink = scope.sink;
    const now = sink.now();
    sink.emit({
      type: 'call-end',
      time: now,
      callId: scope.callId,
      group: scope.groupName,
      method: scope.method,
      durationMs: now - scope.startedAt,
      attempts: scope.attempts,
      status,
      errorCode: codeOf(error),
      outcome,
    });
    scope.onEnd();
  }

  next(value: T): void {
    this.end('ok', statusOf(value));
    this.subscriber.next(value);
  }

  error(error: unknown): void {
    const cancelled = isXhttpError(error) && error.code === 'ABORTED';
    // As the fused chain: an error says how many attempts the call made.
    if (isXhttpError(error) && error.attempts === undefined) error.attempts = this.scope.attempts;
    this.end(cancelled ? 'cancelled' : 'error', undefined, error);
    this.subscriber.error(error);
  }

  complete(): void {
    this.end('ok');
    this.subscriber.complete();
  }

  /** Ends the call now as a cancellation: the stages first, then call-end, then the error. */
  abort(error: unknown): void {
    this.inner?.unsubscribe();
    this.end('cancelled', undefined, error);
    this.subscriber.error(error);
  }

  /** Teardown: the stages end first (an attempt in flight emits its cancelled attempt-end), then the call. */
  unsubscribe(): void {
    this.inner?.unsubscribe();
    this.end('cancelled');
  }
}

function codeOf(error: unknown): ErrorCode | undefined {
  if (error === undefined) return undefined;
  return isXhttpError(error) ? error.code : undefined;
}
