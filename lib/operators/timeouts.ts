import {
  Observable,
  asyncScheduler,
  throwError,
  timeout,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { TimeoutError, invalidArgument } from '../errors.js';
import { optionalPositiveDuration } from '../internal/validate.js';

function duration(ms: unknown, field: string): number {
  const d = optionalPositiveDuration(ms, field);
  if (d === undefined) throw invalidArgument(field, 'is required');
  return d;
}

/**
 * Bounds one attempt: when the source has not emitted its first value (the response) within
 * `ms` of being subscribed, it is unsubscribed and the result errors with rxhttp's
 * `TimeoutError`, phase `attempt` — which {@link retryBackoff}'s default `retryOn` retries. Put it
 * before `retryBackoff`, so each attempt gets its own clock. Once a value came, nothing is bounded.
 *
 * Throws `INVALID_ARGUMENT` (`field` `timeoutPerAttempt`) unless `ms` is a positive number of ms a timer can wait.
 *
 * @example
 * ```ts
 * defer(() => fetch(url)).pipe(attemptTimeout(500), retryBackoff({ maxAttempts: 3 }));
 * ```
 */
export function attemptTimeout<T>(
  ms: number,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  const limit = duration(ms, 'timeoutPerAttempt');
  return timeout<T, Observable<never>>({
    first: limit,
    scheduler,
    with: () => throwError(() => new TimeoutError('attempt', limit)),
  });
}

/**
 * Bounds the whole call: when the source has not completed (or errored) within `ms` of being
 * subscribed, it is unsubscribed — a pending attempt or back-off delay included — and the result
 * errors with rxhttp's `TimeoutError`, phase `call`, which is never retried. Put it after
 * `retryBackoff`; give `retryBackoff` the same `deadline` so that it does not start a retry the
 * deadline would cut.
 *
 * Throws `INVALID_ARGUMENT` (`field` `timeout`) unless `ms` is a positive number of ms a timer can wait.
 *
 * @example
 * ```ts
 * defer(() => fetch(url)).pipe(retryBackoff({ maxAttempts: 3, deadline: 2_000 }), deadline(2_000));
 * ```
 */
export function deadline<T>(
  ms: number,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  const limit = duration(ms, 'timeout');
  return (source) =>
    new Observable<T>((subscriber) => {
      const timer = scheduler.schedule(() => subscriber.error(new TimeoutError('call', limit)), limit);
      const inner = source.subscribe(subscriber);
      return () => {
        timer.unsubscribe();
        inner.unsubscribe();
      };
    });
}
