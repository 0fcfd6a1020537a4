import { randomInt } from '../internal/random.js';
import type { Address, LoadBalancer, PickContext } from '../types.js';

/**
 * Uniform random choice among the candidates, from the injected `ctx.random` (seedable).
 *
 * Stateless, so one instance could serve many groups; `createBalancer` still makes one per group.
 *
 * @example
 * ```ts
 * new AddressGroup('static://a:80,b:80', { loadBalancer: 'random' });
 * ```
 */
export class RandomBalancer implements LoadBalancer {
  pick(candidates: readonly Address[], ctx: PickContext): Address | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    return candidates[randomInt(ctx.random, n)];
  }
}
