import { invalidArgument } from '../errors.js';
import {
  checkOptions,
  describeValue,
  optionalPositiveDuration,
  optionalRatio,
} from '../internal/validate.js';
import type { Address } from '../types.js';

/**
 * A group's rules for which hosts a pick may use, beside the balancer: slow start (a host that joins
 * or recovers ramps up its share) and the panic threshold (too few healthy hosts: use them all).
 * Pure functions and plain data; `eligible.ts` applies them.
 */

/** Slow start of a group, every field optional (see {@link SlowStart}). */
export interface SlowStartOptions {
  /** How long the ramp lasts, ms. @defaultValue 10_000 */
  readonly window?: number;
  /** Shape of the ramp: 1 linear, above 1 faster at first (Envoy's `aggression`). @defaultValue 1 */
  readonly aggression?: number;
  /** The share factor at the ramp's start, in (0, 1]. @defaultValue 0.1 */
  readonly minWeight?: number;
}

/** Slow start with its defaults applied. */
export interface SlowStart {
  readonly window: number;
  readonly aggression: number;
  readonly minWeight: number;
}

/** Envoy's slow-start defaults, as the issue asks: a 10 s linear ramp from a tenth. */
export const DEFAULT_SLOW_START: SlowStart = Object.freeze({ window: 10_000, aggression: 1, minWeight: 0.1 });

/** Share of healthy hosts below which a group balances over all of them (Envoy's 50 %). @defaultValue 0.5 */
export const DEFAULT_PANIC_THRESHOLD = 0.5;

/**
 * Which hosts pass their health checks: the hook an active health checker feeds. `allHealthy` true
 * lets a pick skip the O(n) count; `healthy(a)` false makes `a` ineligible while the group is above
 * its panic threshold.
 */
export interface HostHealthSource {
  readonly allHealthy: boolean;
  healthy(address: Address): boolean;
}

/**
 * A group's host policy, as `selectAddress` reads it. `health` is assigned by whoever checks the
 * group's hosts (undefined: no checks, every host passes).
 */
export interface HostPolicy {
  readonly slowStart: SlowStart | undefined;
  readonly panicThreshold: number;
  health: HostHealthSource | undefined;
}

/**
 * Envoy's slow-start factor for a host whose ramp started `elapsed` ms ago:
 * `max(minWeight, (elapsed / window)^(1 / aggression))`, and 1 once the window has passed (or for a
 * host that never started one: `elapsed` infinite or NaN).
 *
 * @example slowStartFactor(5_000, DEFAULT_SLOW_START) // 0.5
 */
export function slowStartFactor(elapsed: number, s: SlowStart): number {
  if (!(elapsed < s.window)) return 1;
  const ramp = elapsed > 0 ? (elapsed / s.window) ** (1 / s.aggression) : 0;
  return ramp > s.minWeight ? ramp : s.minWeight;
}

/**
 * Validates a group's `slowStart` option: an object (defaults for absent fields), `true` for the
 * defaults, `false` or undefined for none.
 *
 * @throws XhttpError `INVALID_ARGUMENT` naming `<field>.<name>` for a bad field.
 */
export function parseSlowStart(value: unknown, field: string): SlowStart | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_SLOW_START;
  checkOptions(value, ['window', 'aggression', 'minWeight'], field);
  const o = value as SlowStartOptions;
  const window = optionalPositiveDuration(o.window, `${field}.window`) ?? DEFAULT_SLOW_START.window;
  const aggression: unknown = o.aggression;
  if (
    aggression !== undefined &&
    (typeof aggression !== 'number' || !(aggression > 0) || !Number.isFinite(aggression))
  )
    throw invalidArgument(
      `${field}.aggression`,
      `must be a positive finite number (got ${describeValue(aggression)})`,
    );
  const minWeight = optionalRatio(o.minWeight, `${field}.minWeight`) ?? DEFAULT_SLOW_START.minWeight;
  if (minWeight === 0) throw invalidArgument(`${field}.minWeight`, 'must be above 0 (got 0)');
  return Object.freeze({ window, aggression: aggression ?? DEFAULT_SLOW_START.aggression, minWeight });
}
