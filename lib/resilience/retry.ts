import { Observable, type MonoTypeOperatorFunction, type Subscription } from 'rxjs';
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
  // Hand-rolled rather than rxjs `retry({ delay })`: that operator adds a notifier Observable and
  // two subscribers per attempt, which showed up in the hot-path profile.
  return (source) =>
    new Observable<T>((subscriber) => {
      let inner: Subscription | undefined;
      let cancelTimer: (() => void) | undefined;
      const subscribe = (): void => {
        inner = source.subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            if (!(error instanceof RetryDecision)) subscriber.error(error);
            else if (!subscriber.closed)
              cancelTimer = clock.setTimer(() => {
                cancelTimer = undefined;
                subscribe();
              }, error.delayMs);
          },
          complete: () => subscriber.complete(),
        });
      };
      subscribe();
      return () => {
        cancelTimer?.();
        inner?.unsubscribe();
      };
    });
}
