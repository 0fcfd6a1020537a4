import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import {
  CircuitBreaker,
  type CircuitBreakerEvent,
  type CircuitBreakerSnapshot,
} from '../../lib/operators/index.js';
import { XhttpError } from '../../lib/errors.js';

// The standalone breaker on virtual time: `ts.frame` is the clock the breaker reads.
const CONFIG = {
  minimumRequestThreshold: 2,
  counterUpdateInterval: 100,
  counterSlidingWindow: 1_000,
  circuitOpenWindow: 500,
  trialRequestInterval: 100,
};

function setup() {
  const ts = new TestScheduler((a, b) => assert.deepEqual(a, b));
  const breaker = new CircuitBreaker(CONFIG, ts);
  const snapshots: CircuitBreakerSnapshot[] = [];
  const events: CircuitBreakerEvent[] = [];
  breaker.snapshot$.subscribe((s) => snapshots.push(s));
  breaker.events$.subscribe((e) => events.push(e));
  /** Three failures 100 ms apart: the third rolls the window over with 2 failures of 2 → open. */
  const trip = () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(breaker.tryAcquire(), true);
      breaker.onFailure();
      ts.frame += 100;
    }
  };
  return { ts, breaker, snapshots, events, trip };
}

test('a breaker opens on failures, refuses while open, admits one trial after the open window', () => {
  const { ts, breaker, events, trip } = setup();
  trip();
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.tryAcquire(), false);
  ts.frame += 500;
  assert.equal(breaker.tryAcquire(), true, 'the trial');
  assert.equal(breaker.state, 'half-open');
  assert.equal(breaker.tryAcquire(), false, 'one trial at a time');
  breaker.onSuccess();
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(
    events.map((e) => `${e.from}>${e.to}`),
    ['closed>open', 'open>half-open', 'half-open>closed'],
  );
});

test('forceOpen fails fast with no traffic; forceClose admits all; both show in snapshots and events', () => {
  const { breaker, snapshots, events } = setup();
  breaker.forceOpen();
  assert.equal(breaker.state, 'open');
  for (let i = 0; i < 5; i++) assert.equal(breaker.tryAcquire(), false);
  assert.deepEqual(
    { state: snapshots.at(-1)!.state, forced: snapshots.at(-1)!.forced },
    { state: 'open', forced: 'open' },
  );
  breaker.forceClose();
  for (let i = 0; i < 20; i++) {
    assert.equal(breaker.tryAcquire(), true);
    breaker.onFailure(); // not counted while forced: the breaker never opens
  }
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(
    { state: snapshots.at(-1)!.state, forced: snapshots.at(-1)!.forced, total: snapshots.at(-1)!.total },
    { state: 'closed', forced: 'closed', total: 0 },
  );
  assert.deepEqual(
    events.map((e) => [e.cause, e.from, e.to, e.forced]),
    [
      ['forceOpen', 'closed', 'open', 'open'],
      ['forceClose', 'open', 'closed', 'closed'],
    ],
  );
});

test('reset drops the override and any trips: a fresh closed window', () => {
  const { ts, breaker, snapshots, events, trip } = setup();
  trip();
  assert.equal(breaker.state, 'open');
  breaker.forceOpen();
  breaker.reset();
  const s = snapshots.at(-1)!;
  assert.deepEqual(s, {
    state: 'closed',
    failureRate: 0,
    total: 0,
    since: ts.frame,
    decision: { failureRate: 0, total: 0 },
  });
  assert.equal(breaker.forced, undefined);
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(events.at(-1)!.cause, 'reset');
  // A fresh window: it takes a whole new run of failures to open again, with the first open window.
  trip();
  assert.equal(breaker.state, 'open');
  ts.frame += 399; // trip() left the clock 100 ms after the opening failure
  assert.equal(breaker.tryAcquire(), false);
  ts.frame += 1;
  assert.equal(breaker.tryAcquire(), true, 'open for circuitOpenWindow, not a grown window');
});

test('release lets a half-open breaker admit its next trial at once', () => {
  const { ts, breaker, trip } = setup();
  trip();
  ts.frame += 500;
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), false);
  breaker.release();
  assert.equal(breaker.tryAcquire(), true);
});

test('snapshot$ gives the current snapshot at subscribe', () => {
  const { breaker } = setup();
  breaker.forceOpen();
  const seen: CircuitBreakerSnapshot[] = [];
  breaker.snapshot$.subscribe((s) => seen.push(s)).unsubscribe();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.forced, 'open');
});

test('bad settings fail with INVALID_ARGUMENT naming the field; key and isFailure are refused', () => {
  const field = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof XhttpError);
      return e.field;
    }
    return 'no error';
  };
  assert.equal(
    field(() => new CircuitBreaker({ failureRateThreshold: 2 })),
    'circuitBreaker.failureRateThreshold',
  );
  assert.equal(
    field(() => new CircuitBreaker({ key: () => 'x' } as never)),
    'circuitBreaker.key',
  );
  assert.equal(
    field(() => new CircuitBreaker({ isFailure: () => true } as never)),
    'circuitBreaker.isFailure',
  );
});
