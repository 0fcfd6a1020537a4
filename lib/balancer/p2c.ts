import { randomInt } from '../internal/random.js';
import type { Address, PickContext } from '../types.js';
import { PANIC_REPICKS, type CandidateState, type EligibleBalancer } from './eligible.js';

/**
 * A load at or above this marks the host down for the pick (the default balancer's answer for a
 * host failing too often): P2C draws again in its place, up to {@link PANIC_REPICKS} times, rather
 * than hand its share to whatever it was drawn with (Finagle's P2C re-picks past a host its failure
 * accrual marked down). Above {@link UNSAMPLED_PENALTY}: an unmeasured host is not down.
 */
export const MARKED_DOWN = 2 ** 50;

/**
 * Power of two choices over a load function: picks two distinct candidates at random and keeps the
 * one with the lower load; on a tie the first draw wins, which is itself uniformly random. A choice
 * whose load is {@link MARKED_DOWN} is drawn again (a few times at most). O(1) in the number of
 * candidates.
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
  const la = load(a, ctx);
  const lb = load(b, ctx);
  if (la < MARKED_DOWN && lb < MARKED_DOWN) return la <= lb ? a : b;
  return pastMarkedDown(candidates, ctx, load, i, la, j, lb);
}

/**
 * The rare path of {@link p2cPick}: each choice marked down is drawn again (distinct from the other)
 * until one is not or PANIC_REPICKS draws are spent, then the lower load wins.
 */
function pastMarkedDown(
  candidates: readonly Address[],
  ctx: PickContext,
  load: (address: Address, ctx: PickContext) => number,
  i: number,
  la: number,
  j: number,
  lb: number,
): Address {
  const n = candidates.length;
  for (let k = 0; k < PANIC_REPICKS && la >= MARKED_DOWN; k++) {
    let x = randomInt(ctx.random, n - 1);
    if (x >= j) x += 1;
    i = x;
    la = load(candidates[i]!, ctx);
  }
  for (let k = 0; k < PANIC_REPICKS && lb >= MARKED_DOWN; k++) {
    let x = randomInt(ctx.random, n - 1);
    if (x >= i) x += 1;
    j = x;
    lb = load(candidates[j]!, ctx);
  }
  return la <= lb ? candidates[i]! : candidates[j]!;
}

/**
 * {@link p2cPick} over the hosts whose breaker is not open, without filtering the list: each of the
 * two choices is drawn again while it lands on an open host (or on the other choice), at most
 * {@link PANIC_REPICKS} + 1 draws each, so the pick is P2C over the eligible hosts in O(1).
 *
 * Returns undefined when no eligible first choice turned up in those draws (most hosts open): the
 * caller then filters the list (O(n)), which also handles the every-host-open panic. Taking "the
 * other draw" whenever one is open, as a plain health comparison would, sends an open host's share
 * to whatever it was drawn with — a slow host included.
 */
export function p2cPickEligible(
  candidates: readonly Address[],
  ctx: PickContext,
  load: (address: Address, ctx: PickContext) => number,
  state: (address: Address) => CandidateState,
): Address | undefined {
  const n = candidates.length;
  if (n <= 1) return n === 1 && state(candidates[0]!) !== 'open' ? candidates[0] : undefined;
  const i = drawEligible(candidates, ctx, state, -1);
  if (i < 0) return undefined;
  const j = drawEligible(candidates, ctx, state, i);
  const a = candidates[i]!;
  if (j < 0) return a;
  const b = candidates[j]!;
  const la = load(a, ctx);
  const lb = load(b, ctx);
  if (la < MARKED_DOWN && lb < MARKED_DOWN) return la <= lb ? a : b;
  // Past marked-down hosts among all candidates: an open one among the redraws is left to the gate,
  // as in the filtering path's panic.
  const pick = pastMarkedDown(candidates, ctx, load, i, la, j, lb);
  return state(pick) === 'open' ? (la <= lb ? a : b) : pick;
}

/** A random index of a host not open and not `other`, or -1 after PANIC_REPICKS + 1 misses. */
function drawEligible(
  candidates: readonly Address[],
  ctx: PickContext,
  state: (address: Address) => CandidateState,
  other: number,
): number {
  const n = candidates.length;
  for (let k = 0; k <= PANIC_REPICKS; k++) {
    // The second choice is drawn among the n − 1 others, as in P2CPick.
    let x = other < 0 ? randomInt(ctx.random, n) : randomInt(ctx.random, n - 1);
    if (other >= 0 && x >= other) x += 1;
    if (state(candidates[x]!) !== 'open') return x;
  }
  return -1;
}

/**
 * P2C over a load function, with the O(1) pass past open breakers: what `p2c` and `p2c-ewma` share;
 * they differ only in the load they compare.
 */
export class P2CLoadBalancer implements EligibleBalancer {
  constructor(readonly load: (address: Address, ctx: PickContext) => number) {}

  pick(candidates: readonly Address[], ctx: PickContext): Address | undefined {
    return p2cPick(candidates, ctx, this.load);
  }

  pickEligible(
    candidates: readonly Address[],
    ctx: PickContext,
    state: (address: Address) => CandidateState,
  ): Address | undefined {
    return p2cPickEligible(candidates, ctx, this.load, state);
  }
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
export class P2CBalancer extends P2CLoadBalancer {
  constructor() {
    super(outstanding);
  }
}
