import { randomInt } from '../internal/random.js';
import type { Address, LoadBalancer, PickContext } from '../types.js';

/**
 * Power of two choices over a load function: picks two distinct candidates at random and keeps the
 * one with the lower load; on a tie the first draw wins, which is itself uniformly random.
 * O(1) in the number of candidates.
 */
export function p2cPick(
  candidates: readonly Address[],
  ctx: PickContext,
  load: (address: Address, ctx: PickContext) => number,
): Address | undefined {
  const n = candidates.length;
  if (n <= 1) return candidates[0];
  // Finagle's P2CPick: two distinct indices from two draws, no loop (b skips over a).
  const i = randomInt(ctx.random, n);
  let j = randomInt(ctx.random, n - 1);
  if (j >= i) j += 1;
  const a = candidates[i]!;
  const b = candidates[j]!;
  return load(a, ctx) <= load(b, ctx) ? a : b;
}

const outstanding = (address: Address, ctx: PickContext): number => ctx.load(address).outstanding;

/**
 * `p2c`: power of two choices on outstanding requests (Finagle's least-loaded P2C).
 *
 * Two random candidates, the one with fewer requests in flight wins. Needs no latency history, so it
 * reacts within one request to a host that stalls, yet never herds onto a single "best" host the way
 * a full least-loaded scan does under stale counts.
 *
 * @example
 * ```ts
 * new AddressGroup('dns://api.internal:8080', { loadBalancer: 'p2c' });
 * ```
 */
export class P2CBalancer implements LoadBalancer {
  pick(candidates: readonly Address[], ctx: PickContext): Address | undefined {
    return p2cPick(candidates, ctx, outstanding);
  }
}
