import { invalidArgument, type XhttpError } from '../errors.js';
import { checkOptions, optionalPositiveDuration, optionalPositiveInt, own } from '../internal/validate.js';
import type { AttemptOutcome, RetryOptions } from '../types.js';
import { resolveBackoff, type ResolvedBackoff } from './backoff.js';

/**
 * Most attempts one call may make. More is never a recovery strategy, only load: a typo such as
 * `maxAttempts: 1000` is refused rather than honoured.
 */
export const MAX_ATTEMPTS = 100;

/** Statuses the default `retryOn` retries: the gateway and overload family. */
export const DEFAULT_RETRY_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

// RFC 9110 §9.2.2. Matched after upper-casing, as fetch normalizes the standard methods.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Codes in an error's `cause` chain that prove no connection carried the request: refused,
 * unroutable, unresolvable, or the TCP/TLS connect timed out.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The option names of `RetryOptions` (the Angular interceptor's `retry` takes the same). */
export const RETRY_OPTION_KEYS: readonly string[] = [
  'maxAttempts',
  'retryOn',
  'timeoutPerAttempt',
  'backoff',
  'retryNonIdempotent',
  'respectRetryAfter',
];

/** {@link RetryOptions} validated, with every default applied. */
export interface ResolvedRetry {
  readonly maxAttempts: number;
  /** The user's predicate, or {@link defaultRetryOn}. */
  readonly retryOn: (outcome: AttemptOutcome) => boolean;
  readonly timeoutPerAttempt?: number | undefined;
  readonly backoff: ResolvedBackoff;
  readonly retryNonIdempotent: boolean;
  readonly respectRetryAfter: boolean;
}

/**
 * True for the methods RFC 9110 calls idempotent: GET, HEAD, OPTIONS, PUT, DELETE, TRACE
 * (any case). Anything else, POST, PATCH and unknown extension methods included, is not.
 */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method) || IDEMPOTENT.has(method.toUpperCase());
}

/**
 * The default `retryOn`: connect errors, connection resets, and timeouts of one attempt (phases
 * `attempt`, `connect`, `headers`, `body`), plus statuses 502, 503, 504. Never the call's own
 * deadline (phase `call`): nothing is left to retry in. When an outcome has both an error and a
 * response (the body failed after the headers), the error decides.
 */
export function defaultRetryOn(outcome: AttemptOutcome): boolean {
  const error = outcome.error;
  if (error !== undefined) {
    if (error.code === 'CONNECT' || error.code === 'RESET') return true;
    if (error.code !== 'TIMEOUT') return false;
    // A TIMEOUT without a known phase cannot be told apart from the call deadline: not retried.
    const phase = (error as { phase?: unknown }).phase;
    return phase === 'attempt' || phase === 'connect' || phase === 'headers' || phase === 'body';
  }
  return outcome.response !== undefined && DEFAULT_RETRY_STATUSES.has(outcome.response.status);
}

/**
 * True only when the failure proves the request never reached a server, which makes even a POST
 * safe to send again. The rule:
 *
 * 1. code `CONNECT`: the transport maps every failure before a socket carried the request
 *    (refused, DNS, unreachable, TLS handshake, pool closed before the write) to `CONNECT`;
 * 2. a `TIMEOUT` in phase `connect`: the TCP/TLS handshake never finished;
 * 3. otherwise, a `cause` chain (or an `AggregateError`'s every member, as Node's
 *    happy-eyeballs connect reports) whose code is one of `ECONNREFUSED`, `ENOTFOUND`,
 *    `EAI_AGAIN`, `EHOSTUNREACH`, `ENETUNREACH`, `EADDRNOTAVAIL`, `UND_ERR_CONNECT_TIMEOUT`.
 *
 * Resets, other timeouts and everything else are ambiguous (the server may have acted) and give
 * false, as does `undefined`.
 */
export function neverReachedServer(error: XhttpError | undefined): boolean {
  if (error === undefined) return false;
  if (error.code === 'CONNECT') return true;
  if (error.code === 'TIMEOUT' && (error as { phase?: unknown }).phase === 'connect') return true;
  return causeNotSent(error.cause, 0);
}

// Bounded depth: cause chains can be cyclic or hostile.
function causeNotSent(cause: unknown, depth: number): boolean {
  if (depth > 8 || typeof cause !== 'object' || cause === null) return false;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
  const errors = (cause as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0 && errors.length <= 16)
    return errors.every((e) => causeNotSent(e, depth + 1));
  return causeNotSent((cause as { cause?: unknown }).cause, depth + 1);
}

/**
 * Whether an attempt's outcome should be retried under `opts`, before the attempt count, the
 * deadline and the budget have their say: `opts.retryOn` (default {@link defaultRetryOn}) must
 * want it, and a non-idempotent method is retried only with `retryNonIdempotent` or when the
 * failure {@link neverReachedServer | never reached a server}.
 *
 * @example
 * ```ts
 * shouldRetry({ ...outcome, method: 'POST', response: { status: 503, headers: {} } }, { maxAttempts: 3 }) // false
 * ```
 */
export function shouldRetry(outcome: AttemptOutcome, opts: RetryOptions | ResolvedRetry): boolean {
  const retryOn = opts.retryOn ?? defaultRetryOn;
  if (!retryOn(outcome)) return false;
  if (isIdempotent(outcome.method)) return true;
  return opts.retryNonIdempotent === true || neverReachedServer(outcome.error);
}

/**
 * Validates a call's `retry` option and applies the defaults; `undefined` (no retry) stays
 * `undefined`. Throws `INVALID_ARGUMENT` naming the field (`retry.maxAttempts`, …) on a missing or
 * non-integer `maxAttempts` or one above {@link MAX_ATTEMPTS}, a `timeoutPerAttempt` that is not a
 * positive number of ms a timer can wait, a `retryOn` that is not a function, non-boolean flags,
 * bad back-off options, or unknown keys (`__proto__` and `constructor` included).
 *
 * @example
 * ```ts
 * resolveRetryOptions({ maxAttempts: 3 }) // backoff defaults, respectRetryAfter true, retryNonIdempotent false
 * ```
 */
export function resolveRetryOptions(
  opts: RetryOptions | undefined,
  field = 'retry',
): ResolvedRetry | undefined {
  if (opts === undefined) return undefined;
  checkOptions(opts, RETRY_OPTION_KEYS, field);
  const o = opts as unknown as Record<string, unknown>;
  // Own properties only: a polluted Object.prototype must not turn on retryNonIdempotent.
  if (own(o, 'maxAttempts') === undefined) throw invalidArgument(`${field}.maxAttempts`, 'is required');
  const maxAttempts = optionalPositiveInt(
    own(o, 'maxAttempts'),
    `${field}.maxAttempts`,
    MAX_ATTEMPTS,
  ) as number;
  const retryOn = own(o, 'retryOn');
  if (retryOn !== undefined && typeof retryOn !== 'function')
    throw invalidArgument(`${field}.retryOn`, 'must be a function');
  // One story for 0, negatives and non-numbers: an attempt needs time to run; no option means no limit.
  const timeoutPerAttempt = optionalPositiveDuration(
    own(o, 'timeoutPerAttempt'),
    `${field}.timeoutPerAttempt`,
  );
  return {
    maxAttempts,
    retryOn: (retryOn as ResolvedRetry['retryOn'] | undefined) ?? defaultRetryOn,
    // Always present (undefined when unset): a conditional spread cost ~1 µs a call on Node 20.
    timeoutPerAttempt,
    backoff: resolveBackoff(own(o, 'backoff') as RetryOptions['backoff'], `${field}.backoff`),
    retryNonIdempotent: flag(own(o, 'retryNonIdempotent'), `${field}.retryNonIdempotent`) ?? false,
    respectRetryAfter: flag(own(o, 'respectRetryAfter'), `${field}.respectRetryAfter`) ?? true,
  };
}

function flag(value: unknown, field: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw invalidArgument(field, 'must be a boolean');
  return value;
}
