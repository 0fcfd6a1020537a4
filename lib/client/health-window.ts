/**
 * Rolling call statistics for `client.health$`: one-second buckets in a fixed ring, each holding
 * counts and a small log-scale latency histogram. Recording is O(1) with no allocation; reading
 * merges at most {@link DEFAULT_HISTORY_SECONDS} buckets. Buckets roll over lazily (on the next
 * record or read), so there are no timers.
 */

/** Width of one bucket, ms. */
export const BUCKET_MS = 1_000;
/** Span of rates, error % and percentiles, ms. @defaultValue 10_000 */
export const DEFAULT_WINDOW_MS = 10_000;
/** Seconds of per-second latency kept for sparklines. @defaultValue 60 */
export const DEFAULT_HISTORY_SECONDS = 60;

// Histogram bins grow by 15 %: a percentile is within about 7 % of the true value, from 0.25 ms to
// past a minute, in 90 counters per bucket.
const MIN_MS = 0.25;
const GROWTH = 1.15;
const LOG_GROWTH = Math.log(GROWTH);
const BINS = 90;

/** Bin of a duration: 0 below {@link MIN_MS}, the last bin for anything past the top. */
function binOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH) + 1;
  return i < BINS ? i : BINS - 1;
}

/** Geometric middle of a bin, the value a percentile in it reports. */
function binValue(i: number): number {
  return i === 0 ? MIN_MS : MIN_MS * GROWTH ** (i - 0.5);
}

interface Bucket {
  /** Start of the second this bucket holds; -1 when never used. */
  start: number;
  calls: number;
  errors: number;
  retries: number;
  failFasts: number;
  samples: number;
  maxMs: number;
  minMs: number;
  readonly bins: Uint32Array;
}

/** Latency percentiles in ms; 0 when no call ended in the window. */
export interface LatencyPercentiles {
  /** Median, ms. */
  readonly p50: number;
  /** 90th percentile, ms. */
  readonly p90: number;
  /** 99th percentile, ms. */
  readonly p99: number;
}

/** What a window says at one moment. */
export interface WindowStats {
  /** Calls ended per second (cancelled ones excluded). */
  readonly callsPerSecond: number;
  /** Calls that failed or got a 5xx, as a percentage of calls ended; 0 with no call. */
  readonly errorPercent: number;
  readonly latencyMs: LatencyPercentiles;
  readonly retriesPerSecond: number;
  readonly failFastPerSecond: number;
  /** Calls ended in the window. */
  readonly calls: number;
  /** p90 latency of each of the last seconds, oldest first (0 for a second with no call). */
  readonly sparkline: readonly number[];
}

/** Options of {@link CallWindow}. */
export interface CallWindowOptions {
  /** @defaultValue {@link DEFAULT_WINDOW_MS} */
  readonly windowMs?: number;
  /** @defaultValue {@link DEFAULT_HISTORY_SECONDS} */
  readonly historySeconds?: number;
}

/** Rolling counts and latency histogram of calls, in one-second buckets. */
export class CallWindow {
  readonly #buckets: Bucket[];
  readonly #windowBuckets: number;
  /** When recording began: rates over a window not yet full divide by the time actually covered. */
  readonly #since: number;
  /** The bucket recorded into last and its second: most events land in the same second as the last. */
  #current: Bucket | undefined;
  #currentSecond = -1;

  constructor(since: number, options: CallWindowOptions = {}) {
    this.#since = since;
    this.#windowBuckets = Math.max(1, Math.round((options.windowMs ?? DEFAULT_WINDOW_MS) / BUCKET_MS));
    const size = Math.max(this.#windowBuckets, options.historySeconds ?? DEFAULT_HISTORY_SECONDS);
    this.#buckets = Array.from({ length: size }, () => newBucket());
  }

  /** A call ended after `durationMs`; `failed` for an error or a 5xx. */
  callEnded(now: number, durationMs: number, failed: boolean): void {
    const b = this.#bucket(now);
    b.calls++;
    if (failed) b.errors++;
    b.samples++;
    b.bins[binOf(durationMs)]!++;
    if (durationMs > b.maxMs) b.maxMs = durationMs;
    if (durationMs < b.minMs) b.minMs = durationMs;
  }

  retried(now: number): void {
    this.#bucket(now).retries++;
  }

  failedFast(now: number): void {
    this.#bucket(now).failFasts++;
  }

  /** Rates, error % and percentiles over the window ending at `now`, and the sparkline. */
  read(now: number): WindowStats {
    const second = Math.floor(now / BUCKET_MS);
    const merged = new Uint32Array(BINS);
    let calls = 0;
    let errors = 0;
    let retries = 0;
    let failFasts = 0;
    let samples = 0;
    let maxMs = 0;
    let minMs = Infinity;
    for (let i = 0; i < this.#windowBuckets; i++) {
      const b = this.#at(second - i);
      if (b === undefined) continue;
      calls += b.calls;
      errors += b.errors;
      retries += b.retries;
      failFasts += b.failFasts;
      samples += b.samples;
      if (b.maxMs > maxMs) maxMs = b.maxMs;
      if (b.minMs < minMs) minMs = b.minMs;
      for (let j = 0; j < BINS; j++) merged[j]! += b.bins[j]!;
    }
    // The current second is partial: cover it as far as it has gone, and no further back than recording.
    const covered = Math.min(
      (this.#windowBuckets - 1) * BUCKET_MS + (now - second * BUCKET_MS),
      now - this.#since,
    );
    const seconds = Math.max(covered, BUCKET_MS) / 1000;
    const clamp = (v: number) => (samples === 0 ? 0 : Math.min(maxMs, Math.max(minMs, v)));
    const sparkline: number[] = [];
    for (let i = this.#buckets.length - 1; i >= 0; i--) {
      const b = this.#at(second - i);
      sparkline.push(b === undefined || b.samples === 0 ? 0 : bucketPercentile(b, 0.9));
    }
    return {
      callsPerSecond: calls / seconds,
      errorPercent: calls === 0 ? 0 : (100 * errors) / calls,
      latencyMs: {
        p50: clamp(percentile(merged, samples, 0.5)),
        p90: clamp(percentile(merged, samples, 0.9)),
        p99: clamp(percentile(merged, samples, 0.99)),
      },
      retriesPerSecond: retries / seconds,
      failFastPerSecond: failFasts / seconds,
      calls,
      sparkline,
    };
  }

  /** The bucket of the second `now` falls in, emptied first if it held an older second. */
  #bucket(now: number): Bucket {
    const second = Math.floor(now / BUCKET_MS);
    if (second === this.#currentSecond) return this.#current!;
    const b = this.#buckets[mod(second, this.#buckets.length)]!;
    if (b.start !== second) reset(b, second);
    this.#current = b;
    this.#currentSecond = second;
    return b;
  }

  /** The bucket holding `second`, if it still does. */
  #at(second: number): Bucket | undefined {
    const b = this.#buckets[mod(second, this.#buckets.length)]!;
    return b.start === second ? b : undefined;
  }
}

function percentile(bins: Uint32Array, samples: number, q: number): number {
  if (samples === 0) return 0;
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const rank = Math.max(1, Math.ceil(q * samples));
  let seen = 0;
  for (let i = 0; i < BINS; i++) {
    seen += bins[i]!;
    if (seen >= rank) return binValue(i);
  }
  return binValue(BINS - 1);
}

function bucketPercentile(b: Bucket, q: number): number {
  return Math.min(b.maxMs, Math.max(b.minMs, percentile(b.bins, b.samples, q)));
}

function newBucket(): Bucket {
  return {
    start: -1,
    calls: 0,
    errors: 0,
    retries: 0,
    failFasts: 0,
    samples: 0,
    maxMs: 0,
    minMs: Infinity,
    bins: new Uint32Array(BINS),
  };
}

function reset(b: Bucket, second: number): void {
  b.start = second;
  b.calls = b.errors = b.retries = b.failFasts = b.samples = 0;
  b.maxMs = 0;
  b.minMs = Infinity;
  b.bins.fill(0);
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}
