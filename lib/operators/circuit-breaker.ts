import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { FailFastError, isXhttpError } from '../errors.js';
import { callbackFailed } from '../internal/callback.js';
import { statusOf } from './outcome.js';
import type { CircuitBreaker } from './breaker.js';

/** How {@link circuitBreaker} tells a failure from a success. */
export interface CircuitBreakerOperatorOptions<T> {
  /**
   * Whether the first value (the response) is a failure.
   * @defaultValue an object with a numeric `status` ≥ 500 ({@link isServerErrorValue})
   */
  readonly isFailure?: (value: T) => boolean;
  /**
   * Whether an error is a failure; false counts it as a success (the host answered, as with an
   * Angular `HttpErrorResponse` of status 404). rxhttp's `ABORTED` and `FAIL_FAST` are never asked
   * about: they count as neither (the caller gave up; an inner breaker refused).
   * @defaultValue {@link isFailureError}: by its status when it carries one (≥ 500), else true
   */
  readonly isErrorFailure?: (error: unknown) => boolean;
}

/** The default value classifier: an object with a numeric `status` of 500 or more. */
export function isServerErrorValue(value: unknown): boolean {
  const status =
    typeof value === 'object' && value !== null ? (value as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 500;
}

/**
 * The default error classifier. An error that carries an HTTP status (Angular's
 * `HttpErrorResponse`, an axios error's `response.status`) is the host's answer: a failure only
 * from 500 up, as a value would be. Any other error (the network, a timeout) is a failure.
 */
export function isFailureError(error: unknown): boolean {
  const status = statusOf(error);
  return status === undefined || status >= 500;
}

/** Errors that say nothing about the host: the caller gave up, or an inner breaker refused. */
function isNoVerdict(error: unknown): boolean {
  return isXhttpError(error) && (error.code === 'ABORTED' || error.code === 'FAIL_FAST');
}

/**
 * Guards a source with `breaker`: each subscription first takes a permit; when refused, the result
 * errors with `FailFastError` and the source is not subscribed. The first value decides the
 * verdict (`isFailure`), later values pass unjudged; completing with no value is a success; an error
 * before a value is a failure unless `isErrorFailure` says otherwise (then a success); rxhttp's
 * `ABORTED` and `FAIL_FAST` errors, and unsubscribing before the verdict, count as neither: the
 * permit is released (as resilience4j's operators do).
 *
 * A callback that throws errors the result with `INVALID_ARGUMENT` naming it
 * (`circuitBreaker.isFailure`), after releasing the permit.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ minimumRequestThreshold: 5 });
 * defer(() => fetch(url)).pipe(circuitBreaker(breaker)).subscribe({
 *   error: (e) => e instanceof FailFastError && console.log('open: not sent'),
 * });
 * ```
 */
export function circuitBreaker<T>(
  breaker: CircuitBreaker,
  options: CircuitBreakerOperatorOptions<T> = {},
): MonoTypeOperatorFunction<T> {
  const isFailure = options.isFailure ?? isServerErrorValue;
  const isErrorFailure = options.isErrorFailure ?? isFailureError;
  return (source) =>
    new Observable<T>((subscriber) => {
      if (!breaker.tryAcquire()) {
        subscriber.error(new FailFastError('circuit breaker open'));
        return;
      }
      let pending = true;
      /** Reports once; returns an error to emit when a classifier threw. */
      const settle = (verdict: () => boolean, field: string): unknown => {
        pending = false;
        let failed: boolean;
        try {
          failed = verdict();
        } catch (thrown) {
          breaker.release();
          return callbackFailed(field, thrown);
        }
        if (failed) breaker.onFailure();
        else breaker.onSuccess();
        return undefined;
      };
      const inner = source.subscribe({
        next(value) {
          if (pending) {
            const bad = settle(() => isFailure(value), 'circuitBreaker.isFailure');
            if (bad !== undefined) return subscriber.error(bad);
          }
          subscriber.next(value);
        },
        error(error: unknown) {
          if (pending) {
            if (isNoVerdict(error)) {
              pending = false;
              breaker.release();
            } else {
              const bad = settle(() => isErrorFailure(error), 'circuitBreaker.isErrorFailure');
              if (bad !== undefined) return subscriber.error(bad);
            }
          }
          subscriber.error(error);
        },
        complete() {
          if (pending) settle(() => false, 'circuitBreaker.isFailure');
          subscriber.complete();
        },
      });
      return () => {
        inner.unsubscribe();
        if (pending) {
          pending = false;
          breaker.release();
        }
      };
    });
}
