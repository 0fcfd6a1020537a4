import { addressKey } from '../events/events.js';
import type { Address, AddressKey, LoadBalancer, PickContext } from '../types.js';

/** Breaker state of a candidate, as the balancer layer sees it (it never imports the breaker). */
export type CandidateState = 'closed' | 'open' | 'half-open';

/**
 * A balancer that skips open hosts itself in O(1) (the P2C ones draw again past an open host), so
 * {@link selectAddress} need not filter the list first; `pickEligible` returns undefined when its
 * draws found no eligible host, and the filtering path (with its panic) takes over.
 */
export interface EligibleBalancer extends LoadBalancer {
  pickEligible(
    candidates: readonly Address[],
    ctx: PickContext,
    state: (address: Address) => CandidateState,
  ): Address | undefined;
}

function isEligibleBalancer(b: LoadBalancer): b is EligibleBalancer {
  return typeof (b as Partial<EligibleBalancer>).pickEligible === 'function';
}

/** Re-picks allowed when every candidate is open, looking for one that is not (Finagle's panic). */
export const PANIC_REPICKS = 4;

/**
 * Chooses the address for one attempt: filters the candidates for eligibility, then asks the
 * balancer.
 *
 * 1. Hosts whose breaker is open are skipped while any closed or half-open host remains.
 * 2. Among those, hosts already tried in this call (`tried` holds `addressKey`s) are skipped while an
 *    untried one remains, so a retry goes elsewhere when it can.
 *    A balancer with `pickEligible` (p2c, p2c-ewma) is handed the breaker view instead on a first
 *    attempt and draws past open hosts in O(1); when its draws find none, the filter runs as above.
 * 3. Panic (Finagle): when every candidate is open, the balancer picks from all of them, re-picking
 *    up to {@link PANIC_REPICKS} times while its pick is open, and the last pick is returned. The
 *    breaker gate then decides whether to let it through (a lazy half-open trial) or to fail fast: the
 *    balancer never fails a call the breaker would allow.
 *
 * Allocates nothing in the common case (no open breaker, first attempt). Pass `breakerState`
 * undefined when there are no breakers, or none is open, to skip the scan entirely.
 *
 * @returns the balancer's pick, or undefined for no candidates (or a balancer that returns none).
 *
 * @example
 * ```ts
 * const address = selectAddress(group.addresses, group.balancer, ctx, (a) => breakers.state(key(a)), state.tried);
 * ```
 */
export function selectAddress(
  candidates: readonly Address[],
  balancer: LoadBalancer,
  ctx: PickContext,
  breakerState: ((a: Address) => CandidateState) | undefined,
  tried: ReadonlySet<AddressKey>,
): Address | undefined {
  const n = candidates.length;
  if (n === 0) return undefined;
  // P2C balancers weigh health per draw: no O(n) filter (a retry's untried preference still filters).
  if (breakerState !== undefined && tried.size === 0 && isEligibleBalancer(balancer)) {
    const pick = balancer.pickEligible(candidates, ctx, breakerState);
    if (pick !== undefined) return pick;
  }

  // One pass; the filtered copy is made only at the first open host.
  let usable: Address[] | undefined;
  if (breakerState !== undefined) {
    for (let i = 0; i < n; i++) {
      const a = candidates[i]!;
      if (breakerState(a) === 'open') usable ??= candidates.slice(0, i);
      else usable?.push(a);
    }
  }
  const panic = usable !== undefined && usable.length === 0;
  let pool: readonly Address[] = usable === undefined || panic ? candidates : usable;

  if (tried.size > 0) pool = untried(pool, tried);

  let pick = balancer.pick(pool, ctx);
  if (panic) {
    for (let i = 0; i < PANIC_REPICKS && pick !== undefined && breakerState!(pick) === 'open'; i++) {
      pick = balancer.pick(pool, ctx);
    }
  }
  return pick;
}

/** `pool` without the hosts in `tried`, or `pool` itself when nothing would remain or nothing is removed. */
function untried(pool: readonly Address[], tried: ReadonlySet<AddressKey>): readonly Address[] {
  let fresh: Address[] | undefined;
  for (let i = 0; i < pool.length; i++) {
    const a = pool[i]!;
    if (tried.has(addressKey(a))) fresh ??= pool.slice(0, i);
    else fresh?.push(a);
  }
  return fresh === undefined || fresh.length === 0 ? pool : fresh;
}
