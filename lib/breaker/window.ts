/**
 * The bucketed sliding counter of a circuit breaker, after Armeria's `SlidingWindowCounter`, as
 * immutable values: every function takes the time as `now` and returns a new window, so the
 * reducer stays pure and specs need no clock.
 *
 * Events go into the filling bucket. An event at or after `start + counterUpdateInterval` closes
 * it and starts a new one at the event's time; buckets older than `now − counterSlidingWindow` are
 * dropped and the closed ones summed into a fresh {@link WindowCount} snapshot. The filling bucket
 * is never in the snapshot, so counts refresh at most once per interval. A late event (stamped
 * before the filling bucket) becomes a bucket of its own among the closed ones: nothing is lost,
 * and it shows in the next snapshot.
 *
 * Cost: O(1) per event. The closed buckets are a persistent FIFO (a front list and a reversed back
 * list, Okasaki's batched queue) carrying running sums, so a roll-over pushes one node and pops the
 * expired ones — amortised O(1) — instead of re-summing the window. Only a late event pays
 * O(buckets), to keep the queue ordered by start.
 */

/** Successes and failures over the closed buckets of a window. */
export interface WindowCount {
  readonly success: number;
  readonly failure: number;
}

/** The two durations a window needs (a subset of the resolved breaker config). */
export interface WindowSpec {
  /** Span of the window, ms, > 0. */
  readonly counterSlidingWindow: number;
  /** Bucket width, ms, > 0. */
  readonly counterUpdateInterval: number;
}

interface Bucket extends WindowCount {
  readonly start: number;
}

interface Node {
  readonly bucket: Bucket;
  readonly next: Node | undefined;
}

/** Closed buckets oldest first: `front` in order, then `back` newest first; sums over both. */
interface Closed extends WindowCount {
  readonly front: Node | undefined;
  readonly back: Node | undefined;
}

/** A sliding window at one moment. Treat as opaque apart from the fields documented here. */
export interface SlidingWindow {
  /** Start time of the filling bucket. */
  readonly start: number;
  /** Successes in the filling bucket (not yet in {@link SlidingWindow.snapshot}). */
  readonly success: number;
  /** Failures in the filling bucket. */
  readonly failure: number;
  /** @internal closed buckets */
  readonly closed: Closed;
  /**
   * Counts over the closed buckets as of the last roll-over. A new object exactly when an event
   * rolled the window over, so `next.snapshot !== prev.snapshot` tells a fresh snapshot.
   */
  readonly snapshot: WindowCount;
}

/** The empty count, shared. */
export const EMPTY_COUNT: WindowCount = Object.freeze({ success: 0, failure: 0 });

const NO_CLOSED: Closed = Object.freeze({ front: undefined, back: undefined, success: 0, failure: 0 });

/** A window with nothing counted whose first bucket starts at `now`. */
export function emptyWindow(now: number): SlidingWindow {
  return { start: now, success: 0, failure: 0, closed: NO_CLOSED, snapshot: EMPTY_COUNT };
}

/** failures / total, or 0 when the count is empty. */
export function failureRate(count: WindowCount): number {
  const total = count.success + count.failure;
  return total === 0 ? 0 : count.failure / total;
}

/**
 * What the window holds now: the closed buckets (as of the last roll-over, late buckets included)
 * plus the bucket still filling. For display only — the breaker decides on
 * {@link SlidingWindow.snapshot}, which leaves the filling bucket out (Armeria).
 *
 * @example liveCount(recordEvent(emptyWindow(0), true, 10, spec)) // { success: 0, failure: 1 }
 */
export function liveCount(w: SlidingWindow): WindowCount {
  return { success: w.closed.success + w.success, failure: w.closed.failure + w.failure };
}

/** Counts one result at time `now`. Returns a new window; `w` is not changed. */
export function recordEvent(w: SlidingWindow, failed: boolean, now: number, spec: WindowSpec): SlidingWindow {
  const s = failed ? 0 : 1;
  const f = failed ? 1 : 0;
  if (now < w.start) {
    return {
      start: w.start,
      success: w.success,
      failure: w.failure,
      closed: insertLate(w.closed, { start: now, success: s, failure: f }),
      snapshot: w.snapshot,
    };
  }
  if (now < w.start + spec.counterUpdateInterval) {
    return {
      start: w.start,
      success: w.success + s,
      failure: w.failure + f,
      closed: w.closed,
      snapshot: w.snapshot,
    };
  }
  // Roll over. An empty filling bucket (a fresh window's first) adds nothing, so it is not kept.
  const pushed =
    w.success + w.failure === 0
      ? w.closed
      : push(w.closed, { start: w.start, success: w.success, failure: w.failure });
  const closed = trim(pushed, now - spec.counterSlidingWindow);
  return {
    start: now,
    success: s,
    failure: f,
    closed,
    snapshot: { success: closed.success, failure: closed.failure },
  };
}

/** Number of closed buckets held (for specs and diagnostics; O(buckets)). */
export function closedBucketCount(w: SlidingWindow): number {
  let n = 0;
  for (let p = w.closed.front; p; p = p.next) n++;
  for (let p = w.closed.back; p; p = p.next) n++;
  return n;
}

function push(q: Closed, b: Bucket): Closed {
  return {
    front: q.front,
    back: { bucket: b, next: q.back },
    success: q.success + b.success,
    failure: q.failure + b.failure,
  };
}

function reverse(list: Node | undefined): Node | undefined {
  let out: Node | undefined;
  for (let p = list; p; p = p.next) out = { bucket: p.bucket, next: out };
  return out;
}

/** Drops buckets that started before `limit` (Armeria: `bucket.timestamp < now − window`). */
function trim(q: Closed, limit: number): Closed {
  let { front, back, success, failure } = q;
  for (;;) {
    if (front === undefined) {
      if (back === undefined) break;
      front = reverse(back);
      back = undefined;
      if (front === undefined) break;
    }
    if (front.bucket.start >= limit) break;
    success -= front.bucket.success;
    failure -= front.bucket.failure;
    front = front.next;
  }
  return front === q.front && back === q.back ? q : { front, back, success, failure };
}

/** Puts a late bucket in start order (merging with one of the same start), so trimming stays FIFO. */
function insertLate(q: Closed, b: Bucket): Closed {
  const all: Bucket[] = [];
  for (let p = q.front; p; p = p.next) all.push(p.bucket);
  const fromBack: Bucket[] = [];
  for (let p = q.back; p; p = p.next) fromBack.push(p.bucket);
  for (let i = fromBack.length - 1; i >= 0; i--) all.push(fromBack[i]!);
  let i = all.length;
  while (i > 0 && all[i - 1]!.start > b.start) i--;
  const same = all[i - 1];
  if (same !== undefined && same.start === b.start) {
    all[i - 1] = { start: b.start, success: same.success + b.success, failure: same.failure + b.failure };
  } else {
    all.splice(i, 0, b);
  }
  let front: Node | undefined;
  for (let j = all.length - 1; j >= 0; j--) front = { bucket: all[j]!, next: front };
  return { front, back: undefined, success: q.success + b.success, failure: q.failure + b.failure };
}
