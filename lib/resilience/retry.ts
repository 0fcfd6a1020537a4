import { Observable, retry, throwError, type MonoTypeOperatorFunction } from 'rxjs';
import type { Clock } from '../internal/clock.js';

/**
 * Thrown inside the chain when an attempt's outcome should be retried. Carries the delay the
 * decision chose (back-off, Retry-After or transparent), so the retry operator only waits.
 */
export class RetryDecision {
  constructor(
    readonly delayMs: number,
    readonly reason: 'backoff' | 'retry-after' | 'transparent',
  ) {}
}

/** Emits once after `ms` on the injected clock; cancelling clears the timer. */
export function clockTimer(clock: Clock, ms: number): Observable<0> {
  return new Observable<0>((subscriber) =>
    clock.setTimer(() => {
      subscriber.next(0);
      subscriber.complete();
    }, ms),
  );
}

/**
 * The retry step of the chain: re-subscribes to the attempt after the delay that the attempt's
 * {@link RetryDecision} carries; any other error ends the call. Deciding (policy, budget,
 * deadline) happens where the outcome is known, so this operator stays tiny.
 *
 * @example
 * ```ts
 * defer(() => attempt()).pipe(retryAsDecided(clock))
 * ```
 */
export function retryAsDecided<T>(clock: Clock): MonoTypeOperatorFunction<T> {
  return retry({
    delay: (error: unknown) =>
      error instanceof RetryDecision ? clockTimer(clock, error.delayMs) : throwError(() => error),
  });
}
