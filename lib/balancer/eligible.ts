import { addressKey } from '../events/events.js';
import type { Address, AddressKey, LoadBalancer, PickContext } from '../types.js';
import { slowStartFactor, type HostHealthSource, type HostPolicy } from './host-policy.js';
import { drawClass, srvTier, srvView, type SrvView } from './srv.js';

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

/**
 * A balancer that weighs SRV weights itself (the round-robin ones, by earliest deadline first): it
 * is handed one priority tier whole, instead of one weight class drawn at random, so its rotation
 * stays smooth and exact.
 */
export interface TierBalancer extends LoadBalancer {
  /** Picks within `tier`: hosts of one priority, filtered for eligibility, with mixed weights. */
  pickTier(tier: readonly Address[], ctx: PickContext): Address | undefined;
}

function isTierBalancer(b: LoadBalancer): b is TierBalancer {
  return typeof (b as Partial<TierBalancer>).pickTier === 'function';
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
 * SRV (a list with more than one `priority` or `weight` value, see `srv.ts`), whatever the balancer:
 * the pick is made within the lowest priority value that has a host not open, after steps 1 and 2
 * within that tier. The tier's hosts are grouped by weight (Finagle's weight classes): one class is
 * drawn with probability ∝ weight × hosts, and the balancer picks within it, so shares follow the
 * weights while p2c / p2c-ewma still steer among hosts of equal weight. A {@link TierBalancer}
 * (round-robin, weighted-round-robin) gets the whole tier and weighs by itself. Every host open in
 * every tier is the panic of step 3. See docs/algorithms.md.
 *
 * The group's {@link HostPolicy}, when given (see host-policy.ts and docs/algorithms.md):
 * 4. Health checks: a host whose check fails is ineligible like an open one, unless fewer than
 *    `panicThreshold` of the hosts are healthy (breaker not open and check passing): then checks are
 *    ignored and the pick is made over every host not open (Envoy's panic threshold). An open
 *    breaker stays out even then: its gate would refuse the host anyway.
 * 5. Slow start: a pick whose host is ramping (joined or recovered less than `window` ago) is kept
 *    with probability {@link slowStartFactor}, else made again (up to {@link PANIC_REPICKS} times):
 *    with a uniform balancer that is exactly Envoy's weight × factor.
 *
 * Allocates nothing in the common case (no open breaker, first attempt, every host passing its
 * checks, none ramping); a list without SRV metadata costs one identity comparison more. Pass
 * `breakerState` undefined when there are no breakers, or none is open, to skip the scan entirely.
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
  policy?: HostPolicy,
): Address | undefined {
  if (policy === undefined) return choose(candidates, balancer, ctx, breakerState, tried);
  let state = breakerState;
  const health = policy.health;
  if (
    health !== undefined &&
    !health.allHealthy &&
    !panics(candidates, health, breakerState, policy.panicThreshold)
  ) {
    state = (a) => (health.healthy(a) ? (breakerState?.(a) ?? 'closed') : 'open');
  }
  let pick = choose(candidates, balancer, ctx, state, tried);
  const slow = policy.slowStart;
  if (slow === undefined) return pick;
  for (let i = 0; i < PANIC_REPICKS && pick !== undefined; i++) {
    const since = ctx.load(pick).since;
    const f = since === undefined ? 1 : slowStartFactor(ctx.now - since, slow);
    if (f >= 1 || ctx.random() < f) break;
    pick = choose(candidates, balancer, ctx, state, tried);
  }
  return pick;
}

/** True when fewer than `threshold` of `candidates` are healthy: breaker not open, check passing. O(n). */
function panics(
  candidates: readonly Address[],
  health: HostHealthSource,
  breakerState: ((a: Address) => CandidateState) | undefined,
  threshold: number,
): boolean {
  let healthy = 0;
  for (const a of candidates) if (health.healthy(a) && breakerState?.(a) !== 'open') healthy++;
  return healthy < threshold * candidates.length;
}

/** Steps 1 to 3 (and SRV) of {@link selectAddress}. */
function choose(
  candidates: readonly Address[],
  balancer: LoadBalancer,
  ctx: PickContext,
  breakerState: ((a: Address) => CandidateState) | undefined,
  tried: ReadonlySet<AddressKey>,
): Address | undefined {
  const n = candidates.length;
  if (n === 0) return undefined;
  const srv = srvView(candidates);
  if (srv !== undefined) {
    const pick = selectSrv(srv, balancer, ctx, breakerState, tried);
    if (pick !== EVERY_TIER_OPEN) return pick;
  }
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

/** {@link selectSrv}'s answer when no tier has a host that is not open: the panic path takes over. */
const EVERY_TIER_OPEN = null;

/** Steps 1 and 2 within the first tier with a host not open, then a weight class, then the balancer. */
function selectSrv(
  view: SrvView,
  balancer: LoadBalancer,
  ctx: PickContext,
  breakerState: ((a: Address) => CandidateState) | undefined,
  tried: ReadonlySet<AddressKey>,
): Address | undefined | typeof EVERY_TIER_OPEN {
  let tier = view.tiers[0]!;
  let pool = tier.addresses;
  if (breakerState !== undefined) {
    let found = false;
    for (const t of view.tiers) {
      const usable = withoutOpen(t.addresses, breakerState);
      if (usable.length === 0) continue;
      tier = t;
      pool = usable;
      found = true;
      break;
    }
    if (!found) return EVERY_TIER_OPEN;
  }
  // A host already tried is not ineligible: a retry stays in the tier, on an untried host if any.
  if (tried.size > 0) pool = untried(pool, tried);
  if (isTierBalancer(balancer)) return balancer.pickTier(pool, ctx);
  // The tier's cached classes unless hosts were filtered out (then O(n), like the filter itself).
  const weighed = pool === tier.addresses ? tier : srvTier(tier.priority, pool);
  return balancer.pick(drawClass(weighed, ctx.random).addresses, ctx);
}

/** `list` without its open hosts; `list` itself when none is open. */
function withoutOpen(list: readonly Address[], state: (a: Address) => CandidateState): readonly Address[] {
  let usable: Address[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    if (state(a) === 'open') usable ??= list.slice(0, i);
    else usable?.push(a);
  }
  return usable ?? list;
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
