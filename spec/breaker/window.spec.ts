import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  closedBucketCount,
  EMPTY_COUNT,
  emptyWindow,
  failureRate,
  liveCount,
  recordEvent,
  type SlidingWindow,
  type WindowSpec,
} from '../../lib/breaker/window.js';

const spec: WindowSpec = { counterSlidingWindow: 20_000, counterUpdateInterval: 1_000 };

/** Records `n` results of one kind at time `t`. */
function many(w: SlidingWindow, n: number, failed: boolean, t: number, s: WindowSpec = spec): SlidingWindow {
  for (let i = 0; i < n; i++) w = recordEvent(w, failed, t, s);
  return w;
}

const count = (w: SlidingWindow) => ({ success: w.snapshot.success, failure: w.snapshot.failure });

describe('sliding window', () => {
  it('keeps events of the filling bucket out of the snapshot', () => {
    const w = many(many(emptyWindow(0), 3, false, 10), 2, true, 999);
    assert.deepEqual(count(w), { success: 0, failure: 0 });
    assert.equal(w.success, 3);
    assert.equal(w.failure, 2);
    assert.equal(w.snapshot, EMPTY_COUNT, 'no roll-over, no fresh snapshot');
  });

  it('rolls over when an event arrives at start + interval, not before', () => {
    const before = many(many(emptyWindow(0), 3, false, 0), 1, true, 500);
    const still = recordEvent(before, true, 999, spec);
    assert.equal(still.snapshot, before.snapshot);
    assert.equal(still.start, 0);
    const rolled = recordEvent(still, false, 1_000, spec);
    assert.notEqual(rolled.snapshot, still.snapshot, 'a fresh snapshot object');
    assert.deepEqual(count(rolled), { success: 3, failure: 2 });
    assert.equal(rolled.start, 1_000);
    assert.deepEqual(
      [rolled.success, rolled.failure],
      [1, 0],
      'the rolling event is in the new filling bucket',
    );
  });

  it('starts the new bucket at the event time, not on an interval grid', () => {
    let w = recordEvent(emptyWindow(0), true, 1_750, spec);
    assert.equal(w.start, 1_750);
    w = recordEvent(w, true, 2_700, spec);
    assert.equal(w.start, 1_750, '2_700 < 1_750 + 1_000: same bucket');
    w = recordEvent(w, false, 2_750, spec);
    assert.equal(w.start, 2_750);
    assert.deepEqual(count(w), { success: 0, failure: 2 });
  });

  it('drops buckets that started before now − window, keeps one starting exactly there', () => {
    let w = many(emptyWindow(0), 4, true, 0); // bucket @0
    w = many(w, 2, false, 5_000); // rolls: snapshot {0,4}; bucket @5000
    w = recordEvent(w, false, 20_000, spec); // rolls at 20_000: limit 0, bucket @0 kept
    assert.deepEqual(count(w), { success: 2, failure: 4 });
    w = recordEvent(w, false, 21_000, spec); // limit 1_000: bucket @0 dropped
    assert.deepEqual(count(w), { success: 3, failure: 0 });
    w = recordEvent(w, false, 60_000, spec); // everything older than 40_000 dropped
    assert.deepEqual(count(w), { success: 0, failure: 0 });
    assert.equal(closedBucketCount(w), 0);
  });

  it('keeps a late event as a bucket of its own, counted at the next roll-over', () => {
    let w = many(emptyWindow(0), 2, false, 0);
    w = recordEvent(w, false, 1_000, spec); // snapshot {2,0}
    const snap = w.snapshot;
    w = recordEvent(w, true, 400, spec); // late: before the filling bucket @1000
    assert.equal(w.snapshot, snap, 'a late event refreshes nothing');
    assert.equal(w.start, 1_000);
    assert.equal(closedBucketCount(w), 2);
    w = recordEvent(w, true, 400, spec); // same instant: merged into that bucket
    assert.equal(closedBucketCount(w), 2);
    w = recordEvent(w, false, 2_000, spec);
    assert.deepEqual(count(w), { success: 3, failure: 2 });
    w = recordEvent(w, false, 20_450, spec); // limit 450: buckets @0 and @400 dropped, in start order
    assert.deepEqual(count(w), { success: 2, failure: 0 });
  });

  it('never holds more closed buckets than the window spans (bounded memory)', () => {
    let w = emptyWindow(0);
    let max = 0;
    for (let t = 0; t < 200_000; t += 137) {
      w = recordEvent(w, t % 3 === 0, t, spec);
      max = Math.max(max, closedBucketCount(w));
    }
    assert.ok(max <= spec.counterSlidingWindow / spec.counterUpdateInterval + 1, `held ${max} buckets`);
  });

  it('leaves its input untouched (immutable values)', () => {
    const a = many(emptyWindow(0), 3, true, 0);
    const frozen = structuredClone(a);
    recordEvent(a, false, 1_000, spec);
    recordEvent(a, false, 500, spec);
    recordEvent(a, false, -5, spec);
    assert.deepEqual(a, frozen);
  });

  it('failureRate is failures / total, 0 when empty', () => {
    assert.equal(failureRate({ success: 1, failure: 3 }), 0.75);
    assert.equal(failureRate(EMPTY_COUNT), 0);
  });

  it('agrees with a literal transcription of Armeria SlidingWindowCounter on random timelines', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.record({ dt: fc.integer({ min: -800, max: 1_500 }), failed: fc.boolean() }), {
          maxLength: 300,
        }),
        (interval, buckets, steps) => {
          const s: WindowSpec = { counterUpdateInterval: interval, counterSlidingWindow: interval * buckets };
          const ref = new ArmeriaCounter(s, 0);
          let w = emptyWindow(0);
          let t = 0;
          for (const { dt, failed } of steps) {
            t += dt;
            const fresh = ref.onEvent(failed, t);
            const next = recordEvent(w, failed, t, s);
            assert.equal(next.snapshot !== w.snapshot, fresh !== undefined);
            assert.deepEqual(count(next), ref.snapshot);
            w = next;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Armeria's SlidingWindowCounter, line by line, with a plain array for the reservoir. */
class ArmeriaCounter {
  current: { start: number; success: number; failure: number };
  reservoir: { start: number; success: number; failure: number }[] = [];
  snapshot = { success: 0, failure: 0 };
  constructor(
    readonly spec: WindowSpec,
    now: number,
  ) {
    this.current = { start: now, success: 0, failure: 0 };
  }
  onEvent(failed: boolean, now: number): { success: number; failure: number } | undefined {
    const bump = (b: { success: number; failure: number }) => (failed ? b.failure++ : b.success++);
    if (now < this.current.start) {
      const b = { start: now, success: 0, failure: 0 };
      bump(b);
      this.reservoir.push(b);
      return undefined;
    }
    if (now < this.current.start + this.spec.counterUpdateInterval) {
      bump(this.current);
      return undefined;
    }
    const next = { start: now, success: 0, failure: 0 };
    bump(next);
    this.reservoir.push(this.current);
    this.current = next;
    const oldLimit = now - this.spec.counterSlidingWindow;
    this.reservoir = this.reservoir.filter((b) => b.start >= oldLimit);
    this.snapshot = this.reservoir.reduce(
      (a, b) => ({ success: a.success + b.success, failure: a.failure + b.failure }),
      { success: 0, failure: 0 },
    );
    return this.snapshot;
  }
}

describe('liveCount', () => {
  it('counts the filling bucket with the closed ones; the snapshot leaves it out', () => {
    let w = emptyWindow(0);
    w = recordEvent(w, true, 10, spec);
    w = recordEvent(w, false, 20, spec);
    assert.deepEqual(liveCount(w), { success: 1, failure: 1 });
    assert.deepEqual(w.snapshot, EMPTY_COUNT);
    w = recordEvent(w, true, 1_000, spec); // rolls over: the first bucket closes
    assert.deepEqual(liveCount(w), { success: 1, failure: 2 });
    assert.deepEqual(w.snapshot, { success: 1, failure: 1 });
    w = recordEvent(w, false, 500, spec); // late: a closed bucket of its own, live at once
    assert.deepEqual(liveCount(w), { success: 2, failure: 2 });
    assert.deepEqual(w.snapshot, { success: 1, failure: 1 });
  });
});
