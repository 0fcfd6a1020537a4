import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { hedge, XhttpError } from '../../lib/operators/index.js';

const scheduler = () => new TestScheduler((a, b) => assert.deepEqual(a, b));

/** A source whose n-th subscription (0-based) is `sources[n]`, recording each subscription's index. */
function bySubscription<T>(sources: Observable<T>[]): Observable<T> {
  let n = 0;
  return defer(() => sources[n++] ?? sources.at(-1)!);
}

test('no value after the delay: the source is subscribed again; the first value wins, the other is unsubscribed', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, expectSubscriptions }) => {
    const slow = cold('100ms (a|)');
    const fast = cold('5ms (b|)');
    const out = bySubscription([slow, fast]).pipe(hedge({ delay: 10, scheduler: ts }));
    expectObservable(out).toBe('15ms (b|)');
    expectSubscriptions(slow.subscriptions).toBe('^ 14ms !');
    expectSubscriptions(fast.subscriptions).toBe('10ms ^ 4ms !');
  });
});

test('an answer within the delay: no hedge', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, expectSubscriptions }) => {
    const first = cold('5ms (a|)');
    const second = cold('1ms (b|)');
    expectObservable(bySubscription([first, second]).pipe(hedge({ delay: 10, scheduler: ts }))).toBe(
      '5ms (a|)',
    );
    expectSubscriptions(second.subscriptions).toBe([]);
  });
});

test('maxAttempts 3: a second hedge one delay after the first', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const out = bySubscription([cold('100ms (a|)'), cold('100ms (b|)'), cold('1ms (c|)')]).pipe(
      hedge({ delay: 10, maxAttempts: 3, scheduler: ts }),
    );
    expectObservable(out).toBe('21ms (c|)');
  });
});

test('a failure value while another attempt runs is dropped; the other wins', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const ok = { status: 200 };
    const bad = { status: 503 };
    const out = bySubscription([cold('30ms (a|)', { a: ok }), cold('5ms (b|)', { b: bad })]).pipe(
      hedge({ delay: 10, scheduler: ts }),
    );
    expectObservable(out).toBe('30ms (a|)', { a: ok });
  });
});

test("the last attempt's failure or error is the result; an error of one lets the other run on", () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const bad = { status: 503 };
    const failing = bySubscription([cold('30ms (a|)', { a: bad }), cold('5ms (b|)', { b: bad })]);
    expectObservable(failing.pipe(hedge({ delay: 10, scheduler: ts }))).toBe('30ms (a|)', { a: bad });
    const err = new XhttpError('RESET', 'reset');
    const erroring = bySubscription([cold('30ms (a|)'), cold('5ms #', undefined, err)]);
    expectObservable(erroring.pipe(hedge({ delay: 10, scheduler: ts }))).toBe('30ms (a|)');
    const both = bySubscription([cold('30ms #', undefined, err), cold('5ms #', undefined, err)]);
    expectObservable(both.pipe(hedge({ delay: 10, scheduler: ts }))).toBe('30ms #', undefined, err);
  });
});

test('allow() says no: the hedge is skipped and the first attempt runs on', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    let asked = 0;
    const out = bySubscription([cold('50ms (a|)'), cold('1ms (b|)')]).pipe(
      hedge({ delay: 10, scheduler: ts, allow: () => (asked++, false) }),
    );
    expectObservable(out).toBe('50ms (a|)');
    ts.flush();
    assert.equal(asked, 1);
  });
});

test('unsubscribing unsubscribes every attempt', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, expectSubscriptions }) => {
    const a = cold('100ms (a|)');
    const b = cold('100ms (b|)');
    expectObservable(bySubscription([a, b]).pipe(hedge({ delay: 10, scheduler: ts })), '^ 30ms !').toBe('');
    expectSubscriptions(a.subscriptions).toBe('^ 30ms !');
    expectSubscriptions(b.subscriptions).toBe('10ms ^ 20ms !');
  });
});

test('bad options are INVALID_ARGUMENT naming the field', () => {
  assert.throws(
    () => hedge({ delay: -1 }),
    (e: XhttpError) => e.code === 'INVALID_ARGUMENT' && e.field === 'hedge.delay',
  );
  assert.throws(
    () => hedge({ delay: 1, maxAttempts: 9 }),
    (e: XhttpError) => e.code === 'INVALID_ARGUMENT' && e.field === 'hedge.maxAttempts',
  );
  assert.throws(
    () => hedge({ delay: 1, oops: 1 } as never),
    (e: XhttpError) => e.code === 'INVALID_ARGUMENT' && e.field === 'hedge.oops',
  );
});
