import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  closedBreaker,
  openWindow,
  reduceBreaker,
  type BreakerInput,
  type BreakerState,
  type ReducerConfig,
} from '../../lib/breaker/reducer.js';

// Ejection that grows: the reducer is pure, so time is the number passed in (virtual by construction).

const base: ReducerConfig = {
  failureRateThreshold: 0.5,
  minimumRequestThreshold: 10,
  trialRequestInterval: 3_000,
  circuitOpenWindow: 10_000,
  counterSlidingWindow: 20_000,
  counterUpdateInterval: 1_000,
};
const growing: ReducerConfig = { ...base, maxCircuitOpenWindow: 40_000 };

function feed(s: BreakerState, input: BreakerInput, n: number, t: number, c: ReducerConfig): BreakerState {
  for (let i = 0; i < n; i++) s = reduceBreaker(s, input, t, c).state;
  return s;
}

/** Ten failures at `t`, one more at `t + 1_000` (the bucket rolls over): open at `t + 1_000`. */
function trip(s: BreakerState, t: number, c: ReducerConfig): BreakerState {
  s = feed(feed(s, 'failure', 10, t, c), 'failure', 1, t + 1_000, c);
  assert.equal(s.name, 'open', `tripped at ${t + 1_000}`);
  return s;
}

/** How long an open breaker rejects: the first admitted request's time minus its `since`. */
function rejectsFor(s: BreakerState, c: ReducerConfig): number {
  assert.equal(s.name, 'open');
  const until = s.name === 'open' ? s.until : 0;
  assert.equal(reduceBreaker(s, 'request', until - 1, c).admitted, false, 'still open 1 ms before');
  assert.equal(reduceBreaker(s, 'request', until, c).admitted, true, 'a trial at the end');
  return until - s.since;
}

/** The trial at the end of the open window, and its result. */
function trial(s: BreakerState, result: 'success' | 'failure', c: ReducerConfig): BreakerState {
  const until = s.name === 'open' ? s.until : NaN;
  const step = reduceBreaker(s, 'request', until, c);
  assert.equal(step.state.name, 'half-open');
  return reduceBreaker(step.state, result, until + 100, c).state;
}

/**
 * The scenario: a host trips, recovers briefly and trips again within the quiet period, fails two
 * trials, passes one, trips again within the quiet period, then stays closed past it and trips once
 * more. Returns every open window in order.
 */
function scenario(c: ReducerConfig): number[] {
  const windows: number[] = [];
  let s = trip(closedBreaker(0), 0, c); // trip 1 at 1_000
  windows.push(rejectsFor(s, c));
  s = trial(s, 'success', c); // closed again at until + 100
  const closedAt = s.since;
  s = trip(s, closedAt + 1_000, c); // soon after closing: trip 2
  windows.push(rejectsFor(s, c));
  s = trial(s, 'failure', c); // failed trial: trip 3
  windows.push(rejectsFor(s, c));
  s = trial(s, 'failure', c); // trip 4
  windows.push(rejectsFor(s, c));
  s = trial(s, 'success', c);
  s = trip(s, s.since + 1_000, c); // within the quiet period: trip 5
  windows.push(rejectsFor(s, c));
  s = trial(s, 'success', c);
  const quietEnd = s.name === 'closed' ? s.forgiveAt : NaN;
  s = trip(s, quietEnd, c); // trips at quietEnd + 1_000, after a quiet period: counts as the first
  windows.push(rejectsFor(s, c));
  return windows;
}

describe('breaker reducer: ejection that grows', () => {
  it('opens for circuitOpenWindow × 2^(n−1) up to maxCircuitOpenWindow, and starts over after a quiet period', () => {
    assert.deepEqual(scenario(growing), [10_000, 20_000, 40_000, 40_000, 40_000, 10_000]);
  });

  it('is off when maxCircuitOpenWindow equals circuitOpenWindow (or is absent)', () => {
    const all = [10_000, 10_000, 10_000, 10_000, 10_000, 10_000];
    assert.deepEqual(scenario({ ...base, maxCircuitOpenWindow: 10_000 }), all);
    assert.deepEqual(scenario(base), all);
  });

  it('the quiet period is the last open window: closed one ms less, the next trip still counts on', () => {
    let s = trip(closedBreaker(0), 0, growing);
    s = trial(s, 'success', growing); // closed at 11_100, forgiveAt 21_100
    assert.equal(s.name === 'closed' && s.forgiveAt, 21_100);
    // Ten failures at 19_100, the tripping one at 20_100 < 21_100: the second trip.
    const early = trip(s, 19_100, growing);
    assert.equal(rejectsFor(early, growing), 20_000);
    // At 21_100 exactly the quiet period is over: a first trip again.
    const late = trip(s, 20_100, growing);
    assert.equal(rejectsFor(late, growing), 10_000);
  });

  it('openWindow: doubles, caps, never overflows, and stays 0 for a 0 window', () => {
    const c = { circuitOpenWindow: 10_000, maxCircuitOpenWindow: 300_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 2_000].map((n) => openWindow(n, c)),
      [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000],
    );
    assert.equal(openWindow(50, { circuitOpenWindow: 0, maxCircuitOpenWindow: 300_000 }), 0);
  });
});
