import type { SchedulerLike } from 'rxjs';
import type { StandaloneBreakerConfig } from '../operators/breaker.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { BackoffOptions } from '../types.js';
import type { HttpAttemptOutcome } from './outcome.js';
import type { OriginBreakers } from './origin-breakers.js';
import { RETRY_OPTION_KEYS } from '../resilience/retry-policy.js';

/**
 * Retry policy of {@link rxhttpInterceptor}: `client.request$`'s `RetryOptions`, with `retryOn`
 * reading Angular's objects.
 *
 * @example
 * ```ts
 * { maxAttempts: 3, timeoutPerAttempt: 2_000, backoff: { initialDelay: 100, jitter: 'full' } }
 * ```
 */
export interface HttpRetryOptions {
  /** Attempts in all, the first included: an integer from 1 to 100. Required. */
  readonly maxAttempts: number;
  /**
   * Whether an attempt's outcome is worth another attempt. Whatever it says, POST, PATCH and other
   * non-idempotent methods are retried only with `retryNonIdempotent`. A throw fails the call with
   * `INVALID_ARGUMENT` naming `retry.retryOn`.
   * @defaultValue {@link defaultHttpRetryOn}: 502, 503, 504, network failures, attempt timeouts
   */
  readonly retryOn?: (outcome: HttpAttemptOutcome) => boolean;
  /**
   * Deadline of each attempt, ms, from sending to the response (to its headers with
   * `reportProgress`); one that runs out fails with `TimeoutError` phase `attempt`, which the
   * default `retryOn` retries. @defaultValue none
   */
  readonly timeoutPerAttempt?: number;
  /** Delays between attempts. @defaultValue `{ initialDelay: 100, maxDelay: 10_000, multiplier: 2, jitter: 'full' }` */
  readonly backoff?: BackoffOptions;
  /** Retry non-idempotent methods too, on any outcome `retryOn` accepts. @defaultValue false */
  readonly retryNonIdempotent?: boolean;
  /** On 429 and 503, wait what `Retry-After` asks instead of the back-off. @defaultValue true */
  readonly respectRetryAfter?: boolean;
}

/**
 * Options of {@link rxhttpInterceptor}. Every part is optional; with none, requests get a breaker
 * per origin and nothing else.
 *
 * @example
 * ```ts
 * rxhttpInterceptor({ retry: { maxAttempts: 3, timeoutPerAttempt: 2_000 }, timeout: 10_000 })
 * ```
 */
export interface RxHttpInterceptorOptions {
  /** Retries with back-off; without it each request makes one attempt. */
  readonly retry?: HttpRetryOptions;
  /**
   * Deadline of the whole request, retries and delays included, ms: past it the request fails
   * with `TimeoutError` phase `call` (never retried), and no retry starts that it would cut.
   * @defaultValue none
   */
  readonly timeout?: number;
  /**
   * Settings of the per-origin breakers the interceptor makes, or `false` for none. Give this or
   * `breakers`, not both. @defaultValue `{}` (the client's defaults)
   */
  readonly circuitBreaker?: StandaloneBreakerConfig | false;
  /** Breakers to use instead (to watch them, control them, or share them between interceptors). */
  readonly breakers?: OriginBreakers;
  /**
   * A retry budget (from `retryBudget()` of `rxhttp/operators`) shared by every request the
   * interceptor retries, or `false` for none. @defaultValue one of `retryBudget()`'s defaults per interceptor
   */
  readonly retryBudget?: RetryBudget | false;
  /** Time source of timeouts, delays and breakers; a `TestScheduler` for virtual time. @defaultValue asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /** Uniform random source in [0, 1) for the jitter. @defaultValue Math.random */
  readonly random?: () => number;
}

/** The option names {@link rxhttpInterceptor} takes: any other own key is an `INVALID_ARGUMENT`. */
export const INTERCEPTOR_KEYS = [
  'retry',
  'timeout',
  'circuitBreaker',
  'breakers',
  'retryBudget',
  'scheduler',
  'random',
];

/** The option names of {@link HttpRetryOptions}: those of the client's `RetryOptions`. */
export const RETRY_KEYS = RETRY_OPTION_KEYS;
