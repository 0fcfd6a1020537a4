import { Observable, type Subscription } from 'rxjs';
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
    const end = (outcome: CallEndEvent['outcome'], status?: number, error?: unknown): void => {
      if (scope.settled) return;
      scope.settled = true;
      scope.abort = undefined;
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
    };
    const refused =
      check?.(scope) ??
      (scope.deadlineAt > scope.startedAt
        ? undefined
        : { error: new TimeoutError('call', 0, { attempts: 0 }), outcome: 'error' as const });
    if (refused !== undefined) {
      end(refused.outcome, undefined, refused.error);
      subscriber.error(refused.error);
      return;
    }
    // `let`, assigned once below: abort() may run while build(scope) is still being subscribed
    // (a listener of call-start closing the client), before a `const` would be initialized.
    // eslint-disable-next-line prefer-const
    let inner: Subscription | undefined;
    scope.abort = (error: unknown) => {
      inner?.unsubscribe();
      end('cancelled', undefined, error);
      subscriber.error(error);
    };
    inner = build(scope).subscribe({
      next(value) {
        end('ok', statusOf(value));
        subscriber.next(value);
      },
      error(error: unknown) {
        const cancelled = isXhttpError(error) && error.code === 'ABORTED';
        // As the fused chain: an error says how many attempts the call made.
        if (isXhttpError(error) && error.attempts === undefined) error.attempts = scope.attempts;
        end(cancelled ? 'cancelled' : 'error', undefined, error);
        subscriber.error(error);
      },
      complete() {
        end('ok');
        subscriber.complete();
      },
    });
    return () => {
      // The stages end first (an attempt in flight emits its cancelled attempt-end), then the call.
      inner?.unsubscribe();
      end('cancelled');
    };
  });
}

function codeOf(error: unknown): ErrorCode | undefined {
  if (error === undefined) return undefined;
  return isXhttpError(error) ? error.code : undefined;
}
