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
import type { CallScope } from './call-scope.js';

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
 * The second argument is a scheduler, or {@link DeadlineOptions} (`scheduler`, `events`).
 *
 * @example
 * ```ts
 * defer(() => fetch(url)).pipe(retryBackoff({ maxAttempts: 3, deadline: 2_000 }), deadline(2_000));
 * ```
 */
export function deadline<T>(
  ms: number,
  options: SchedulerLike | DeadlineOptions = {},
): MonoTypeOperatorFunction<T> {
  const limit = duration(ms, 'timeout');
  const { scheduler: given, events } = isScheduler(options)
    ? { scheduler: options, events: undefined }
    : options;
  const scheduler = given ?? events?.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<T>((subscriber) => {
      const expire = (): void => {
        // An attempt step watching the same deadline reports it at this very time, in the order
        // the fused chain would.
        if (events?.deadlineWatched === true) return;
        // No attempt step in flight (it would watch the deadline itself): the error goes down
        // first, then the teardown stops a back-off or a source of yours.
        if (events !== undefined) events.timedOut = true;
        subscriber.error(
          new TimeoutError('call', limit, events === undefined ? {} : { attempts: events.attempts }),
        );
      };
      let cancel: (() => void) | undefined;
      const arm = (): void => {
        if (cancel !== undefined || subscriber.closed) return;
        // Within a call, the deadline is the call's (set at its start), not this subscription's.
        const due = events === undefined ? limit : Math.max(0, events.deadlineAt - events.sink.now());
        // A call's sink may offer its clock's timer: one native timer, no scheduler action.
        const setTimer = given === undefined ? events?.sink.setTimer : undefined;
        cancel =
          setTimer !== undefined
            ? setTimer.call(events!.sink, expire, due)
            : cancelOf(scheduler.schedule(expire, due));
      };
      if (events === undefined) arm();
      const inner = source.subscribe(subscriber);
      if (events !== undefined) {
        // While an attempt step watches the deadline (as the fused Call's exchange does), no timer
        // of our own: it is armed when an attempt ends and the call goes on (a back-off, a stage of
        // yours), as the fused Call needs none for a call of one attempt.
        if (events.deadlineWatched) events.onUnwatched = arm;
        else arm();
      }
      return () => {
        cancel?.();
        if (events !== undefined && events.onUnwatched === arm) events.onUnwatched = undefined;
        inner.unsubscribe();
      };
    });
}

/** Options of {@link deadline} beyond the time. */
export interface DeadlineOptions {
  /** Time source; a `TestScheduler` for virtual time. @defaultValue the call's sink's, else asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /**
   * The call this deadline bounds ({@link traced}): its deadline is the call's (from its start),
   * and an attempt in flight when it passes ends timed out (`attempt-end` with `timeoutPhase`
   * `call`) rather than cancelled, as in the fused chain.
   */
  readonly events?: CallScope;
}

function cancelOf(sub: { unsubscribe(): void }): () => void {
  return () => sub.unsubscribe();
}

function isScheduler(x: SchedulerLike | DeadlineOptions): x is SchedulerLike {
  return typeof (x as Partial<SchedulerLike>).schedule === 'function';
}
