import { invalidArgument } from '../errors.js';
import { addressKey } from '../events/events.js';
import {
  checkOptions,
  optionalDuration,
  optionalPositiveDuration,
  optionalRatio,
  describeValue,
} from '../internal/validate.js';
import type { Address, AttemptOutcome, XRequest } from '../types.js';

/**
 * Circuit-breaker settings (`ClientConfig.circuitBreaker`), Armeria's parameter for parameter. Every
 * field is optional; {@link resolveBreakerConfig} fills in the defaults below. A breaker opens when,
 * over the sliding window, failures / total exceed `failureRateThreshold` and total reaches
 * `minimumRequestThreshold`; while open, calls whose every candidate is open fail with `FAIL_FAST`
 * without sending; after `circuitOpenWindow` one trial request per `trialRequestInterval` decides
 * whether it closes again. A cancelled attempt counts neither way.
 *
 * @example
 * ```ts
 * new Client({ circuitBreaker: { failureRateThreshold: 0.3, circuitOpenWindow: 5_000 } });
 * ```
 */
export interface CircuitBreakerConfig {
  /** Open when failures / total over the window exceed this (strictly). @defaultValue 0.5 */
  readonly failureRateThreshold?: number;
  /** …and the window holds at least this many results (an integer ≥ 0). @defaultValue 10 */
  readonly minimumRequestThreshold?: number;
  /** Half-open admits one trial per this many ms; 0 allowed. @defaultValue 3_000 */
  readonly trialRequestInterval?: number;
  /**
   * Time open, ms, rejecting every request, before the next request becomes a trial; 0 allowed. The
   * first trip's window: a breaker that trips again soon after closing stays open longer (see
   * `maxCircuitOpenWindow`). @defaultValue 10_000
   */
  readonly circuitOpenWindow?: number;
  /**
   * Ejection that grows: the n-th consecutive trip opens the breaker for
   * `circuitOpenWindow × 2^(n−1)` ms, at most this (Envoy's `max_ejection_time`, gRPC's capped
   * back-off). A failed half-open trial is a trip too. The count starts over when the breaker trips
   * after staying closed at least as long as its last open window (a host healthy for as long as it
   * was last ejected is forgiven; Envoy takes as long to decay its multiplier to zero). Equal to
   * `circuitOpenWindow`: every trip opens for `circuitOpenWindow` (the growth is off). At least
   * `circuitOpenWindow`. @defaultValue 300_000, or `circuitOpenWindow` when that is larger
   */
  readonly maxCircuitOpenWindow?: number;
  /** Span of the sliding counter, ms; a positive number. @defaultValue 20_000 */
  readonly counterSlidingWindow?: number;
  /** Bucket width of the sliding counter, ms: counts refresh at most this often; positive, at most `counterSlidingWindow`. @defaultValue 1_000 */
  readonly counterUpdateInterval?: number;
  /**
   * Says which outcomes count as failures. @defaultValue a 5xx status, or a `CONNECT`, `RESET`,
   * `TIMEOUT` (any phase) or `PROTOCOL` error ({@link defaultIsFailure})
   */
  readonly isFailure?: (outcome: AttemptOutcome) => boolean;
  /**
   * Names the breaker an attempt belongs to; the request it gets has the path without its query.
   * @defaultValue `host:port` of the address, one breaker per host ({@link defaultBreakerKey})
   * @example
   * ```ts
   * key: (req, address) => `${address.host}:${address.port}${req.path?.startsWith('/slow') ? '/slow' : ''}`
   * ```
   */
  readonly key?: (req: XRequest, address: Address) => string;
}

/** Failure ratio above which a closed breaker opens (Armeria's default). */
export const DEFAULT_FAILURE_RATE_THRESHOLD = 0.5;
/** Results the window must hold before the ratio may open the breaker. */
export const DEFAULT_MINIMUM_REQUEST_THRESHOLD = 10;
/** Half-open admits one trial per this many ms. */
export const DEFAULT_TRIAL_REQUEST_INTERVAL = 3_000;
/** How long an open breaker rejects before admitting a trial, ms. */
export const DEFAULT_CIRCUIT_OPEN_WINDOW = 10_000;
/** Longest open window of a breaker that keeps tripping, ms (Envoy's `max_ejection_time` default). */
export const DEFAULT_MAX_CIRCUIT_OPEN_WINDOW = 300_000;
/** Span of the sliding failure counter, ms. */
export const DEFAULT_COUNTER_SLIDING_WINDOW = 20_000;
/** Bucket width of the sliding failure counter, ms. */
export const DEFAULT_COUNTER_UPDATE_INTERVAL = 1_000;

/** A {@link CircuitBreakerConfig} validated, with every default applied. */
export interface ResolvedBreakerConfig {
  readonly failureRateThreshold: number;
  readonly minimumRequestThreshold: number;
  readonly trialRequestInterval: number;
  readonly circuitOpenWindow: number;
  readonly maxCircuitOpenWindow: number;
  readonly counterSlidingWindow: number;
  readonly counterUpdateInterval: number;
  readonly isFailure: (outcome: AttemptOutcome) => boolean;
  readonly key: (req: XRequest, address: Address) => string;
}

/**
 * Error codes that say the host is unwell. `PROTOCOL` is in: a peer speaking malformed HTTP is as
 * broken as one resetting (Armeria counts every exception). `RESPONSE_TOO_LARGE` is out: the host
 * answered, our own limit cut it. `ABORTED` is never a verdict on the host (the caller gave up);
 * the registry ignores it before `isFailure` is asked.
 */
const FAILURE_CODES: ReadonlySet<string> = new Set(['CONNECT', 'RESET', 'TIMEOUT', 'PROTOCOL']);

/**
 * The default failure classifier: a 5xx status, or a connect error, reset, timeout (any phase,
 * the call deadline included: a host too slow for it is failing) or protocol error.
 */
export function defaultIsFailure(outcome: AttemptOutcome): boolean {
  // A streamed body that failed after its headers has both: the error is the outcome.
  if (outcome.error !== undefined) return FAILURE_CODES.has(outcome.error.code);
  return outcome.response !== undefined && outcome.response.status >= 500;
}

/** The default breaker key: the address as `host:port` (IPv6 in brackets), one breaker per host. */
export function defaultBreakerKey(_req: XRequest, address: Address): string {
  return addressKey(address);
}

const KEYS = [
  'failureRateThreshold',
  'minimumRequestThreshold',
  'trialRequestInterval',
  'circuitOpenWindow',
  'maxCircuitOpenWindow',
  'counterSlidingWindow',
  'counterUpdateInterval',
  'isFailure',
  'key',
] as const;

function optionalCount(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalidArgument(field, `must be an integer from 0 up (got ${describeValue(value)})`);
  return value;
}

function optionalFunction<F>(value: unknown, field: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidArgument(field, 'must be a function');
  return value as F;
}

/**
 * Validates a breaker config and applies the defaults. Throws `INVALID_ARGUMENT` naming the field
 * (`circuitBreaker.counterUpdateInterval`, …) on an unknown key, a non-finite or negative duration,
 * a ratio outside [0, 1], a minimum that is not a non-negative integer, a bucket wider than the
 * window, or a non-function classifier or key.
 *
 * The counter's two durations must be > 0 (a zero bucket would hold one event each);
 * `maxCircuitOpenWindow` must not be less than `circuitOpenWindow`. The open window
 * and trial interval may be 0: the next request is then a trial at once, which specs find handy.
 */
export function resolveBreakerConfig(
  input: CircuitBreakerConfig | undefined,
  field = 'circuitBreaker',
): ResolvedBreakerConfig {
  checkOptions(input, KEYS, field);
  const c: Partial<Record<(typeof KEYS)[number], unknown>> = input ?? {};
  const f = (name: string) => `${field}.${name}`;
  const counterSlidingWindow =
    optionalPositiveDuration(c.counterSlidingWindow, f('counterSlidingWindow')) ??
    DEFAULT_COUNTER_SLIDING_WINDOW;
  const counterUpdateInterval =
    optionalPositiveDuration(c.counterUpdateInterval, f('counterUpdateInterval')) ??
    DEFAULT_COUNTER_UPDATE_INTERVAL;
  if (counterUpdateInterval > counterSlidingWindow)
    throw invalidArgument(
      f('counterUpdateInterval'),
      `must not exceed counterSlidingWindow (${counterSlidingWindow} ms)`,
    );
  const circuitOpenWindow =
    optionalDuration(c.circuitOpenWindow, f('circuitOpenWindow')) ?? DEFAULT_CIRCUIT_OPEN_WINDOW;
  const maxCircuitOpenWindow =
    optionalDuration(c.maxCircuitOpenWindow, f('maxCircuitOpenWindow')) ??
    Math.max(DEFAULT_MAX_CIRCUIT_OPEN_WINDOW, circuitOpenWindow);
  if (maxCircuitOpenWindow < circuitOpenWindow)
    throw invalidArgument(
      f('maxCircuitOpenWindow'),
      `must not be less than circuitOpenWindow (${circuitOpenWindow} ms)`,
    );
  return {
    failureRateThreshold:
      optionalRatio(c.failureRateThreshold, f('failureRateThreshold')) ?? DEFAULT_FAILURE_RATE_THRESHOLD,
    minimumRequestThreshold:
      optionalCount(c.minimumRequestThreshold, f('minimumRequestThreshold')) ??
      DEFAULT_MINIMUM_REQUEST_THRESHOLD,
    trialRequestInterval:
      optionalDuration(c.trialRequestInterval, f('trialRequestInterval')) ?? DEFAULT_TRIAL_REQUEST_INTERVAL,
    circuitOpenWindow,
    maxCircuitOpenWindow,
    counterSlidingWindow,
    counterUpdateInterval,
    isFailure:
      optionalFunction<ResolvedBreakerConfig['isFailure']>(c.isFailure, f('isFailure')) ?? defaultIsFailure,
    key: optionalFunction<ResolvedBreakerConfig['key']>(c.key, f('key')) ?? defaultBreakerKey,
  };
}
