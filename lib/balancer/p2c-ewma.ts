import { invalidArgument } from '../errors.js';
import type { Address, HostLoad, PickContext } from '../types.js';
import { P2CLoadBalancer } from './p2c.js';

/**
 * Load of a host that has requests in flight but no latency sample yet: far above any real cost, so
 * a new or unmeasured host takes one probe at a time until its first response tells us its latency
 * (Finagle's `Penalty`, `Long.MaxValue >> 16`). Outstanding is added so that, among several such
 * hosts, the less busy still wins.
 */
export const UNSAMPLED_PENALTY = 2 ** 47;

/**
 * Finagle's peak-EWMA load: `cost × (outstanding + 1)`.
 *
 * A host never measured and idle has load 0 (cost 0), so it is probed as soon as P2C draws it; once
 * that probe is in flight it carries {@link UNSAMPLED_PENALTY} until the probe returns. A measured
 * host whose cost has decayed toward 0 while idle likewise earns a new probe, which is how a host that
 * was slow gets another chance.
 *
 * With `typicalCap` (see {@link P2CEwmaOptions}) the cost is first capped at `typicalCap ×
 * load.typical`; 0 or absent leaves Finagle's formula as it is.
 */
export function ewmaLoad(load: HostLoad, typicalCap = 0): number {
  if (!load.sampled && load.outstanding > 0) return UNSAMPLED_PENALTY + load.outstanding;
  const typical = load.typical;
  const cost =
    typicalCap > 0 && typical !== undefined && typical > 0
      ? Math.min(load.cost, typicalCap * typical)
      : load.cost;
  return cost * (load.outstanding + 1);
}

const hostLoad = (address: Address, ctx: PickContext): number => ewmaLoad(ctx.load(address));

/** Options of {@link P2CEwmaBalancer}. */
export interface P2CEwmaOptions {
  /**
   * Caps each host's peak-EWMA cost at this many times its typical latency (`HostLoad.typical`, an
   * EWMA over samples). Not Finagle's formula, so off by default: use it where the client's machine
   * pauses (VM steal, GC) now and then. A pause adds its length to every response in flight, peak EWMA
   * holds that peak as every host's cost for seconds (τ = 10 s), and a slow host then looks only
   * twice as costly as a fast one; capped, a one-off peak costs a fast host little, while a host that
   * turns slow raises its typical within a few responses (outstanding counts steer meanwhile). It also
   * lets a host that was slow win traffic back in a fraction of a second instead of ~10 s. What it
   * gives up: a host whose _tail_ is slow (say 10 % of calls at 100 ms) is costed near the cap × its
   * mean, not at its peak. The project's balance benchmarks use 1.5.
   * Must be ≥ 1. @defaultValue undefined (no cap: Finagle's peak EWMA)
   */
  readonly typicalCap?: number;
}

/**
 * `p2c-ewma` (the default): power of two choices on peak-EWMA latency × (outstanding + 1), after
 * Finagle's `P2CPeakEwma`.
 *
 * The cost jumps to any latency peak and decays over τ = 10 s (Finagle's peak EWMA), so a host that
 * turns slow (GC, overload) loses traffic within a request or two and wins it back only as it proves
 * fast again; multiplying by outstanding keeps a fast host from being flooded. O(1) per pick.
 * `new P2CEwmaBalancer({ typicalCap: 1.5 })` caps the peak at 1.5× the typical latency (see
 * {@link P2CEwmaOptions}).
 *
 * @throws XhttpError `INVALID_ARGUMENT` naming `typicalCap` when it is not a finite number ≥ 1.
 * @example
 * ```ts
 * new AddressGroup('dns+srv://_api._tcp.internal'); // p2c-ewma by default
 * new AddressGroup('dns+srv://_api._tcp.internal', { loadBalancer: new P2CEwmaBalancer({ typicalCap: 1.5 }) });
 * ```
 */
export class P2CEwmaBalancer extends P2CLoadBalancer {
  constructor(options: P2CEwmaOptions = {}) {
    const cap: unknown = typeof options === 'object' && options !== null ? options.typicalCap : undefined;
    if (cap !== undefined && (typeof cap !== 'number' || !Number.isFinite(cap) || cap < 1))
      throw invalidArgument('typicalCap', 'must be a finite number ≥ 1');
    super(cap === undefined ? hostLoad : (address, ctx) => ewmaLoad(ctx.load(address), cap));
  }
}
