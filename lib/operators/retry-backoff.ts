import {
  Observable,
  asyncScheduler,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { invalidArgument, isXhttpError } from '../errors.js';
import { callbackFailed } from '../internal/callback.js';
import { checkOptions, optionalPositiveDuration, optionalPositiveInt } from '../internal/validate.js';
import { backoffDelay, resolveBackoff } from '../resilience/backoff.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import { DEFAULT_RETRY_STATUSES, MAX_ATTEMPTS, defaultRetryOn } from '../resilience/retry-policy.js';
import type { BackoffOptions } from '../types.js';
import type { CallScope } from './call-scope.js';
import { retryAfterOf, statusOf } from './outcome.js';
import { scopedDecider, surelyNoRetry, type ScopedRetrySettings } from './retry-decide.js';

/** One attempt's outcome as `retryOn` sees it: the first value, or the error. */
export type RetryOutcome<T> =
  | { readonly attempt: number; readonly value: T; readonly error?: undefined }
  | { readonly attempt: number; readonly error: unknown; readonly value?: undefined };

/** Options of {@link retryBackoff}: `client.request$`'s `RetryOptions`, for any Observable. */
export interface RetryBackoffOptions<T> {
  /** Attempts in all, the first included: an integer from 1 to 100. Required. */
  readonly maxAttempts: number;
  /** Whether an outcome is worth another attempt. @defaultValue {@link defaultRetryOutcome} */
  readonly retryOn?: (outcome: RetryOutcome<T>) => boolean;
  /** Delays between attempts, as in `RetryOptions.backoff`. @defaultValue 100 ms doubling to 10 s, full jitter */
  readonly backoff?: BackoffOptions;
  /** On 429 and 503, wait what `Retry-After` asks instead of the back-off. @defaultValue true */
  readonly respectRetryAfter?: boolean;
  /** A retry budget shared by the calls it guards: each subscription deposits, each retry withdraws. */
  readonly budget?: RetryBudget;
  /** Ms from subscribe past which no retry starts: one that could not start in time is not made. */
  readonly deadline?: number;
  /** Time source of the delays. @defaultValue asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /** Uniform random source in [0, 1) for the jitter. @defaultValue Math.random */
  readonly random?: () => number;
  /**
   * The call this retry belongs to ({@link traced}): the decision is then the client's own
   * (`decideRetry`: idempotency, the call's deadline and `deadline-insufficient`, the sink's budget
   * and random source, one transparent retry for a failure that reached no server), and its
   * `retry-scheduled` / `retry-refused` events go to the call's sink. An attempt that never
   * started (`pick` failed fast) is not retried.
   */
  readonly events?: CallScope;
  /**
   * With `events`: retry non-idempotent methods (the call's `method`) on any outcome `retryOn`
   * accepts, as `RetryOptions.retryNonIdempotent`. @defaultValue false
   */
  readonly retryNonIdempotent?: boolean;
}

const KEYS = [
  'maxAttempts',
  'retryOn',
  'backoff',
  'respectRetryAfter',
  'budget',
  'deadline',
  'scheduler',
  'random',
  'events',
  'retryNonIdempotent',
];

/**
 * The default `retryOn`: a value or an error whose status (own `status` or `response.status`, as on
 * Angular's `HttpErrorResponse`) is 502, 503 or 504; an rxhttp error that `client.request$` would
 * retry (`CONNECT`, `RESET`, an attempt-level `TIMEOUT`); and any other error without a status
 * (fetch rejects with a `TypeError` when the network fails).
 */
export function defaultRetryOutcome(outcome: RetryOutcome<unknown>): boolean {
  const failed = outcome.error !== undefined || !('value' in outcome);
  const status = statusOf(failed ? outcome.error : outcome.value);
  if (status !== undefined) return DEFAULT_RETRY_STATUSES.has(status);
  if (!failed) return false;
  const error = outcome.error;
  if (!isXhttpError(error)) return true;
  return defaultRetryOn({
    attempt: outcome.attempt,
    address: NO_ADDRESS,
    error,
    elapsedMs: 0,
    method: 'GET',
  });
}

/** `defaultRetryOn` reads only the error of an outcome; the rest is filler. */
const NO_ADDRESS = Object.freeze({ host: '', port: 0 });

/**
 * Retries a source with exponential back-off and jitter, re-subscribing it per attempt (so wrap
 * the request in `defer`). The first value of an attempt is its response: when `retryOn` wants a
 * retry it is dropped and the source subscribed again after the delay; later values pass. When the
 * attempts, the budget or the deadline refuse a retry, the last outcome (value or error) goes on.
 *
 * The delay is `Retry-After` (a value's or error's `headers` or `response.headers`, on status 429
 * or 503) when `respectRetryAfter`, else the back-off. A `retryOn` that throws errors the result
 * with `INVALID_ARGUMENT` naming `retry.retryOn`. Unsubscribing cancels the attempt and the timer.
 *
 * @example
 * ```ts
 * defer(() => fetch(url))
 *   .pipe(attemptTimeout(1_000), retryBackoff({ maxAttempts: 3, backoff: { initialDelay: 50 } }), deadline(5_000))
 *   .subscribe((res) => console.log(res.status));
 * ```
 */
export function retryBackoff<T>(options: RetryBackoffOptions<T>): MonoTypeOperatorFunction<T> {
  checkOptions(options, KEYS, 'retry');
  const maxAttempts = optionalPositiveInt(options.maxAttempts, 'retry.maxAttempts', MAX_ATTEMPTS);
  if (maxAttempts === undefined) throw invalidArgument('retry.maxAttempts', 'is required');
  const backoff = resolveBackoff(options.backoff);
  const deadlineMs = optionalPositiveDuration(options.deadline, 'retry.deadline');
  const retryOn = options.retryOn ?? defaultRetryOutcome;
  const respectRetryAfter = options.respectRetryAfter ?? true;
  const { budget, events } = options;
  const scheduler = options.scheduler ?? events?.scheduler ?? asyncScheduler;
  const random = options.random ?? Math.random;
  const scoped: ScopedRetrySettings<T> | undefined =
    events === undefined
      ? undefined
      : {
          maxAttempts,
          backoff,
          respectRetryAfter,
          retryNonIdempotent: options.retryNonIdempotent === true,
          retryOn,
          budget,
          random: options.random,
          deadlineMs,
        };

  return (source) =>
    new Observable<T>((subscriber) => {
      const start = scheduler.now();
      budget?.deposit(start);
      const startedAt = events?.sink.now() ?? 0;
      // Made at the first decision: most calls never need one.
      let decideInCall: ((outcome: RetryOutcome<T>) => number | undefined) | undefined;
      let attempt = 0;
      let previousDelay = backoff.initialDelay;
      let inner: Subscription | undefined;
      let timer: Subscription | undefined;

      /** The delay before the next attempt, or undefined when none is to be made. */
      const decide = (outcome: RetryOutcome<T>): number | undefined => {
        if (scoped !== undefined) {
          if (surelyNoRetry(scoped, events!, outcome)) return undefined;
          decideInCall ??= scopedDecider(scoped, events!, startedAt);
          return decideInCall(outcome);
        }
        if (attempt >= maxAttempts) return undefined;
        try {
          if (!retryOn(outcome)) return undefined;
        } catch (thrown) {
          throw callbackFailed('retry.retryOn', thrown);
        }
        const now = scheduler.now();
        const subject = outcome.error === undefined ? outcome.value : outcome.error;
        let delay = respectRetryAfter ? retryAfterOf(subject, now) : undefined;
        if (delay === undefined) {
          delay = backoffDelay(attempt - 1, previousDelay, backoff, random);
          previousDelay = delay;
        }
        if (deadlineMs !== undefined && now + delay >= start + deadlineMs) return undefined;
        if (budget !== undefined && !budget.tryWithdraw()) return undefined;
        return delay;
      };

      const run = (): void => {
        const mine = ++attempt;
        let judged = false;
        let retryDelay: number | undefined;
        /** True when the outcome was consumed by a retry (or a throwing retryOn). */
        const retried = (outcome: RetryOutcome<T>): boolean => {
          judged = true;
          try {
            retryDelay = decide(outcome);
          } catch (error) {
            subscriber.error(error);
            return true;
          }
          if (retryDelay === undefined) return false;
          // Synchronous sources have not returned their subscription yet: drop it after subscribe.
          inner?.unsubscribe();
          timer = scheduler.schedule(run, retryDelay);
          return true;
        };
        const sub = source.subscribe({
          next(value) {
            if (mine !== attempt || retryDelay !== undefined) return;
            if (!judged && retried({ attempt: mine, value })) return;
            subscriber.next(value);
          },
          error(error: unknown) {
            if (mine !== attempt || retryDelay !== undefined) return;
            if (!judged && retried({ attempt: mine, error })) return;
            subscriber.error(error);
          },
          complete() {
            if (mine === attempt && retryDelay === undefined) subscriber.complete();
          },
        });
        if (mine === attempt && retryDelay === undefined) inner = sub;
        else sub.unsubscribe();
      };
      run();
      return () => {
        inner?.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
