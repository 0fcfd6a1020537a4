import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  TimeoutError,
  XhttpError,
  attemptTimeout,
  deadline,
  retryBackoff,
} from '../../lib/operators/index.js';

const scheduler = () => new TestScheduler((a, b) => assert.deepEqual(a, b));

test('attemptTimeout: no first value within ms → TimeoutError phase attempt, source unsubscribed', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, expectSubscriptions }) => {
    const slow = cold('------a|');
    expectObservable(slow.pipe(attemptTimeout(3, ts))).toBe(
      '---#',
      undefined,
      new TimeoutError('attempt', 3),
    );
    expectSubscriptions(slow.subscriptions).toBe('^--!');
    const fast = cold('-a------|');
    expectObservable(fast.pipe(attemptTimeout(3, ts))).toBe('-a------|', { a: 'a' });
  });
});

test('deadline: not complete within ms → TimeoutError phase call, even mid back-off', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, expectSubscriptions }) => {
    const hung = cold('-a------|');
    expectObservable(hung.pipe(deadline(5, ts))).toBe('-a---#', { a: 'a' }, new TimeoutError('call', 5));
    expectSubscriptions(hung.subscriptions).toBe('^----!');
    const failing = cold('-#', undefined, new TypeError('down'));
    const chain = failing.pipe(
      retryBackoff({ maxAttempts: 5, backoff: { jitter: 'none', initialDelay: 100 }, scheduler: ts }),
      deadline(50, ts),
    );
    expectObservable(chain).toBe('50ms #', undefined, new TimeoutError('call', 50));
  });
});

test('attempt timeouts are retried, each attempt with its own clock; the call deadline is not', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    let n = 0;
    const answers = [cold<string>('-'), cold<string>('-'), cold('-a|', { a: 'ok' })];
    const out = defer(() => answers[Math.min(n++, 2)]!).pipe(
      attemptTimeout(5, ts),
      retryBackoff({ maxAttempts: 3, backoff: { jitter: 'none', initialDelay: 10 }, scheduler: ts }),
      deadline(100, ts),
    );
    // 5: timeout, 15: retry, 20: timeout, 40: retry, 41: ok, 42: complete.
    expectObservable(out).toBe('41ms a|', { a: 'ok' });
  });
});

test('bad durations fail with INVALID_ARGUMENT naming the field', () => {
  assert.throws(
    () => attemptTimeout(0),
    (e: XhttpError) => e.field === 'timeoutPerAttempt',
  );
  assert.throws(
    () => deadline(-1),
    (e: XhttpError) => e.field === 'timeout',
  );
  assert.throws(
    () => deadline(Number.NaN),
    (e: XhttpError) => e.code === 'INVALID_ARGUMENT',
  );
});
