import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from 'rxjs';
import { XhttpError } from '../../lib/errors.js';
import type { CallEvent } from '../../lib/events/events.js';
import type { Clock } from '../../lib/internal/clock.js';
import {
  DEFAULT_MIN_RETRIES_PER_SECOND,
  DEFAULT_RETRY_BUDGET_RATIO,
  DEFAULT_RETRY_BUDGET_TTL,
  initialRetryBudgetState,
  reduceRetryBudget,
  resolveRetryBudget,
  RetryBudget,
  retryBudgetBalance,
  type ResolvedRetryBudget,
  type RetryBudgetState,
} from '../../lib/resilience/retry-budget.js';

const DEFAULTS: ResolvedRetryBudget = { ratio: 0.2, minRetriesPerSecond: 10, ttl: 10_000 };

function invalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof XhttpError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.field, field, `expected field ${field}, got ${e.field} (${e.message})`);
    return true;
  });
}

/** `count` calls spread evenly over [from, from + spanMs). */
function deposits(s: RetryBudgetState, count: number, from: number, spanMs: number): RetryBudgetState {
  for (let i = 0; i < count; i++)
    s = reduceRetryBudget(s, 'deposit', from + Math.floor((i * spanMs) / count));
  return s;
}

/** Withdraws at `now` until refused (or `max`); returns the state and how many were granted. */
function drain(s: RetryBudgetState, now: number, max = 1_000_000): [RetryBudgetState, number] {
  let granted = 0;
  while (granted < max) {
    s = reduceRetryBudget(s, 'withdraw', now);
    if (!s.granted) break;
    granted++;
  }
  return [s, granted];
}

function manualClock(start = 0): Clock & { t: number } {
  const clock = {
    t: start,
    now: () => clock.t,
    setTimer: () => () => {},
  };
  return clock;
}

test("defaults are Finagle's: ratio 0.2, 10 retries per second, ttl 10 s", () => {
  assert.equal(DEFAULT_RETRY_BUDGET_RATIO, 0.2);
  assert.equal(DEFAULT_MIN_RETRIES_PER_SECOND, 10);
  assert.equal(DEFAULT_RETRY_BUDGET_TTL, 10_000);
  assert.deepEqual(resolveRetryBudget(undefined), DEFAULTS);
  assert.deepEqual(resolveRetryBudget({}), DEFAULTS);
  assert.deepEqual(resolveRetryBudget({ ratio: 0, minRetriesPerSecond: 0, ttl: 60_000 }), {
    ratio: 0,
    minRetriesPerSecond: 0,
    ttl: 60_000,
  });
  assert.deepEqual(resolveRetryBudget({ ratio: 1, minRetriesPerSecond: 2.5 }), {
    ratio: 1,
    minRetriesPerSecond: 2.5,
    ttl: 10_000,
  });
  assert.equal(resolveRetryBudget(false), undefined, 'false turns the budget off');
});

test('every invalid budget option throws INVALID_ARGUMENT naming it', () => {
  for (const bad of [-0.1, 1.5, Number.NaN, Infinity, '0.2', null])
    invalid(() => resolveRetryBudget({ ratio: bad } as never), 'retryBudget.ratio');
  for (const bad of [-1, Number.NaN, Infinity, '10', null])
    invalid(
      () => resolveRetryBudget({ minRetriesPerSecond: bad } as never),
      'retryBudget.minRetriesPerSecond',
    );
  for (const bad of [0, 999, 60_001, -1, Number.NaN, Infinity, '10000', null])
    invalid(() => resolveRetryBudget({ ttl: bad } as never), 'retryBudget.ttl');
  invalid(() => resolveRetryBudget({ percentCanRetry: 0.2 } as never), 'retryBudget.percentCanRetry');
  invalid(() => resolveRetryBudget(JSON.parse('{"__proto__": {"ratio": 1}}')), 'retryBudget.__proto__');
  invalid(() => resolveRetryBudget({ constructor: 1 } as never), 'retryBudget.constructor');
  for (const bad of [true, null, 0.2, 'on', []])
    invalid(() => resolveRetryBudget(bad as never), 'retryBudget');
  invalid(() => resolveRetryBudget({ ratio: 2 }, 'config.retryBudget'), 'config.retryBudget.ratio');
});

test('a polluted Object.prototype cannot widen the budget', () => {
  const proto = Object.prototype as Record<string, unknown>;
  proto.ratio = 1;
  try {
    assert.equal(resolveRetryBudget({})?.ratio, 0.2);
  } finally {
    delete proto.ratio;
  }
});

test('1 000 calls in 1 s allow 200 retries plus the reserve of 100, then refuse', () => {
  let s = deposits(initialRetryBudgetState(DEFAULTS, 0), 1000, 0, 1000);
  assert.equal(retryBudgetBalance(s, 1000), 300);
  const [after, granted] = drain(s, 1000);
  assert.equal(granted, 300);
  s = reduceRetryBudget(after, 'withdraw', 1001);
  assert.equal(s.granted, false);
  assert.equal(retryBudgetBalance(s, 1001), 0);
});

test('a quiet client may still retry 10 times a second, from the reserve', () => {
  const s0 = initialRetryBudgetState(DEFAULTS, 0);
  const [s1, granted] = drain(s0, 0);
  assert.equal(granted, 100, 'minRetriesPerSecond · ttl');
  // Withdrawals expire like deposits: the reserve is back one ttl later, not before.
  assert.equal(reduceRetryBudget(s1, 'withdraw', 9_999).granted, false);
  assert.equal(drain(s1, 10_000)[1], 100);
});

test('deposits expire after the ttl', () => {
  // 1 000 calls over two seconds: half in the slice [0, 1 s), half in [1 s, 2 s).
  const s = deposits(initialRetryBudgetState(DEFAULTS, 0), 1000, 0, 2000);
  assert.equal(retryBudgetBalance(s, 5_000), 300);
  assert.equal(retryBudgetBalance(s, 9_999), 300);
  assert.equal(retryBudgetBalance(s, 10_000), 200, 'the calls of [0, 1 s) are gone');
  assert.equal(retryBudgetBalance(s, 10_999), 200);
  assert.equal(retryBudgetBalance(s, 11_000), 100, 'only the reserve is left');
  assert.equal(retryBudgetBalance(s, 1_000_000), 100, 'a long gap clears everything at once');
});

test('200 concurrent calls that each want 4 retries get at most 20 % plus the reserve', () => {
  let s = deposits(initialRetryBudgetState(DEFAULTS, 0), 200, 0, 10);
  let granted = 0;
  for (let retry = 0; retry < 4; retry++) {
    for (let call = 0; call < 200; call++) {
      s = reduceRetryBudget(s, 'withdraw', 50 + retry * 100);
      if (s.granted) granted++;
    }
  }
  assert.equal(granted, 200 * 0.2 + 100);
  // Attempts sent: 200 first attempts + 140 retries ≤ calls × 1.2 + reserve.
  assert.ok(200 + granted <= 200 * 1.2 + 100);
});

test('steady load: about 20 % extra plus 10 retries a second', () => {
  let s = initialRetryBudgetState(DEFAULTS, 0);
  const grantedPerSecond: number[] = [];
  // 100 calls a second for a minute, every call failing and asking for a retry.
  for (let sec = 0; sec < 60; sec++) {
    let granted = 0;
    for (let i = 0; i < 100; i++) {
      const t = sec * 1000 + i * 10;
      s = reduceRetryBudget(s, 'deposit', t);
      s = reduceRetryBudget(s, 'withdraw', t + 5);
      if (s.granted) granted++;
    }
    grantedPerSecond.push(granted);
  }
  const steady = grantedPerSecond.slice(20);
  const rate = steady.reduce((a, b) => a + b, 0) / steady.length;
  assert.ok(Math.abs(rate - 30) <= 1.5, `≈ 20 + 10 retries/s, got ${rate}`);
});

test('ratio 0 leaves only the reserve; ratio 0 with no minimum refuses every retry', () => {
  const onlyReserve = deposits(initialRetryBudgetState({ ...DEFAULTS, ratio: 0 }, 0), 10_000, 0, 1000);
  assert.equal(drain(onlyReserve, 1000)[1], 100);
  const none = deposits(
    initialRetryBudgetState({ ...DEFAULTS, ratio: 0, minRetriesPerSecond: 0 }, 0),
    10_000,
    0,
    1000,
  );
  assert.equal(drain(none, 1000)[1], 0);
  const full = deposits(
    initialRetryBudgetState({ ...DEFAULTS, ratio: 1, minRetriesPerSecond: 0 }, 0),
    50,
    0,
    1000,
  );
  assert.equal(drain(full, 1000)[1], 50, 'ratio 1: one retry per call');
  const third = deposits(
    initialRetryBudgetState({ ...DEFAULTS, ratio: 0.3, minRetriesPerSecond: 0 }, 0),
    1000,
    0,
    1000,
  );
  assert.equal(drain(third, 1000)[1], 300, 'integer units do not drift');
  const tiny = deposits(
    initialRetryBudgetState({ ...DEFAULTS, ratio: Number.MIN_VALUE, minRetriesPerSecond: 1 }, 0),
    1000,
    0,
    1000,
  );
  assert.equal(drain(tiny, 1000)[1], 10, 'a denormal ratio is nearly nothing, not NaN');
});

test('the reducer is pure: it never mutates the state it is given', () => {
  const s0 = initialRetryBudgetState(DEFAULTS, 0);
  const frozen = Object.freeze({ ...s0, slots: Object.freeze([...s0.slots]) });
  const s1 = reduceRetryBudget(frozen, 'deposit', 12_345);
  const s2 = reduceRetryBudget(s1, 'withdraw', 12_346);
  assert.deepEqual(frozen.slots, s0.slots);
  assert.notEqual(s1, frozen);
  assert.equal(s2.granted, true);
  // Time running backwards counts as now; garbage time is ignored.
  const back = reduceRetryBudget(s2, 'deposit', 0);
  assert.equal(back.slice, s2.slice);
  assert.equal(reduceRetryBudget(back, 'deposit', Number.NaN).slice, s2.slice);
});

test('RetryBudget deposits on call-start events and withdraws on the clock', () => {
  const clock = manualClock(50_000);
  const budget = new RetryBudget({ ...DEFAULTS, minRetriesPerSecond: 0 }, clock);
  const events$ = new Subject<CallEvent>();
  const sub = budget.attach(events$);
  const common = { group: 'g', method: 'GET', path: '/' };
  for (let i = 0; i < 10; i++) events$.next({ type: 'call-start', time: 50_000 + i, callId: i, ...common });
  events$.next({
    type: 'call-end',
    time: 50_100,
    callId: 0,
    group: 'g',
    method: 'GET',
    durationMs: 1,
    attempts: 1,
    outcome: 'ok',
  });
  assert.equal(budget.balance, 2);
  assert.equal(budget.tryWithdraw(), true);
  assert.equal(budget.tryWithdraw(), true);
  assert.equal(budget.tryWithdraw(), false);
  sub.unsubscribe();
  for (let i = 0; i < 10; i++) events$.next({ type: 'call-start', time: 50_200, callId: 10 + i, ...common });
  assert.equal(budget.balance, 0, 'detached: no more deposits');
  budget.deposit();
  budget.deposit();
  budget.deposit();
  budget.deposit();
  budget.deposit();
  assert.equal(budget.tryWithdraw(), true);
  clock.t += DEFAULT_RETRY_BUDGET_TTL;
  assert.equal(budget.balance, 0, 'expired with the ttl');
  assert.equal(budget.tryWithdraw(), false);
});
