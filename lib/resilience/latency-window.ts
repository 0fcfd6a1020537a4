/**
 * A group's recent latencies as a bounded histogram, for the adaptive hedge delay: log-linear
 * buckets (8 per power of two, so a bucket is at most ~9 % wide) from 1/16 ms to about 4.6 hours,
 * 432 counters per window whatever the traffic. Two windows: the one filling and the last full one;
 * a percentile reads the last full one when it holds enough samples (stable for a whole window, as
 * Finagle's refreshed percentile is), else the filling one once it does. An idle spell keeps the
 * last window that saw traffic, up to `maxAgeMs`, so a client that pauses does not start over
 * unhedged. No timer: windows turn on the clock times the samples and reads bring.
 */
export class LatencyWindow {
  #current: Uint32Array = new Uint32Array(BUCKETS);
  #currentCount = 0;
  #previous: Uint32Array | undefined;
  #previousCount = 0;
  /** When the full window ended: it is kept through idle spells up to `maxAgeMs`. */
  #previousEnd = 0;
  #windowStart: number;
  /** The percentile asked last and its answer, for the window (and state of it) it was computed on. */
  #memoP = -1;
  #memoMs = 0;
  #memoStamp = -1;
  /** Bumped by every turn (the full window changes) and every record (the filling one does). */
  #turns = 0;
  #records = 0;

  constructor(
    readonly windowMs: number,
    now: number,
    /** How long a full window is kept when no traffic comes after it, ms (Finagle keeps 30 s). */
    readonly maxAgeMs = 6 * windowMs,
  ) {
    this.#windowStart = now;
  }

  /** Records one latency, ms, observed at `now`. */
  record(ms: number, now: number): void {
    this.#turn(now);
    this.#current[bucketOf(ms)]!++;
    this.#currentCount++;
    this.#records++;
  }

  /**
   * The `p` quantile, ms (the upper bound of its bucket, so never below the true value), of the last
   * full window when it holds `minSamples` latencies, else of the filling one when it does;
   * undefined when neither does.
   */
  percentile(p: number, minSamples: number, now: number): number | undefined {
    this.#turn(now);
    const full = this.#previous !== undefined && this.#previousCount >= minSamples;
    const counts = full ? this.#previous! : this.#current;
    const n = full ? this.#previousCount : this.#currentCount;
    if (n < minSamples || n === 0) return undefined;
    // Negative stamps for the full window, so the two sources never share a memo.
    const stamp = full ? -1 - this.#turns : this.#records + this.#turns * 1e9;
    if (p === this.#memoP && this.#memoStamp === stamp) return this.#memoMs;
    const rank = Math.max(1, Math.ceil(p * n));
    let seen = 0;
    let ms = upperBound(BUCKETS - 1);
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i]!;
      if (seen >= rank) {
        ms = upperBound(i);
        break;
      }
    }
    this.#memoP = p;
    this.#memoMs = ms;
    this.#memoStamp = stamp;
    return ms;
  }

  #turn(now: number): void {
    if (now - this.#windowStart < this.windowMs) return;
    const ended = this.#windowStart + this.windowMs;
    if (this.#currentCount > 0) {
      // The window that just ended (or, after an idle spell, the last one that saw traffic).
      const spare = this.#previous;
      this.#previous = this.#current;
      this.#previousCount = this.#currentCount;
      this.#previousEnd = ended;
      this.#current = spare === undefined ? new Uint32Array(BUCKETS) : spare.fill(0);
      this.#currentCount = 0;
    } else if (this.#previous !== undefined && now - this.#previousEnd > this.maxAgeMs) {
      // Idle for longer than the data is worth keeping: forget it.
      this.#previous = undefined;
      this.#previousCount = 0;
    }
    this.#windowStart = now - ((now - this.#windowStart) % this.windowMs);
    this.#turns++;
  }
}

/** Sub-buckets per power of two. */
const SUB = 8;
/** The first power of two covered: 2^-4 ms. */
const MIN_EXP = -4;
/** Powers of two covered: 2^-4 ms to 2^50 ms. */
const EXPS = 54;
const BUCKETS = SUB * EXPS;

/** The bucket of `ms`: everything at or below 2^-4 ms in the first, anything huge in the last. */
export function bucketOf(ms: number): number {
  if (!(ms > 2 ** MIN_EXP)) return 0;
  const e = Math.floor(Math.log2(ms));
  const base = 2 ** e;
  const sub = Math.min(SUB - 1, Math.floor(((ms - base) / base) * SUB));
  const i = (e - MIN_EXP) * SUB + sub;
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** The largest latency bucket `i` holds, ms. */
export function upperBound(i: number): number {
  const e = Math.floor(i / SUB) + MIN_EXP;
  const sub = i % SUB;
  const base = 2 ** e;
  return base + (base * (sub + 1)) / SUB;
}
