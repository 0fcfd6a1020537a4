import { safeCause } from './error-cause.js';
import type { Address } from './types.js';

/**
 * Every failure that leaves rxhttp carries one of these stable codes.
 *
 * | code | meaning |
 * |---|---|
 * | `INVALID_ARGUMENT` | bad config, target, header or option; `field` names it |
 * | `NO_ADDRESS` | the group has no address (never resolved, or empty) |
 * | `FAIL_FAST` | every candidate's circuit breaker is open; nothing was sent |
 * | `TIMEOUT` | a deadline passed; `TimeoutError.phase` says which |
 * | `CONNECT` | the TCP or TLS connection could not be made |
 * | `RESET` | the connection broke after it was made |
 * | `ABORTED` | the caller unsubscribed or aborted the signal |
 * | `RESPONSE_TOO_LARGE` | the body exceeded `maxResponseBytes` |
 * | `PROTOCOL` | the peer spoke malformed HTTP |
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NO_ADDRESS'
  | 'FAIL_FAST'
  | 'TIMEOUT'
  | 'CONNECT'
  | 'RESET'
  | 'ABORTED'
  | 'RESPONSE_TOO_LARGE'
  | 'PROTOCOL';

/** Which deadline a {@link TimeoutError} reports. */
export type TimeoutPhase = 'call' | 'attempt' | 'connect' | 'headers' | 'body';

const BRAND = Symbol.for('rxhttp.XhttpError');

/** Options accepted by every rxhttp error constructor. */
export interface XhttpErrorOptions {
  readonly cause?: unknown;
  readonly address?: Address;
  readonly attempts?: number;
  /** The config field, option or argument at fault (for `INVALID_ARGUMENT`). */
  readonly field?: string;
}

/**
 * The one error type rxhttp emits. Messages never hold header values or query strings, nor does
 * any error in the `cause` chain (a cause that quotes a query string or userinfo is a redacted copy).
 *
 * @example
 * ```ts
 * client.get$(group, '/x').subscribe({ error: (e) => isXhttpError(e) && console.log(e.code) });
 * ```
 */
export class XhttpError extends Error {
  readonly code: ErrorCode;
  readonly address?: Address;
  attempts?: number;
  readonly field?: string;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: XhttpErrorOptions = {}) {
    // The cause as it came, unless it quotes a query string or userinfo (a URL parser's `input`).
    super(message, options.cause === undefined ? undefined : { cause: safeCause(options.cause) });
    this.name = 'XhttpError';
    this.code = code;
    if (options.address !== undefined) this.address = options.address;
    if (options.attempts !== undefined) this.attempts = options.attempts;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** Thrown by a call whose every candidate address has an open circuit breaker. */
export class FailFastError extends XhttpError {
  constructor(message = 'circuit breaker open for every candidate address', options: XhttpErrorOptions = {}) {
    super('FAIL_FAST', message, options);
    this.name = 'FailFastError';
  }
}

/**
 * A deadline passed. Not rxjs's `TimeoutError`: import ours as
 * `import { TimeoutError as XTimeoutError } from 'rxhttp'` when both are in scope.
 */
export class TimeoutError extends XhttpError {
  readonly phase: TimeoutPhase;
  constructor(phase: TimeoutPhase, ms: number, options: XhttpErrorOptions = {}) {
    super('TIMEOUT', `${phase} timeout after ${ms} ms`, options);
    this.name = 'TimeoutError';
    this.phase = phase;
  }
}

/** True for any error created by rxhttp, across copies of the package. */
export function isXhttpError(e: unknown): e is XhttpError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** Shorthand for an `INVALID_ARGUMENT` error naming the field at fault. */
export function invalidArgument(field: string, problem: string, cause?: unknown): XhttpError {
  return new XhttpError('INVALID_ARGUMENT', `invalid ${field}: ${problem}`, {
    field,
    ...(cause === undefined ? {} : { cause }),
  });
}
