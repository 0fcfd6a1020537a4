import type { ErrorCode, TimeoutPhase } from '../errors.js';
import type { Address, AddressKey } from '../types.js';

/**
 * The backbone: every attempt of every call emits these onto `client.events$`. Breakers, balancer
 * statistics, the retry budget, metrics, traces and the dashboard are subscribers. Events never hold
 * header values or query strings; `path` is the path alone.
 *
 * `time` is the client's clock (ms). `callId` is unique per client.
 */
export type CallEvent =
  | CallStartEvent
  | CallEndEvent
  | AttemptStartEvent
  | AttemptEndEvent
  | RetryScheduledEvent
  | RetryRefusedEvent
  | HedgeRefusedEvent
  | FailFastEvent
  | BreakerTransitionEvent
  | ResolverUpdateEvent
  | ResolverErrorEvent
  | HealthCheckEvent;

interface CallScoped {
  /** The client clock's time of the event, ms. */
  readonly time: number;
  /** Identifies the call among this client's calls (1, 2, …). */
  readonly callId: number;
  /** Group name (its `name` option, or the target). */
  readonly group: string;
  /** Upper-case method. */
  readonly method: string;
}

/** A call was subscribed to. */
export interface CallStartEvent extends CallScoped {
  readonly type: 'call-start';
  /** Request path, without the query. */
  readonly path: string;
}

/** A call settled: response, error, or cancellation. */
export interface CallEndEvent extends CallScoped {
  readonly type: 'call-end';
  /** From subscription to settling, ms. */
  readonly durationMs: number;
  /** Attempts made. */
  readonly attempts: number;
  /** Status of the emitted response, when `outcome` is `ok`. */
  readonly status?: number | undefined;
  /** Code of the error, when `outcome` is `error`. */
  readonly errorCode?: ErrorCode | undefined;
  /**
   * `ok`: a response was emitted (any status); `error`: the call failed; `cancelled`: unsubscribed,
   * aborted by its `signal`, or ended by `client.close()` (the latter two with `errorCode`
   * `ABORTED`, which the caller receives). A cancellation is neither a success nor a failure: no
   * consumer counts it as either.
   */
  readonly outcome: 'ok' | 'error' | 'cancelled';
}

/** One attempt goes on the wire to `address`. */
export interface AttemptStartEvent extends CallScoped {
  readonly type: 'attempt-start';
  /** 1-based attempt number; 2 and up carry the `x-rxhttp-attempt` request header. */
  readonly attempt: number;
  readonly address: Address;
  /** `host:port` of the address, IPv6 in brackets. */
  readonly key: AddressKey;
  /** Circuit-breaker key for this attempt (default `host:port`). */
  readonly breakerKey: string;
  readonly path: string;
  /** The group's protocol (`url.scheme`); set by the client, `http` when absent. */
  readonly scheme?: 'http' | 'https' | undefined;
  /**
   * The breaker key of the host the balancer picked for this attempt whose breaker refused it, so
   * the attempt went to another host; undefined when the pick was admitted.
   */
  readonly breakerSkipped?: string | undefined;
  /**
   * A hedge (`hedge` option): sent after `hedgeDelayMs` with the call's other attempts still in
   * flight; undefined for an attempt that starts a round (the first, or a retry).
   */
  readonly hedge?: true | undefined;
  /** For a hedge: the delay it waited for a response, ms. */
  readonly hedgeDelayMs?: number | undefined;
}

/**
 * One attempt finished. With `responseType: 'stream'` that is when its body ends on the wire
 * (complete, failed, or stopped by its reader), not at headers: a body that fails after the headers
 * is the attempt's outcome, `status` and `errorCode` both set.
 */
export interface AttemptEndEvent extends CallScoped {
  readonly type: 'attempt-end';
  readonly attempt: number;
  readonly address: Address;
  readonly key: AddressKey;
  readonly breakerKey: string;
  /** Time the attempt took, ms. */
  readonly durationMs: number;
  /** Response status, when headers arrived. */
  readonly status?: number | undefined;
  /** Code of the attempt's error, if it failed. */
  readonly errorCode?: ErrorCode | undefined;
  /** Which deadline passed, when `errorCode` is `TIMEOUT`. */
  readonly timeoutPhase?: TimeoutPhase | undefined;
  /**
   * Unsubscribed, aborted by the caller's `signal`, or ended by `client.close()`: neither success
   * nor failure. `errorCode` is then absent and `verdict` is `ignored`; load statistics take no
   * latency sample and no outcome count from it.
   */
  readonly cancelled: boolean;
  /** The breaker's classification under `isFailure`: `ignored` when cancelled or no breaker. */
  readonly verdict: 'success' | 'failure' | 'ignored';
  /** The group's protocol (`url.scheme`); set by the client, `http` when absent. */
  readonly scheme?: 'http' | 'https' | undefined;
  /**
   * A streamed response's time to headers, ms: its latency sample for the balancers, which must not
   * learn how fast the caller read the body. Undefined for buffered responses and failures before it.
   */
  readonly headersMs?: number | undefined;
  /**
   * Hedging: the attempt was cancelled because attempt `lostTo` of the same call answered first
   * (`cancelled` is then true, `verdict` `ignored`).
   */
  readonly lostTo?: number | undefined;
}

/** A retry will be made after `delayMs`. */
export interface RetryScheduledEvent extends CallScoped {
  readonly type: 'retry-scheduled';
  /** The attempt that will be made (2 for the first retry). */
  readonly attempt: number;
  readonly delayMs: number;
  /** Why the delay is what it is. */
  readonly delayReason: 'backoff' | 'retry-after' | 'transparent';
  /** What failed: a status (`'503'`) or a lower-case error code (`'connect'`). */
  readonly reason: string;
}

/** A retry that the policy wanted was not made. */
export interface RetryRefusedEvent extends CallScoped {
  readonly type: 'retry-refused';
  /** The attempt that was not made. */
  readonly attempt: number;
  /**
   * `budget`: the client's retry budget was spent; `deadline`: the retry could not start before the
   * call's deadline; `deadline-insufficient`: it could start, but even the fastest host it could go
   * to takes longer (its recent latency, `expectedMs`) than the time it would have (`remainingMs`);
   * `body-not-replayable`: the request body was a stream, already sent once.
   */
  readonly reason: 'budget' | 'deadline' | 'deadline-insufficient' | 'body-not-replayable';
  /** For `deadline-insufficient`: the fastest candidate host's recent latency, ms. */
  readonly expectedMs?: number;
  /** For `deadline-insufficient`: the time the retry would have had after its delay, ms. */
  readonly remainingMs?: number;
}

/** A hedge the call's `hedge` option wanted was not sent. */
export interface HedgeRefusedEvent extends CallScoped {
  readonly type: 'hedge-refused';
  /** The attempt that was not made. */
  readonly attempt: number;
  /**
   * `budget`: the hedge budget (`maxExtraLoad` of recent calls) or the client's retry budget was
   * spent; `deadline-insufficient`: the fastest host it could go to recently took longer
   * (`expectedMs`) than the time left (`remainingMs`).
   */
  readonly reason: 'budget' | 'deadline-insufficient';
  /** For `deadline-insufficient`: the fastest candidate host's recent latency, ms. */
  readonly expectedMs?: number | undefined;
  /** For `deadline-insufficient`: the time left before the deadline, ms. */
  readonly remainingMs?: number | undefined;
}

/** A call failed at once because every candidate's breaker was open. */
export interface FailFastEvent extends CallScoped {
  readonly type: 'fail-fast';
  readonly attempt: number;
}

/** A breaker changed state. */
export interface BreakerTransitionEvent {
  readonly type: 'breaker-transition';
  readonly time: number;
  readonly breakerKey: string;
  readonly from: 'closed' | 'open' | 'half-open';
  readonly to: 'closed' | 'open' | 'half-open';
  /** Set for a command of `client.breakers` (emitted even when the state shown stays the same). */
  readonly cause?: 'forceOpen' | 'forceClose' | 'reset';
  /** The manual override in force after the change; absent when none. */
  readonly forced?: 'open' | 'closed';
}

/** A group's resolver produced a new list. */
export interface ResolverUpdateEvent {
  readonly type: 'resolver-update';
  readonly time: number;
  readonly group: string;
  readonly addresses: readonly Address[];
}

/** A group's resolver failed; the last good list is kept. */
export interface ResolverErrorEvent {
  readonly type: 'resolver-error';
  readonly time: number;
  readonly group: string;
  /** The error's code (`NO_ADDRESS` for an empty answer, a DNS code such as `ENOTFOUND`, …). */
  readonly errorCode: string;
  readonly message: string;
}

/**
 * One active health-check probe of a host ended (`AddressGroupOptions.healthCheck`). Probes are not
 * calls: no call or attempt events, and breakers and load statistics do not count them.
 */
export interface HealthCheckEvent {
  readonly type: 'health-check';
  readonly time: number;
  readonly group: string;
  readonly address: Address;
  readonly key: AddressKey;
  /** The status was one `expectStatus` accepts. */
  readonly ok: boolean;
  /** The response status, when one came. */
  readonly status?: number;
  /** Why it failed without a status: `TIMEOUT` (past `healthCheck.timeout`), `CONNECT`, `RESET`, … */
  readonly errorCode?: string;
  /** From sending the probe to its result, ms. */
  readonly durationMs: number;
  /** The host's health-check status after this probe. */
  readonly health: 'passing' | 'failing' | 'unknown';
}

/** The key of each address object met: one string per address, so maps keyed by it hash it once. */
const keys = new WeakMap<Address, AddressKey>();

/**
 * `host:port`, IPv6 in brackets. The same string object for the same frozen address object (a
 * group's): breakers, load statistics and health windows look it up several times per call.
 */
export function addressKey(a: Address): AddressKey {
  let key = keys.get(a);
  if (key === undefined) {
    key = a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
    // A group's addresses are frozen; one a caller could still change is keyed afresh each time.
    if (Object.isFrozen(a)) keys.set(a, key);
  }
  return key;
}
