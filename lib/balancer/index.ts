import { invalidArgument } from '../errors.js';
import type { LoadBalancer, LoadBalancerName } from '../types.js';
import { FinagleP2CEwmaBalancer, P2CEwmaBalancer } from './p2c-ewma.js';
import { P2CBalancer } from './p2c.js';
import { RandomBalancer } from './random.js';
import { RoundRobinBalancer } from './round-robin.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

export { PANIC_REPICKS, selectAddress, type CandidateState } from './eligible.js';
export {
  DEFAULT_PANIC_THRESHOLD,
  DEFAULT_SLOW_START,
  parseSlowStart,
  slowStartFactor,
  type HostHealthSource,
  type HostPolicy,
  type SlowStart,
  type SlowStartOptions,
} from './host-policy.js';
export {
  DEFAULT_STATS_WINDOW_MS,
  LoadStats,
  FAILURE_DECAY_MS,
  FAILURE_WEIGHT,
  TYPICAL_WEIGHT,
  type HostStats,
  type LoadStatsOptions,
} from './load-stats.js';
export {
  DEFAULT_FAILURE_MARKDOWN,
  DEFAULT_FAILURE_PENALTY,
  DEFAULT_TYPICAL_CAP,
  FinagleP2CEwmaBalancer,
  P2CEwmaBalancer,
  UNSAMPLED_PENALTY,
  ewmaLoad,
  type P2CEwmaOptions,
} from './p2c-ewma.js';
export { MARKED_DOWN, P2CBalancer, p2cPick } from './p2c.js';
export { RandomBalancer } from './random.js';
export { RoundRobinBalancer } from './round-robin.js';
export {
  DEFAULT_DECAY_MS,
  EMPTY_PEAK_EWMA,
  decayFactor,
  decayed,
  nextCost,
  observe,
  type PeakEwmaState,
} from './peak-ewma.js';
export { DEFAULT_PRIORITY, DEFAULT_WEIGHT, ZERO_WEIGHT, priorityOf, weightOf } from './srv.js';
export { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

/** The balancer a group uses when none is named (the contract's default). @defaultValue 'p2c-ewma' */
export const DEFAULT_LOAD_BALANCER: LoadBalancerName = 'p2c-ewma';

const FACTORIES: Readonly<Record<LoadBalancerName, () => LoadBalancer>> = {
  'round-robin': () => new RoundRobinBalancer(),
  random: () => new RandomBalancer(),
  p2c: () => new P2CBalancer(),
  'p2c-ewma': () => new P2CEwmaBalancer(),
  'finagle-p2c-ewma': () => new FinagleP2CEwmaBalancer(),
  'weighted-round-robin': () => new WeightedRoundRobinBalancer(),
};

/**
 * The balancer for one group: a fresh built-in instance for a name (so state such as a round-robin
 * cursor is per group), or the user's own object as given.
 *
 * @param spec - a {@link LoadBalancerName}, an object with a `pick` method, or undefined for
 *   {@link DEFAULT_LOAD_BALANCER}.
 * @param field - the option name reported in errors. @defaultValue 'loadBalancer'
 * @throws XhttpError `INVALID_ARGUMENT` naming `field` for an unknown name or an object without `pick`.
 *
 * @example
 * ```ts
 * const balancer = createBalancer(options.loadBalancer, 'options.loadBalancer');
 * ```
 */
export function createBalancer(
  spec: LoadBalancerName | LoadBalancer | undefined,
  field = 'loadBalancer',
): LoadBalancer {
  const value: unknown = spec === undefined ? DEFAULT_LOAD_BALANCER : spec;
  if (typeof value === 'string') {
    // Own-property check: a name such as 'toString' must not reach Object.prototype.
    if (!Object.hasOwn(FACTORIES, value))
      throw invalidArgument(
        field,
        `unknown load balancer '${value.slice(0, 40)}'; expected one of ${Object.keys(FACTORIES).join(', ')}`,
      );
    return FACTORIES[value as LoadBalancerName]();
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<LoadBalancer>).pick === 'function'
  )
    return value as LoadBalancer;
  throw invalidArgument(
    field,
    'must be a load balancer name or an object with a pick(candidates, ctx) method',
  );
}
