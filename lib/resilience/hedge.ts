import { invalidArgument } from '../errors.js';
import {
  checkOptions,
  describeValue,
  optionalDuration,
  optionalPositiveInt,
  optionalRatio,
  own,
} from '../internal/validate.js';

/** Attempts a hedged call may have in flight at once, the first included (gRPC's default is 2 too). */
export const DEFAULT_HEDGE_MAX_ATTEMPTS = 2;
/** The most a hedged call may have in flight at once (gRFC A6 caps `maxAttempts` at 5). */
export const MAX_HEDGE_ATTEMPTS = 5;
/** Share of calls that may send a hedge on top of them (Finagle's `maxExtraLoad` example). */
export const DEFAULT_HEDGE_MAX_EXTRA_LOAD = 0.05;
/**
 * Samples the group's latency window must hold before an adaptive delay hedges anything: a
 * percentile of a handful of calls would hedge on noise.
 */
export const DEFAULT_HEDGE_MIN_SAMPLES = 100;

/**
 * Hedged requests (`CallOptions.hedge`, `ClientConfig.hedge`), after Finagle's
 * `BackupRequestFilter`, gRPC's hedging policy (gRFC A6) and Envoy's `hedge_policy`: when an
 * attempt has had no response after `delay`, a second one goes to another host while the first
 * stays in flight; the first response that is not a failure by the call's retry policy wins and
 * every other attempt is cancelled (its attempt-end says `cancelled`, `lostTo` the winner: never a
 * failure for a breaker, the balancer or the budget). A failure of one attempt lets the others run
 * on; when the last one fails, the retry policy decides, and each retry may be hedged again.
 *
 * Extra load is capped whatever the latency: each hedge draws on a budget of `maxExtraLoad` of the
 * group's recent calls (Finagle's), and on the client's retry budget when there is one. A hedge
 * that would have less time before the deadline than its fastest candidate host recently took is
 * not sent (`hedge-refused`, reason `deadline-insufficient`). Requests that are not idempotent
 * (POST, PATCH) are never hedged unless `nonIdempotent` says so, nor are request bodies that can be
 * sent once (streams).
 *
 * @example
 * ```ts
 * client.get(users, '/u/42', { hedge: { delay: 'auto' } });          // at the p95, 5 % extra at most
 * client.get(users, '/u/42', { hedge: { delay: 20, maxAttempts: 3 } });
 * ```
 */
export interface HedgeOptions {
  /**
   * When to send the next hedge: a fixed delay in ms (0 sends every attempt at once), a percentile
   * of the group's live latency window (`{ percentile: 0.95 }`), or `'auto'`: the percentile
   * `1 - maxExtraLoad`, as Finagle does. An adaptive delay hedges nothing until the window holds
   * `minSamples` latencies. @defaultValue 'auto'
   */
  readonly delay?: number | { readonly percentile: number } | 'auto';
  /** Attempts in flight at once, the first included: an integer from 1 (no hedging) to 5. @defaultValue 2 */
  readonly maxAttempts?: number;
  /**
   * Hedges allowed per recent call of the group, in [0, 1] (Finagle's `maxExtraLoad`): the hedge
   * budget. @defaultValue 0.05
   */
  readonly maxExtraLoad?: number;
  /** Hedge POST, PATCH and other methods that are not idempotent too. @defaultValue false */
  readonly nonIdempotent?: boolean;
  /** Latencies the window needs before an adaptive delay applies, an integer ≥ 1. @defaultValue 100 */
  readonly minSamples?: number;
}

/** {@link HedgeOptions} validated, every default applied. */
export interface ResolvedHedge {
  /** A fixed delay, ms; undefined when adaptive. */
  readonly delayMs: number | undefined;
  /** The percentile of an adaptive delay, in (0, 1). */
  readonly percentile: number;
  readonly maxAttempts: number;
  readonly maxExtraLoad: number;
  readonly nonIdempotent: boolean;
  readonly minSamples: number;
}

const KEYS = ['delay', 'maxAttempts', 'maxExtraLoad', 'nonIdempotent', 'minSamples'];
const DELAY_KEYS = ['percentile'];

/**
 * Validates hedge options: `undefined` stays undefined (no hedging), `false` turns a client default
 * off for one call, anything else must be a {@link HedgeOptions}. Throws `INVALID_ARGUMENT` naming
 * the field (`options.hedge.delay`, …).
 */
export function resolveHedge(value: unknown, field: string): ResolvedHedge | false | undefined {
  if (value === undefined) return undefined;
  if (value === false) return false;
  checkOptions(value, KEYS, field);
  const o = value as HedgeOptions;
  const maxExtraLoad =
    optionalRatio(own(o, 'maxExtraLoad'), `${field}.maxExtraLoad`) ?? DEFAULT_HEDGE_MAX_EXTRA_LOAD;
  const maxAttempts =
    optionalPositiveInt(own(o, 'maxAttempts'), `${field}.maxAttempts`, MAX_HEDGE_ATTEMPTS) ??
    DEFAULT_HEDGE_MAX_ATTEMPTS;
  const nonIdempotent = own(o, 'nonIdempotent');
  if (nonIdempotent !== undefined && typeof nonIdempotent !== 'boolean')
    throw invalidArgument(`${field}.nonIdempotent`, 'must be a boolean');
  const minSamples =
    optionalPositiveInt(own(o, 'minSamples'), `${field}.minSamples`, 1_000_000) ?? DEFAULT_HEDGE_MIN_SAMPLES;
  const delay = own(o, 'delay') ?? 'auto';
  let delayMs: number | undefined;
  let percentile = 1 - maxExtraLoad;
  if (typeof delay === 'number') delayMs = optionalDuration(delay, `${field}.delay`, 'hedge at once');
  else if (typeof delay === 'object' && delay !== null) {
    checkOptions(delay, DELAY_KEYS, `${field}.delay`);
    const p = own(delay, 'percentile');
    if (typeof p !== 'number' || !(p > 0 && p < 1))
      throw invalidArgument(
        `${field}.delay.percentile`,
        `must be a number between 0 and 1, exclusive (got ${describeValue(p)})`,
      );
    percentile = p;
  } else if (delay !== 'auto')
    throw invalidArgument(
      `${field}.delay`,
      `must be a number of milliseconds, { percentile } or 'auto' (got ${describeValue(delay)})`,
    );
  // 'auto' with maxExtraLoad 0 would ask for the 100th percentile: the slowest call ever seen.
  if (!(percentile > 0 && percentile < 1)) percentile = 1 - DEFAULT_HEDGE_MAX_EXTRA_LOAD;
  return {
    delayMs,
    percentile,
    maxAttempts,
    maxExtraLoad,
    nonIdempotent: nonIdempotent === true,
    minSamples,
  };
}
