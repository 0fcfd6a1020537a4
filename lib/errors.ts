import { safeCause } from './error-cause.js';
import type { CallTimeline } from './timeline.js';
import type { Address } from './types.js';

/**
 * Every failure that leaves rxhttp carries one of these stable codes.
 *
 * | code | meaning |
 * |---|---|
 * | `INVALID_ARGUMENT` | bad config, target, header or option; `field` names it |
 * | `NO_ADDRESS` | the group has no address (never resolved, or empty) |
 * | `FAIL_FAST` | every candidate's circuit breaker is open; nothing was sent |
 * | `OVERLOADED` | the group's bulkhead is full (`maxConcurrentCalls` busy, `maxQueued` waiting); nothing was sent |
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
  | 'OVERLOADED'
  | 'TIMEOUT'
  | 'CONNECT'
  | 'RESET'
  | 'ABORTED'
  | 'RESPONSE_TOO_LARGE'
  | 'PROTOCOL';

/**
 * Which deadline a {@link TimeoutError} reports: `call` (the call's `timeout`, retries included),
 * `attempt` (`retry.timeoutPerAttempt`), `connect` (`connectTimeout`), `headers` (`headersTimeout`)
 * or `body` (`bodyTimeout`, silence between chunks).
 */
export type TimeoutPhase = 'call' | 'attempt' | 'connect' | 'headers' | 'body';

const BRAND = Symbol.for('rxhttp.XhttpError');

/** What a failed call hands its error: the call's log, folded into a timeline on first read. */
export interface TimelineSource {
  readonly timeline: CallTimeline;
}

let attach: (error: XhttpError, source: TimelineSource) => void;

/** Options accepted by every rxhttp error constructor. */
export interface XhttpErrorOptions {
  /** The underlying error (an undici or Node error), kept as `error.cause`. */
  readonly cause?: unknown;
  /** The server the failing attempt went to. */
  readonly address?: Address;
  /** Attempts made before the failure. */
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
  /** Stable code: branch on it, not on the message (see {@link ErrorCode}). */
  readonly code: ErrorCode;
  /** The server of the failing attempt, when one was picked. */
  readonly address?: Address;
  /** Attempts the call made, the failing one included; absent for errors before any call. */
  attempts?: number;
  /** For `INVALID_ARGUMENT`: the config field, option or argument at fault (`options.timeout`, `target`). */
  readonly field?: string;
  readonly [BRAND] = true;
  // Private, so logging an error never prints a whole call's history.
  #timeline: TimelineSource | undefined = undefined;

  static {
    attach = (error, source) => {
      error.#timeline = source;
    };
  }

  /**
   * What the call that failed did: every attempt and every decision between them (see
   * {@link CallTimeline}). Undefined for an error raised before any call started (bad arguments).
   */
  get timeline(): CallTimeline | undefined {
    return this.#timeline?.timeline;
  }

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

/**
 * Code `FAIL_FAST`: every candidate address of the call's group has an open circuit breaker, so
 * nothing was sent. Not retried; try again after the breakers' `circuitOpenWindow`.
 */
export class FailFastError extends XhttpError {
  constructor(message = 'circuit breaker open for every candidate address', options: XhttpErrorOptions = {}) {
    super('FAIL_FAST', message, options);
    this.name = 'FailFastError';
  }
}

/**
 * Code `TIMEOUT`: a deadline passed; `phase` says which. Not rxjs's `TimeoutError`: import ours as
 * `import { TimeoutError as XTimeoutError } from 'rxhttp'` when both are in scope.
 *
 * @example
 * ```ts
 * if (e instanceof XTimeoutError && e.phase === 'call') metrics.deadlineExceeded.inc();
 * ```
 */
export class TimeoutError extends XhttpError {
  /** Which deadline passed. */
  readonly phase: TimeoutPhase;
  constructor(phase: TimeoutPhase, ms: number, options: XhttpErrorOptions = {}) {
    super('TIMEOUT', `${phase} timeout after ${ms} ms`, options);
    this.name = 'TimeoutError';
    this.phase = phase;
  }
}

/** @internal The call that ends with `error` gives it its timeline (not exported from the package). */
export function attachTimeline(error: XhttpError, source: TimelineSource): void {
  attach(error, source);
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
