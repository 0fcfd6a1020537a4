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
 */
export function ewmaLoad(load: HostLoad): number {
  if (!load.sampled && load.outstanding > 0) return UNSAMPLED_PENALTY + load.outstanding;
  return load.cost * (load.outstanding + 1);
}

const hostLoad = (address: Address, ctx: PickContext): number => ewmaLoad(ctx.load(address));

/**
 * `p2c-ewma` (the default): power of two choices on peak-EWMA latency × (outstanding + 1), after
 * Finagle's `P2CPeakEwma`.
 *
 * The cost jumps to any latency peak and decays over τ = 10 s (see `peak-ewma.ts`), so a host that
 * turns slow (GC, overload) loses traffic within a request or two and wins it back only as it proves
 * fast again; multiplying by outstanding keeps a fast host from being flooded. O(1) per pick.
 *
 * @example
 * ```ts
 * new AddressGroup('dns+srv://_api._tcp.internal'); // p2c-ewma by default
 * ```
 */
export class P2CEwmaBalancer extends P2CLoadBalancer {
  constructor() {
    super(hostLoad);
  }
}
