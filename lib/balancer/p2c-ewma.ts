import { invalidArgument } from '../errors.js';
import type { Address, HostLoad, PickContext } from '../types.js';
import { MARKED_DOWN, P2CLoadBalancer } from './p2c.js';

/**
 * Load of a host that has requests in flight but no latency sample yet: far above any real cost, so
 * a new or unmeasured host takes one probe at a time until its first response tells us its latency
 * (Finagle's `Penalty`, `Long.MaxValue >> 16`). Outstanding is added so that, among several such
 * hosts, the less busy still wins.
 */
export const UNSAMPLED_PENALTY = 2 ** 47;

/** The default's cap on the peak, in typical latencies (see {@link P2CEwmaOptions.typicalCap}). @defaultValue 1.5 */
export const DEFAULT_TYPICAL_CAP = 1.5;

/**
 * Failure ratio (`HostLoad.failure`) from which the default marks a host down: P2C then draws another
 * host in its place (see {@link MARKED_DOWN}) until the ratio decays below it (τ = 5 s without
 * traffic) and a probe or two tell again. @defaultValue 0.2
 */
export const DEFAULT_FAILURE_MARKDOWN = 0.2;

/** The default's price of failures (see {@link P2CEwmaOptions.failurePenalty}). @defaultValue 30 */
export const DEFAULT_FAILURE_PENALTY = 30;

/**
 * Peak-EWMA load: `cost × (outstanding + 1)`, Finagle's formula when `typicalCap` and
 * `failurePenalty` are 0.
 *
 * A host never measured and idle has load 0 (cost 0), so it is probed as soon as P2C draws it; once
 * that probe is in flight it carries {@link UNSAMPLED_PENALTY} until the probe returns. A measured
 * host whose cost has decayed toward 0 while idle likewise earns a new probe, which is how a host that
 * was slow gets another chance.
 *
 * With `typicalCap` > 0 the cost is first capped at `typicalCap × load.typical`; with
 * `failurePenalty` > 0 it is then multiplied by `1 + failurePenalty × load.failure`; a host whose
 * `failure` is at least `failureMarkdown` gets {@link MARKED_DOWN} (+ outstanding) instead.
 */
export function ewmaLoad(
  load: HostLoad,
  typicalCap = 0,
  failurePenalty = 0,
  failureMarkdown = Infinity,
): number {
  if (!load.sampled && load.outstanding > 0) return UNSAMPLED_PENALTY + load.outstanding;
  const failure = load.failure;
  if (failure !== undefined && failure >= failureMarkdown) return MARKED_DOWN + load.outstanding;
  const typical = load.typical;
  let cost =
    typicalCap > 0 && typical !== undefined && typical > 0
      ? Math.min(load.cost, typicalCap * typical)
      : load.cost;
  if (failurePenalty > 0 && failure !== undefined && failure > 0) cost *= 1 + failurePenalty * failure;
  return cost * (load.outstanding + 1);
}

const finagleLoad = (address: Address, ctx: PickContext): number => ewmaLoad(ctx.load(address));
const defaultLoad = (address: Address, ctx: PickContext): number =>
  ewmaLoad(ctx.load(address), DEFAULT_TYPICAL_CAP, DEFAULT_FAILURE_PENALTY, DEFAULT_FAILURE_MARKDOWN);

/** Options of {@link P2CEwmaBalancer}. */
export interface P2CEwmaOptions {
  /**
   * Caps each host's peak-EWMA cost at this many times its typical latency (`HostLoad.typical`, an
   * EWMA over samples); 0 for no cap (Finagle's peak EWMA). A pause of the client's machine (VM steal,
   * GC) adds its length to every response in flight; peak EWMA holds that peak as every host's cost
   * for seconds (τ = 10 s), and a slow host then looks only twice as costly as a fast one. Capped, a
   * one-off peak costs a fast host little, while a host that turns slow raises its typical within a
   * few responses (outstanding counts steer meanwhile); a host that was slow wins traffic back in a
   * fraction of a second instead of ~10 s. What it gives up: a host whose _tail_ is slow (say 10 % of
   * calls at 100 ms) is costed near the cap × its mean, not at its peak. 0, or a finite number ≥ 1.
   * @defaultValue 1.5
   */
  readonly typicalCap?: number;
  /**
   * Multiplies the cost by `1 + failurePenalty × failure`, `failure` the host's recent failure ratio
   * (`HostLoad.failure`): a host that fails fast (quick 503s) looks cheap by latency alone, and this
   * prices each failure as expensive for a while (Finagle's failure accrual, Linkerd's failure-aware
   * balancing, as a cost rather than a markdown). At 30 a host failing 30 % of calls costs ~10× its
   * latency, and from a failure ratio of 0.2 the host is marked down: P2C draws another in its place
   * while the ratio decays (τ = 5 s), so a host failing fast is neither picked nor handed to a slow
   * host it was drawn with. 0 to ignore failures (Finagle's formula). A finite number ≥ 0.
   * @defaultValue 30
   */
  readonly failurePenalty?: number;
}

function option(options: P2CEwmaOptions, name: keyof P2CEwmaOptions, fallback: number, min: number): number {
  const v: unknown = typeof options === 'object' && options !== null ? options[name] : undefined;
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || (v !== 0 && v < min) || v < 0)
    throw invalidArgument(
      name,
      min > 0 ? `must be 0 or a finite number ≥ ${min}` : 'must be a finite number ≥ 0',
    );
  return v;
}

/**
 * `p2c-ewma` (the default): power of two choices on a peak-EWMA latency × (outstanding + 1), after
 * Finagle's `P2CPeakEwma`, with the peak capped at 1.5× the host's typical latency and failures
 * priced in (see {@link P2CEwmaOptions} and docs/algorithms.md, "The default balancer's cost").
 *
 * The cost jumps to a latency peak (up to the cap) and decays over τ = 10 s, so a host that turns slow
 * loses traffic within a request or two; multiplying by outstanding keeps a fast host from being
 * flooded. O(1) per pick. `new P2CEwmaBalancer({ typicalCap: 0, failurePenalty: 0 })` is Finagle's
 * formula, also available as `'finagle-p2c-ewma'`.
 *
 * @throws XhttpError `INVALID_ARGUMENT` naming `typicalCap` (not 0 or a finite number ≥ 1) or
 *   `failurePenalty` (not a finite number ≥ 0).
 * @example
 * ```ts
 * new AddressGroup('dns+srv://_api._tcp.internal'); // p2c-ewma by default
 * new AddressGroup('dns+srv://_api._tcp.internal', { loadBalancer: new P2CEwmaBalancer({ failurePenalty: 40 }) });
 * ```
 */
export class P2CEwmaBalancer extends P2CLoadBalancer {
  constructor(options: P2CEwmaOptions = {}) {
    const cap = option(options, 'typicalCap', DEFAULT_TYPICAL_CAP, 1);
    const penalty = option(options, 'failurePenalty', DEFAULT_FAILURE_PENALTY, 0);
    super(
      cap === 0 && penalty === 0
        ? finagleLoad
        : cap === DEFAULT_TYPICAL_CAP && penalty === DEFAULT_FAILURE_PENALTY
          ? defaultLoad
          : (address, ctx) =>
              ewmaLoad(ctx.load(address), cap, penalty, penalty > 0 ? DEFAULT_FAILURE_MARKDOWN : Infinity),
    );
  }
}

/**
 * `finagle-p2c-ewma`: Finagle's `P2CPeakEwma` exactly, peak-EWMA latency × (outstanding + 1) with no
 * cap and no failure price (rxhttp's default until issue 20; docs/algorithms.md says where it loses: client
 * pauses and hosts that fail fast).
 *
 * @example
 * ```ts
 * new AddressGroup('dns://api.internal:8080', { loadBalancer: 'finagle-p2c-ewma' });
 * ```
 */
export class FinagleP2CEwmaBalancer extends P2CLoadBalancer {
  constructor() {
    super(finagleLoad);
  }
}
