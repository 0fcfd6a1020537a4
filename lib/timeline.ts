import type { ErrorCode, TimeoutPhase } from './errors.js';
import type { Address, AddressKey } from './types.js';

/**
 * What one call did, attempt by attempt and decision by decision: `XResponse.timeline` and
 * `XhttpError.timeline`. Folded on first read from the events the call emitted anyway (nothing is
 * built for a call whose timeline nobody reads). Times are the client clock's, in ms; entry times
 * (`atMs`, `endMs`) count from the call's start.
 *
 * @example
 * ```ts
 * const res = await client.get(users, '/users/42', { retry: { maxAttempts: 3 } });
 * for (const e of res.timeline.entries) console.log(e.atMs, e.kind, e);
 * // 0 attempt { attempt: 1, key: '10.0.0.1:80', endMs: 12, outcome: 'response', status: 503 }
 * // 12 retry { attempt: 2, delayMs: 40, delayReason: 'backoff', reason: '503' }
 * // 52 attempt { attempt: 2, key: '10.0.0.2:80', endMs: 60, outcome: 'response', status: 200 }
 * ```
 */
export interface CallTimeline {
  /** The call's id, as on `client.events$`. */
  readonly callId: number;
  readonly group: string;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  /** Client clock time the call started, ms. */
  readonly start: number;
  /** The call's deadline, ms after `start` (its `timeout`, shrunk by an incoming deadline). */
  readonly timeoutMs: number;
  /** Start to settling, ms; undefined while a streamed body is still being read. */
  readonly durationMs: number | undefined;
  /** As `call-end` says; `in-flight` while a streamed body is still being read. */
  readonly outcome: 'ok' | 'error' | 'cancelled' | 'in-flight';
  /** Status of the response the call returned. */
  readonly status?: number;
  /** Code of the error the call ended with. */
  readonly errorCode?: ErrorCode;
  /** Attempts and the decisions between them, in the order they happened. */
  readonly entries: readonly TimelineEntry[];
}

/** One line of a {@link CallTimeline}. */
export type TimelineEntry =
  | TimelineAttempt
  | TimelineRetry
  | TimelineRetryRefused
  | TimelineHedge
  | TimelineHedgeRefused
  | TimelineBreakerSkip
  | TimelineFailFast;

/** An attempt: where it went, when, and how it ended. */
export interface TimelineAttempt {
  readonly kind: 'attempt';
  /** 1-based attempt number. */
  readonly attempt: number;
  /** When it started, ms after the call's start. */
  readonly atMs: number;
  readonly address: Address;
  /** `host:port`. */
  readonly key: AddressKey;
  /** When it ended, ms after the call's start; absent while in flight. */
  readonly endMs?: number;
  /** `response` (any status), `error`, `cancelled` (never a failure), or `in-flight`. */
  readonly outcome: 'response' | 'error' | 'cancelled' | 'in-flight';
  readonly status?: number;
  readonly errorCode?: ErrorCode;
  /** Which deadline passed, when `errorCode` is `TIMEOUT`. */
  readonly timeoutPhase?: TimeoutPhase;
  /** The breaker's verdict on it. */
  readonly verdict?: 'success' | 'failure' | 'ignored';
  /** A hedge: sent while the call's other attempts were in flight (a `hedge` entry precedes it). */
  readonly hedge?: true;
  /** Cancelled because this attempt answered first (hedging): the loser's outcome is `cancelled`. */
  readonly lostTo?: number;
}

/** A hedge was sent: no attempt had answered after `delayMs`. */
export interface TimelineHedge {
  readonly kind: 'hedge';
  readonly atMs: number;
  /** The attempt the hedge is. */
  readonly attempt: number;
  /** How long the round waited for a response before hedging, ms. */
  readonly delayMs: number;
}

/** A hedge the `hedge` option wanted was not sent; the attempts in flight ran on. */
export interface TimelineHedgeRefused {
  readonly kind: 'hedge-refused';
  readonly atMs: number;
  readonly attempt: number;
  /**
   * `budget`: the hedge budget (`maxExtraLoad`) or the retry budget was spent;
   * `deadline-insufficient`: the hosts it could go to are slower than the time left.
   */
  readonly reason: 'budget' | 'deadline-insufficient';
  /** For `deadline-insufficient`: the fastest candidate host's recent latency, ms. */
  readonly expectedMs?: number;
  /** For `deadline-insufficient`: the time left, ms. */
  readonly remainingMs?: number;
}

/** A retry was scheduled. */
export interface TimelineRetry {
  readonly kind: 'retry';
  readonly atMs: number;
  /** The attempt it will be. */
  readonly attempt: number;
  readonly delayMs: number;
  /** `backoff`, `retry-after` (the response's Retry-After was honoured) or `transparent`. */
  readonly delayReason: 'backoff' | 'retry-after' | 'transparent';
  /** What failed: a status (`'503'`) or a lower-case error code (`'connect'`). */
  readonly reason: string;
}

/** A retry the policy wanted was not made; the call ended with the last outcome. */
export interface TimelineRetryRefused {
  readonly kind: 'retry-refused';
  readonly atMs: number;
  readonly attempt: number;
  /**
   * `budget`: the retry budget was spent; `deadline`: it could not start before the deadline;
   * `deadline-insufficient`: it could start, but the hosts it could go to are slower than the time left.
   */
  readonly reason: string;
  /** For `deadline-insufficient`: the fastest candidate host's recent latency, ms. */
  readonly expectedMs?: number;
  /** For `deadline-insufficient`: the time the retry would have had, ms. */
  readonly remainingMs?: number;
}

/** The host the balancer picked had its breaker refuse; the attempt went to another. */
export interface TimelineBreakerSkip {
  readonly kind: 'breaker-skip';
  readonly atMs: number;
  readonly attempt: number;
  /** The breaker key that refused. */
  readonly breakerKey: string;
}

/** Every candidate's breaker refused: nothing was sent. */
export interface TimelineFailFast {
  readonly kind: 'fail-fast';
  readonly atMs: number;
  readonly attempt: number;
}
