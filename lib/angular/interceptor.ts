import {
  HttpErrorResponse,
  type HttpEvent,
  type HttpInterceptorFn,
  type HttpRequest,
} from '@angular/common/http';
import {
  asyncScheduler,
  catchError,
  defer,
  filter,
  throwError,
  type MonoTypeOperatorFunction,
  type Observable,
} from 'rxjs';
import { invalidArgument, isXhttpError } from '../errors.js';
import { checkOptions, optionalPositiveDuration } from '../internal/validate.js';
import { circuitBreaker } from '../operators/circuit-breaker.js';
import { retryBackoff, type RetryBackoffOptions, type RetryOutcome } from '../operators/retry-backoff.js';
import { retryBudget } from '../operators/retry-budget.js';
import { attemptTimeout, deadline } from '../operators/timeouts.js';
import { INTERCEPTOR_KEYS, RETRY_KEYS, type RxHttpInterceptorOptions } from './options.js';
import { OriginBreakers } from './origin-breakers.js';
import {
  answeredStatus,
  defaultHttpRetryOn,
  isAnswerEvent,
  isHostFailure,
  mayResend,
  rxhttpErrorOf,
  type HttpAttemptOutcome,
} from './outcome.js';

type Event = HttpEvent<unknown>;

/**
 * An Angular `HttpInterceptorFn` giving `HttpClient` rxhttp's resilience, built from
 * `rxhttp/operators` (no Node built-in, so it runs in the browser and on the server alike). Per
 * request, in this order: a circuit breaker per origin (refused: fails at once, nothing sent), a
 * timeout per attempt, retries with back-off, jitter, `Retry-After` and a shared retry budget, and
 * a deadline on the whole request. Interceptors after this one run again on every attempt.
 *
 * What is retried follows `client.request$`'s `RetryOptions`: by default statuses 502, 503, 504,
 * network failures and attempt timeouts, and only for idempotent methods (GET, HEAD, OPTIONS, PUT,
 * DELETE, TRACE) unless `retry.retryNonIdempotent`. The breakers count 5xx, network failures and
 * timeouts as failures; a 4xx is the host working.
 *
 * Errors stay Angular's: a failed request errors with an `HttpErrorResponse`; when rxhttp ended it
 * (a breaker open, a timeout, a throwing `retryOn`) that response has status 0, `statusText` the
 * code (`FAIL_FAST`, `TIMEOUT`, `INVALID_ARGUMENT`) and the `XhttpError` (a `FailFastError`, a
 * `TimeoutError` with its `phase`) as `error`; its `url` is the request's without the query. The
 * `Sent` and `UploadProgress` events are not passed on (they would repeat with every attempt).
 *
 * Bad options throw `INVALID_ARGUMENT` naming the field here, when the interceptor is made.
 *
 * @example
 * ```ts
 * bootstrapApplication(App, {
 *   providers: [
 *     provideHttpClient(withFetch(), withInterceptors([
 *       rxhttpInterceptor({ retry: { maxAttempts: 3, timeoutPerAttempt: 2_000 }, timeout: 8_000 }),
 *     ])),
 *   ],
 * });
 * ```
 */
export function rxhttpInterceptor(options: RxHttpInterceptorOptions = {}): HttpInterceptorFn {
  checkOptions(options, INTERCEPTOR_KEYS, 'rxhttpInterceptor');
  const scheduler = options.scheduler ?? asyncScheduler;
  const callTimeout = optionalPositiveDuration(options.timeout, 'timeout');
  const breakers = breakersOf(options);
  const retry = retryOf(options, callTimeout);
  return (req, next) => {
    let call$: Observable<Event> = defer(() => next(req)).pipe(filter(isAnswerEvent), catchError(unwrap));
    if (retry?.timeoutPerAttempt !== undefined)
      call$ = call$.pipe(attemptTimeout<Event>(retry.timeoutPerAttempt, scheduler));
    if (breakers !== undefined)
      call$ = call$.pipe(
        circuitBreaker<Event>(breakers.get(originOf(req.url)), { isErrorFailure: isHostFailure }),
      );
    if (retry !== undefined) call$ = call$.pipe(retry.operator(req));
    if (callTimeout !== undefined) call$ = call$.pipe(deadline<Event>(callTimeout, scheduler));
    return call$.pipe(catchError((error: unknown) => throwError(() => toHttpError(error, req))));
  };

  function breakersOf(o: RxHttpInterceptorOptions): OriginBreakers | undefined {
    if (o.breakers !== undefined) {
      if (!(o.breakers instanceof OriginBreakers))
        throw invalidArgument('breakers', 'must be an OriginBreakers');
      if (o.circuitBreaker !== undefined)
        throw invalidArgument('circuitBreaker', 'give circuitBreaker or breakers, not both');
      return o.breakers;
    }
    if (o.circuitBreaker === false) return undefined;
    return new OriginBreakers(o.circuitBreaker, { scheduler });
  }

  function retryOf(o: RxHttpInterceptorOptions, callDeadline: number | undefined) {
    const r = o.retry;
    if (r === undefined) return undefined;
    checkOptions(r, RETRY_KEYS, 'retry');
    const timeoutPerAttempt = optionalPositiveDuration(r.timeoutPerAttempt, 'retry.timeoutPerAttempt');
    for (const k of ['retryNonIdempotent', 'respectRetryAfter'] as const)
      if (r[k] !== undefined && typeof r[k] !== 'boolean')
        throw invalidArgument(`retry.${k}`, 'must be a boolean');
    if (r.retryOn !== undefined && typeof r.retryOn !== 'function')
      throw invalidArgument('retry.retryOn', 'must be a function');
    const budget = o.retryBudget === undefined ? retryBudget(undefined, scheduler) : o.retryBudget;
    const base: RetryBackoffOptions<Event> = {
      maxAttempts: r.maxAttempts,
      scheduler,
      ...(r.backoff === undefined ? {} : { backoff: r.backoff }),
      ...(r.respectRetryAfter === undefined ? {} : { respectRetryAfter: r.respectRetryAfter }),
      ...(budget === false ? {} : { budget }),
      ...(callDeadline === undefined ? {} : { deadline: callDeadline }),
      ...(o.random === undefined ? {} : { random: o.random }),
    };
    retryBackoff(base); // checks maxAttempts, backoff, random now, not on the first request
    const retryOn = r.retryOn ?? defaultHttpRetryOn;
    const anyMethod = r.retryNonIdempotent === true;
    return {
      timeoutPerAttempt,
      /** The retry of one request: `retryOn` reads the request, so it is made per request. */
      operator(req: HttpRequest<unknown>): MonoTypeOperatorFunction<Event> {
        return retryBackoff<Event>({
          ...base,
          retryOn: (outcome) => {
            const seen = httpOutcome(outcome, req);
            return retryOn(seen) && mayResend(req.method, seen.error, anyMethod);
          },
        });
      },
    };
  }
}

/** The operators' view of an attempt, as `retryOn` gets it. */
function httpOutcome(outcome: RetryOutcome<Event>, request: HttpRequest<unknown>): HttpAttemptOutcome {
  if (outcome.error !== undefined || !('value' in outcome))
    return { attempt: outcome.attempt, request, status: answeredStatus(outcome.error), error: outcome.error };
  const value = outcome.value;
  return {
    attempt: outcome.attempt,
    request,
    status: answeredStatus(value),
    ...(typeof value === 'object' && value !== null && 'status' in value ? { response: value } : {}),
  };
}

/** Inside the chain an rxhttp error travels bare, so the operators classify it by its code. */
function unwrap(error: unknown): Observable<never> {
  return throwError(() => rxhttpErrorOf(error) ?? error);
}

/** What Angular code expects: an `HttpErrorResponse`; rxhttp's own errors ride in it with status 0. */
function toHttpError(error: unknown, req: HttpRequest<unknown>): unknown {
  if (!isXhttpError(error)) return error;
  return new HttpErrorResponse({ error, status: 0, statusText: error.code, url: withoutQuery(req.url) });
}

/** The URL without its query and fragment: errors carry no query strings (they may hold secrets). */
export function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/**
 * The origin a request's breaker is kept under. Relative URLs resolve against the page (in a
 * browser); where there is no page, or the URL does not parse, every such request shares `''`.
 */
export function originOf(url: string): string {
  const base = (globalThis as { location?: { href?: unknown } }).location?.href;
  try {
    return new URL(url, typeof base === 'string' ? base : undefined).origin;
  } catch {
    return '';
  }
}
