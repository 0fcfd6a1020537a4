/**
 * Finagle's peak EWMA (`PeakEwma.scala`) as pure functions: a latency estimate that jumps to every
 * peak at once and forgets it exponentially with time constant τ.
 *
 * Jumping up at once is what makes a balancer leave a host the moment it turns slow; decaying with
 * elapsed time (not with sample count) lets an idle host's cost fall toward 0 so it is probed again.
 */

/** Decay time constant τ of the latency cost, ms (Finagle, Envoy). @defaultValue 10_000 */
export const DEFAULT_DECAY_MS = 10_000;

/** Latency cost in ms and the clock time (ms) it was last updated. */
export interface PeakEwmaState {
  readonly cost: number;
  readonly stamp: number;
}

/** No sample yet: cost 0. */
export const EMPTY_PEAK_EWMA: PeakEwmaState = { cost: 0, stamp: 0 };

/**
 * The weight an EWMA's old value keeps after `elapsed` ms: `exp(−elapsed/τ)`, and 1 for an elapsed
 * time ≤ 0 (time never runs backwards here: a late sample does not inflate the value). The one decay
 * every time-decayed EWMA in rxhttp uses.
 *
 * @example decayFactor(10_000, 10_000) // ≈ 0.368
 */
export function decayFactor(elapsed: number, decayMs: number): number {
  return elapsed > 0 ? Math.exp(-elapsed / decayMs) : 1;
}

/**
 * The cost after observing latency `x` at time `now`: with `w = exp(−(now − stamp)/τ)`, `x` if it
 * exceeds the decayed cost `cost·w` (a peak), else `x·(1−w) + cost·w`.
 *
 * @example
 * ```ts
 * let s = EMPTY_PEAK_EWMA;
 * s = observe(s, 20, clock.now()); // cost 20 at once
 * ```
 */
export function observe(
  state: PeakEwmaState,
  latencyMs: number,
  now: number,
  decayMs = DEFAULT_DECAY_MS,
): PeakEwmaState {
  return {
    cost: nextCost(state.cost, state.stamp, latencyMs, now, decayMs),
    stamp: Math.max(now, state.stamp),
  };
}

/** {@link observe} on bare numbers, for callers that keep the state in their own mutable record. */
export function nextCost(
  cost: number,
  stamp: number,
  latencyMs: number,
  now: number,
  decayMs = DEFAULT_DECAY_MS,
): number {
  const x = latencyMs > 0 ? latencyMs : 0;
  const w = decayFactor(now - stamp, decayMs);
  // Compared with the decayed cost, i.e. what a balancer reading now would see: Finagle decays the
  // stored cost on every read, so there a sample above the current reading is a new peak.
  const current = cost * w;
  if (x > current) return x;
  return x * (1 - w) + current;
}

/**
 * The cost as read at `now`: decayed toward 0 by the time since the last sample, without changing
 * the state. `cost · exp(−(now − stamp)/τ)`.
 */
export function decayed(state: PeakEwmaState, now: number, decayMs = DEFAULT_DECAY_MS): number {
  return state.cost * decayFactor(now - state.stamp, decayMs);
}
