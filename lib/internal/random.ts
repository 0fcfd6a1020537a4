/**
 * A seeded uniform random source in [0, 1): mulberry32, one 32-bit state word.
 *
 * Specs and benches pass it as `ClientConfig.random` so balancer picks and jitter repeat exactly.
 * Not for cryptography; good enough statistically for load balancing and back-off.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const client = new Client({ random });
 * ```
 */
export function seededRandom(seed: number): () => number {
  // `| 0` folds any number (fractional, negative, huge) into one 32-bit state word.
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A uniform integer in [0, n), for `n ≥ 1`.
 *
 * The result is clamped into range, so a user-supplied source that returns 1, a negative number or
 * NaN still yields a valid index rather than `undefined` from an array.
 *
 * @example
 * ```ts
 * const host = hosts[randomInt(Math.random, hosts.length)];
 * ```
 */
export function randomInt(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  if (i >= 0 && i < n) return i;
  return i >= n ? n - 1 : 0;
}
