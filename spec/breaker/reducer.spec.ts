import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  closedBreaker,
  reduceBreaker,
  type BreakerInput,
  type BreakerState,
  type ReducerConfig,
} from '../../lib/breaker/reducer.js';
import { EMPTY_COUNT } from '../../lib/breaker/window.js';

const config: ReducerConfig = {
  failureRateThreshold: 0.5,
  minimumRequestThreshold: 10,
  trialRequestInterval: 3_000,
  circuitOpenWindow: 10_000,
  counterSlidingWindow: 20_000,
  counterUpdateInterval: 1_000,
};

/** Feeds `n` copies of `input` at time `t`; returns the final state. */
function feed(
  state: BreakerState,
  input: BreakerInput,
  n: number,
  t: number,
  c: ReducerConfig = config,
): BreakerState {
  for (let i = 0; i < n; i++) state = reduceBreaker(state, input, t, c).state;
  return state;
}

const request = (state: BreakerState, t: number) => reduceBreaker(state, 'request', t, config);

/** A breaker opened at t = 1_000 by ten failures counted in the bucket @0. */
function openedAt1000(): BreakerState {
  const s = feed(feed(closedBreaker(0), 'failure', 10, 0), 'failure', 1, 1_000);
  assert.equal(s.name, 'open');
  return s;
}

describe('breaker reducer: CLOSED', () => {
  it('admits every request without changing state', () => {
    const s = closedBreaker(0);
    const step = request(s, 5);
    assert.equal(step.admitted, true);
    assert.equal(step.state, s);
  });

  it('does not open below minimumRequestThreshold, however bad the rate', () => {
    let s = feed(closedBreaker(0), 'failure', 9, 0);
    s = feed(s, 'failure', 1, 1_000); // snapshot: 9 failures of 9
    assert.equal(s.name, 'closed');
    s = feed(s, 'failure', 1, 2_000); // snapshot: 10 of 10
    assert.equal(s.name, 'open');
  });

  it('opens only when the rate is strictly greater than the threshold: exactly 50 % stays closed', () => {
    let half = feed(feed(closedBreaker(0), 'success', 5, 0), 'failure', 5, 0);
    half = feed(half, 'failure', 1, 1_000);
    assert.equal(half.name, 'closed', '5 / 10 = 0.5 is not > 0.5');
    let more = feed(feed(closedBreaker(0), 'success', 4, 0), 'failure', 6, 0);
    more = feed(more, 'failure', 1, 1_000);
    assert.equal(more.name, 'open', '6 / 10 > 0.5');
  });

  it('checks only when a failure brings a fresh snapshot, never on a success', () => {
    let s = feed(closedBreaker(0), 'failure', 10, 0);
    s = feed(s, 'success', 1, 1_000); // fresh snapshot 10/10 but a success: no check
    assert.equal(s.name, 'closed');
    s = feed(s, 'failure', 5, 1_500); // same bucket: no fresh snapshot
    assert.equal(s.name, 'closed');
    s = feed(s, 'failure', 1, 2_000); // fresh: 15 failures of 16
    assert.equal(s.name, 'open');
    assert.equal(s.since, 2_000);
  });

  it('forgets failures that slid out of the window', () => {
    let s = feed(closedBreaker(0), 'failure', 10, 0);
    s = feed(s, 'success', 10, 30_000); // rolls: the bucket @0 is older than 30_000 − 20_000
    s = feed(s, 'failure', 1, 31_000); // snapshot: 10 successes
    assert.equal(s.name, 'closed');
  });

  it('is pure: the given state is never changed', () => {
    const s = feed(closedBreaker(0), 'failure', 10, 0);
    const before = structuredClone(s);
    reduceBreaker(s, 'failure', 1_000, config);
    reduceBreaker(s, 'success', 1_000, config);
    reduceBreaker(s, 'request', 1_000, config);
    assert.deepEqual(s, before);
  });
});

describe('breaker reducer: OPEN', () => {
  it('rejects every request during circuitOpenWindow', () => {
    const s = openedAt1000();
    for (const t of [1_000, 5_000, 10_999]) {
      const step = request(s, t);
      assert.equal(step.admitted, false, `t=${t}`);
      assert.equal(step.state, s);
    }
  });

  it('keeps the snapshot that tripped it, and ignores late results', () => {
    const s = openedAt1000();
    assert.ok(s.name === 'open');
    assert.deepEqual(s.tripped, { success: 0, failure: 10 });
    assert.equal(reduceBreaker(s, 'success', 2_000, config).state, s);
    assert.equal(reduceBreaker(s, 'failure', 2_000, config).state, s);
  });

  it('turns half-open lazily: only a request after the window does it, and is the trial', () => {
    const s = openedAt1000();
    // No request, no change, however late it is: there is no timer.
    assert.equal(s.name, 'open');
    const step = request(s, 25_000);
    assert.equal(step.admitted, true);
    assert.equal(step.state.name, 'half-open');
    assert.equal(step.state.since, 25_000);
    const exact = request(s, 11_000);
    assert.equal(exact.admitted, true, 'at since + circuitOpenWindow exactly');
  });
});

describe('breaker reducer: HALF_OPEN', () => {
  const halfOpen = () => request(openedAt1000(), 11_000).state;

  it('rejects other requests while the trial is out', () => {
    const s = halfOpen();
    for (const t of [11_000, 12_000, 13_999]) assert.equal(request(s, t).admitted, false, `t=${t}`);
  });

  it('closes on trial success, with a fresh, empty window', () => {
    const s = reduceBreaker(halfOpen(), 'success', 12_000, config).state;
    assert.equal(s.name, 'closed');
    assert.ok(s.name === 'closed');
    assert.equal(s.since, 12_000);
    assert.equal(s.window.snapshot, EMPTY_COUNT);
    assert.equal(s.window.start, 12_000);
    // The old failures are gone: it takes a full minimum again to reopen.
    let again = feed(s, 'failure', 9, 12_000);
    again = feed(again, 'failure', 1, 13_000);
    assert.equal(again.name, 'closed');
  });

  it('reopens on trial failure, for a whole new window', () => {
    const s = reduceBreaker(halfOpen(), 'failure', 12_500, config).state;
    assert.equal(s.name, 'open');
    assert.equal(s.since, 12_500);
    assert.equal(request(s, 22_499).admitted, false);
    assert.equal(request(s, 22_500).admitted, true);
  });

  it('admits another trial when the first reports nothing within trialRequestInterval', () => {
    const s = halfOpen();
    assert.equal(request(s, 13_999).admitted, false);
    const step = request(s, 14_000);
    assert.equal(step.admitted, true);
    assert.equal(step.state.name, 'half-open');
    assert.equal(step.state.since, 11_000, 'still the same half-open period');
    assert.equal(request(step.state, 16_999).admitted, false, 'one trial per interval');
    assert.equal(request(step.state, 17_000).admitted, true);
  });
});

describe('breaker reducer: edges', () => {
  it('with minimumRequestThreshold 0 and threshold 0, one failing bucket opens it', () => {
    const c = { ...config, minimumRequestThreshold: 0, failureRateThreshold: 0 };
    let s = feed(closedBreaker(0), 'failure', 1, 0, c);
    s = feed(s, 'failure', 1, 1_000, c);
    assert.equal(s.name, 'open');
  });

  it('with threshold 1 it never opens', () => {
    const c = { ...config, failureRateThreshold: 1 };
    let s = feed(closedBreaker(0), 'failure', 50, 0, c);
    s = feed(s, 'failure', 1, 1_000, c);
    assert.equal(s.name, 'closed');
  });

  it('with circuitOpenWindow 0 the next request is a trial at once', () => {
    const c = { ...config, circuitOpenWindow: 0 };
    const s = feed(feed(closedBreaker(0), 'failure', 10, 0, c), 'failure', 1, 1_000, c);
    assert.equal(s.name, 'open');
    assert.equal(reduceBreaker(s, 'request', 1_000, c).admitted, true);
  });
});
