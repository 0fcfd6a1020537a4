import { randomInt } from '../internal/random.js';
import type { Address, PickContext } from '../types.js';
import { PANIC_REPICKS, type CandidateState, type EligibleBalancer } from './eligible.js';

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

/**
 * {@link p2cPick} with breaker health first, as Finagle's P2C: of the two draws a host that is not
 * open beats an open one, and between equals the lower load wins. When both draws are open it draws
 * again, up to {@link PANIC_REPICKS} times, then returns the last pick (panic: the breaker gate then
 * decides). O(1) in the number of candidates, unlike filtering the open hosts out first.
 */
export function p2cPickEligible(
  candidates: readonly Address[],
  ctx: PickContext,
  load: (address: Address, ctx: PickContext) => number,
  state: (address: Address) => CandidateState,
): Address | undefined {
  const n = candidates.length;
  if (n <= 1) return candidates[0];
  let pick: Address | undefined;
  for (let round = 0; round <= PANIC_REPICKS; round++) {
    const i = randomInt(ctx.random, n);
    let j = randomInt(ctx.random, n - 1);
    if (j >= i) j += 1;
    const a = candidates[i]!;
    const b = candidates[j]!;
    const aOpen = state(a) === 'open';
    const bOpen = state(b) === 'open';
    if (aOpen !== bOpen) return aOpen ? b : a;
    pick = load(a, ctx) <= load(b, ctx) ? a : b;
    if (!aOpen) return pick;
  }
  return pick;
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
export class P2CBalancer implements EligibleBalancer {
  pick(candidates: readonly Address[], ctx: PickContext): Address | undefined {
    return p2cPick(candidates, ctx, outstanding);
  }

  pickEligible(
    candidates: readonly Address[],
    ctx: PickContext,
    state: (address: Address) => CandidateState,
  ): Address | undefined {
    return p2cPickEligible(candidates, ctx, outstanding, state);
  }
}
