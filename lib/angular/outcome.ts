import {
  HttpErrorResponse,
  HttpEventType,
  type HttpEvent,
  type HttpRequest,
  type HttpResponseBase,
} from '@angular/common/http';
import { isXhttpError, type XhttpError } from '../errors.js';
import {
  DEFAULT_RETRY_STATUSES,
  defaultRetryOn,
  isIdempotent,
  neverReachedServer,
} from '../resilience/retry-policy.js';

/**
 * One attempt's outcome as `retry.retryOn` of {@link rxhttpInterceptor} sees it: Angular's own
 * objects, plus the status when a server answered.
 */
export interface HttpAttemptOutcome {
  /** 1-based attempt number within the call. */
  readonly attempt: number;
  /** The request as this interceptor passed it on. */
  readonly request: HttpRequest<unknown>;
  /**
   * The status the server answered with (the response's, or the `HttpErrorResponse`'s); undefined
   * when none came back: the network failed (Angular's status 0), the attempt timed out, a breaker refused.
   */
  readonly status: number | undefined;
  /** The response (`HttpResponse`, or `HttpHeaderResponse` with `reportProgress`) of an attempt that succeeded. */
  readonly response?: HttpResponseBase;
  /** Why the attempt failed: an `HttpErrorResponse`, or rxhttp's `TimeoutError` (phase `attempt`). */
  readonly error?: unknown;
}

/**
 * The events an attempt's outcome is read from. `Sent` and `UploadProgress` come before any answer
 * (and again on every retry), so the operators, which judge an attempt by its first value, never see them.
 */
export function isAnswerEvent(event: HttpEvent<unknown>): boolean {
  return event.type !== HttpEventType.Sent && event.type !== HttpEventType.UploadProgress;
}

/**
 * The rxhttp error inside an error, if any: the error itself, or the `error` of an
 * `HttpErrorResponse` of status 0 that wraps one (as this interceptor and `provideRxHttp`'s backend
 * hand them to Angular).
 */
export function rxhttpErrorOf(error: unknown): XhttpError | undefined {
  if (isXhttpError(error)) return error;
  if (error instanceof HttpErrorResponse && error.status === 0 && isXhttpError(error.error))
    return error.error;
  return undefined;
}

/** The HTTP status an event or error carries; undefined for none and for Angular's status 0. */
export function answeredStatus(x: unknown): number | undefined {
  const status = typeof x === 'object' && x !== null ? (x as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status > 0 ? status : undefined;
}

/**
 * The default `retry.retryOn`, `client.request$`'s for Angular's objects: statuses 502, 503 and
 * 504; rxhttp errors the client retries (`CONNECT`, `RESET`, a `TIMEOUT` of one attempt, never the
 * call's); and a network failure (`HttpErrorResponse` of status 0). Other statuses are answers.
 */
export function defaultHttpRetryOn(outcome: HttpAttemptOutcome): boolean {
  if (outcome.status !== undefined) return DEFAULT_RETRY_STATUSES.has(outcome.status);
  if (outcome.error === undefined) return false;
  const rx = rxhttpErrorOf(outcome.error);
  if (rx === undefined) return true;
  return defaultRetryOn({
    attempt: outcome.attempt,
    address: NO_ADDRESS,
    error: rx,
    elapsedMs: 0,
    method: outcome.request.method,
  });
}

/** `defaultRetryOn` reads only the error of an outcome; the rest is filler. */
const NO_ADDRESS = Object.freeze({ host: '', port: 0 });

/**
 * Whether a method may be sent again after `error`: always for the idempotent methods (RFC 9110),
 * else only when asked (`retryNonIdempotent`) or when rxhttp proves the request never left (a
 * `CONNECT` error from `provideRxHttp`'s client). A browser's network error proves nothing.
 */
export function mayResend(method: string, error: unknown, retryNonIdempotent: boolean): boolean {
  return isIdempotent(method) || retryNonIdempotent || neverReachedServer(rxhttpErrorOf(error));
}

/**
 * The breaker's error classifier: the host failed when it answered 5xx, when nothing came back
 * (status 0: refused, reset, DNS) or the attempt timed out. A 4xx is the host working.
 */
export function isHostFailure(error: unknown): boolean {
  if (error instanceof HttpErrorResponse) return error.status === 0 || error.status >= 500;
  return true;
}
