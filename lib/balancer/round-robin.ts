import { randomInt } from '../internal/random.js';
import type { Address, PickContext } from '../types.js';
import type { TierBalancer } from './eligible.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

/**
 * Round robin: each pick takes the next candidate in list order.
 *
 * The cursor is an index kept modulo the current list length, so it stays valid when the list grows,
 * shrinks or is filtered (open breakers, hosts already tried): the rotation simply continues over
 * what is there. The first pick starts at a random offset so that many clients started together do
 * not all hit the first host first (as grpc-js does). One instance per group.
 *
 * An SRV tier with mixed weights (see `selectAddress`) rotates by weight instead, earliest deadline
 * first as `weighted-round-robin` does: a plain rotation cannot follow weights.
 *
 * @example
 * ```ts
 * new AddressGroup('static://a:80,b:80', { loadBalancer: 'round-robin' });
 * ```
 */
export class RoundRobinBalancer implements TierBalancer {
  /** Index of the next pick; -1 until the first pick draws a random start. */
  #next = -1;
  /** The weighted rotation of SRV tiers, made at the first one. */
  #weighted: WeightedRoundRobinBalancer | undefined;

  pick(candidates: readonly Address[], ctx: PickContext): Address | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    const i = this.#next < 0 ? randomInt(ctx.random, n) : this.#next % n;
    this.#next = i + 1;
    return candidates[i];
  }

  /** One SRV tier with mixed weights: a weighted rotation (see the class comment). */
  pickTier(tier: readonly Address[], ctx: PickContext): Address | undefined {
    this.#weighted ??= new WeightedRoundRobinBalancer();
    return this.#weighted.pickTier(tier, ctx);
  }
}
