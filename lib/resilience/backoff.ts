import { invalidArgument } from '../errors.js';
import { checkOptions, optionalDuration, own } from '../internal/validate.js';
import type { BackoffOptions, Jitter } from '../types.js';

/** Delay before the first retry, before jitter, ms. */
export const DEFAULT_INITIAL_DELAY = 100;
/** Cap on any back-off delay, ms. */
export const DEFAULT_MAX_DELAY = 10_000;
/** Growth factor of the exponential schedule. */
export const DEFAULT_MULTIPLIER = 2;
/** Full jitter: with decorrelated jitter it spreads load best (AWS Architecture Blog). */
export const DEFAULT_JITTER: Jitter = 'full';

/**
 * Largest delay a timer can wait: Node fires a `setTimeout` longer than 2^31 − 1 ms at once, so a
 * larger delay would silently turn into no back-off at all.
 */
export const MAX_TIMER_DELAY = 2_147_483_647;

const KEYS = ['initialDelay', 'maxDelay', 'multiplier', 'jitter'];
const JITTERS: readonly Jitter[] = ['full', 'equal', 'decorrelated', 'none'];

/** {@link BackoffOptions} validated, with every default applied. */
export interface ResolvedBackoff {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly multiplier: number;
  readonly jitter: Jitter;
}

/**
 * Validates back-off options and applies the defaults. Throws `INVALID_ARGUMENT` naming the field
 * (`retry.backoff.maxDelay`, …) on unknown keys, delays that are negative, non-finite or beyond a
 * timer's range, `initialDelay > maxDelay`, a multiplier below 1, or an unknown jitter.
 *
 * When only one of `initialDelay` / `maxDelay` is given, the default of the other bends to it
 * (`{ maxDelay: 50 }` means initial 50, not an error about a default the user never wrote).
 *
 * @example
 * ```ts
 * resolveBackoff({ jitter: 'equal' }) // { initialDelay: 100, maxDelay: 10_000, multiplier: 2, jitter: 'equal' }
 * ```
 */
export function resolveBackoff(opts: BackoffOptions | undefined, field = 'retry.backoff'): ResolvedBackoff {
  // Most calls give no back-off options: one shared, frozen default instead of a new object each call.
  if (opts === undefined) return DEFAULT_BACKOFF;
  checkOptions(opts, KEYS, field);
  const o = (opts ?? {}) as Record<string, unknown>;
  const initial = delay(own(o, 'initialDelay'), `${field}.initialDelay`);
  const max = delay(own(o, 'maxDelay'), `${field}.maxDelay`);
  if (initial !== undefined && max !== undefined && initial > max)
    throw invalidArgument(`${field}.initialDelay`, 'must not exceed maxDelay');
  const multiplier = own(o, 'multiplier');
  if (
    multiplier !== undefined &&
    (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 1)
  )
    throw invalidArgument(`${field}.multiplier`, 'must be a finite number ≥ 1');
  const jitter = own(o, 'jitter');
  if (jitter !== undefined && !JITTERS.includes(jitter as Jitter))
    throw invalidArgument(`${field}.jitter`, `must be one of ${JITTERS.map((j) => `'${j}'`).join(', ')}`);
  return {
    initialDelay: initial ?? Math.min(DEFAULT_INITIAL_DELAY, max ?? DEFAULT_MAX_DELAY),
    maxDelay: max ?? Math.max(DEFAULT_MAX_DELAY, initial ?? 0),
    multiplier: (multiplier as number | undefined) ?? DEFAULT_MULTIPLIER,
    jitter: (jitter as Jitter | undefined) ?? DEFAULT_JITTER,
  };
}

const DEFAULT_BACKOFF: ResolvedBackoff = Object.freeze({
  initialDelay: DEFAULT_INITIAL_DELAY,
  maxDelay: DEFAULT_MAX_DELAY,
  multiplier: DEFAULT_MULTIPLIER,
  jitter: DEFAULT_JITTER,
});

function delay(value: unknown, field: string): number | undefined {
  // 0 is a valid delay (retry at once); the shared helper gives every duration field one message.
  return optionalDuration(value, field);
}

/**
 * The delay before retry number `retryIndex` (0 for the first retry), after the AWS Architecture
 * Blog's "Exponential Backoff And Jitter". With `t = min(maxDelay, initialDelay · multiplier^n)`:
 *
 * - `none`: `t`
 * - `full`: `U(0, t)`
 * - `equal`: `t/2 + U(0, t/2)`
 * - `decorrelated`: `min(maxDelay, U(initialDelay, 3 · previousDelay))`; pass `initialDelay` as the
 *   previous delay before the first retry, then the value this returned. It ignores `multiplier`:
 *   its growth comes from the factor 3.
 *
 * Pure: no clock, the random source is injected (uniform in [0, 1)). The result is always finite
 * and within `[0, maxDelay]`, even for a huge `retryIndex` or a misbehaving random source.
 *
 * @example
 * ```ts
 * let previous = b.initialDelay;
 * const d = backoffDelay(attempt - 1, previous, b, Math.random); previous = d;
 * ```
 */
export function backoffDelay(
  retryIndex: number,
  previousDelay: number,
  b: ResolvedBackoff,
  random: () => number,
): number {
  const base = b.initialDelay;
  const cap = b.maxDelay;
  if (b.jitter === 'decorrelated') {
    // Previous delays below the base (or garbage) restart the walk from the base.
    const previous = Number.isFinite(previousDelay) ? Math.max(base, previousDelay) : base;
    return Math.min(cap, base + unit(random) * (3 * previous - base));
  }
  const n = Number.isFinite(retryIndex) ? Math.max(0, Math.floor(retryIndex)) : 0;
  // base · m^n overflows to Infinity for large n; 0 · Infinity would be NaN, hence the base guard.
  const t = base === 0 ? 0 : Math.min(cap, base * Math.pow(b.multiplier, n));
  switch (b.jitter) {
    case 'none':
      return t;
    case 'equal':
      return t / 2 + unit(random) * (t / 2);
    case 'full':
      return unit(random) * t;
  }
}

/** A draw in [0, 1): a user-supplied random source must not push a delay out of its bounds. */
function unit(random: () => number): number {
  const r = random();
  return r >= 0 && r < 1 ? r : r >= 1 ? 1 - Number.EPSILON : 0;
}
