import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { defer, of, throwError } from 'rxjs';
import { CircuitBreaker, FailFastError, XhttpError, circuitBreaker } from '../../lib/operators/index.js';

const CONFIG = {
  minimumRequestThreshold: 2,
  counterUpdateInterval: 10,
  counterSlidingWindow: 1_000,
  circuitOpenWindow: 50,
  trialRequestInterval: 20,
};

const scheduler = () => new TestScheduler((a, b) => assert.deepEqual(a, b));

test('values with status ≥ 500 open the breaker; then it fails fast without subscribing upstream', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, flush }) => {
    const breaker = new CircuitBreaker(CONFIG, ts);
    let subscribed = 0;
    const call = () =>
      defer(() => (subscribed++, cold('-a|', { a: { status: 503 } }))).pipe(circuitBreaker(breaker));
    // Failures at 1, 11 and 21 ms: the third rolls the 10 ms bucket over with 2 of 2 failed.
    expectObservable(call()).toBe('-a|', { a: { status: 503 } });
    ts.schedule(() => call().subscribe(), 10);
    ts.schedule(() => call().subscribe(), 20);
    flush();
    assert.equal(breaker.state, 'open');
    const before = subscribed;
    let error: unknown;
    call().subscribe({ error: (e: unknown) => (error = e) });
    assert.ok(error instanceof FailFastError);
    assert.equal((error as XhttpError).code, 'FAIL_FAST');
    assert.equal(subscribed, before, 'upstream not subscribed');
  });
});

test('marbles: refused while open, one trial after the open window, closed again by its success', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const breaker = new CircuitBreaker(CONFIG, ts);
    const bad = cold('-a|', { a: { status: 500 } });
    const good = cold('-a|', { a: { status: 200 } });
    // Opened by failures ending at 1, 11, 21 ms (see above); open until 71 ms.
    for (const at of [0, 10, 20]) ts.schedule(() => bad.pipe(circuitBreaker(breaker)).subscribe(), at);
    const refused = new FailFastError('circuit breaker open');
    expectObservable(good.pipe(circuitBreaker(breaker)), '^').toBe('-a|', { a: { status: 200 } });
    expectObservable(good.pipe(circuitBreaker(breaker)), '30ms ^').toBe('30ms #', undefined, refused);
    // At 80 ms the open window has passed: a trial goes through; a second one at 80 is refused.
    expectObservable(good.pipe(circuitBreaker(breaker)), '80ms ^').toBe('80ms -a|', { a: { status: 200 } });
    expectObservable(good.pipe(circuitBreaker(breaker)), '80ms ^').toBe('80ms #', undefined, refused);
    // The trial's success closed it: all admitted again.
    expectObservable(good.pipe(circuitBreaker(breaker)), '90ms ^').toBe('90ms -a|', { a: { status: 200 } });
  });
});

test('an error is a failure unless classified otherwise; ABORTED counts as neither; isFailure classifies values', () => {
  const spy = new CircuitBreaker(CONFIG);
  const seen: string[] = [];
  const orig = { s: spy.onSuccess.bind(spy), f: spy.onFailure.bind(spy), r: spy.release.bind(spy) };
  spy.onSuccess = () => (seen.push('success'), orig.s());
  spy.onFailure = () => (seen.push('failure'), orig.f());
  spy.release = () => (seen.push('release'), orig.r());
  const boom = throwError(() => new Error('boom'));
  boom.pipe(circuitBreaker(spy)).subscribe({ error: () => {} });
  boom.pipe(circuitBreaker(spy, { isErrorFailure: () => false })).subscribe({ error: () => {} });
  throwError(() => new XhttpError('ABORTED', 'gone'))
    .pipe(circuitBreaker(spy))
    .subscribe({ error: () => {} });
  of({ status: 500 }).pipe(circuitBreaker(spy)).subscribe();
  of({ status: 200 }, { status: 500 }).pipe(circuitBreaker(spy)).subscribe();
  of('x')
    .pipe(circuitBreaker(spy, { isFailure: (v) => v === 'x' }))
    .subscribe();
  of().pipe(circuitBreaker(spy)).subscribe();
  // An error carrying a status (Angular's HttpErrorResponse) is the host's answer: 404 a success, 503 a failure.
  const httpError = (status: number) =>
    throwError(() => Object.assign(new Error(`Http failure ${status}`), { status }));
  httpError(404)
    .pipe(circuitBreaker(spy))
    .subscribe({ error: () => {} });
  httpError(503)
    .pipe(circuitBreaker(spy))
    .subscribe({ error: () => {} });
  assert.deepEqual(seen, [
    'failure',
    'success',
    'release',
    'failure',
    'success',
    'failure',
    'success',
    'success',
    'failure',
  ]);
});

test('unsubscribing before the outcome counts as neither: the permit is released', () => {
  const ts = scheduler();
  ts.run(({ cold, flush }) => {
    const breaker = new CircuitBreaker({ ...CONFIG, minimumRequestThreshold: 0 }, ts);
    const outcomes: string[] = [];
    breaker.snapshot$.subscribe((s) => outcomes.push(`${s.state}:${s.total}`));
    const sub = cold('----a|', { a: { status: 500 } })
      .pipe(circuitBreaker(breaker))
      .subscribe();
    ts.schedule(() => sub.unsubscribe(), 2);
    flush();
    assert.deepEqual(breaker.snapshot.total, 0);
    assert.equal(breaker.state, 'closed');
  });
});

test('a throwing isFailure errors the call with INVALID_ARGUMENT naming it', () => {
  const breaker = new CircuitBreaker(CONFIG);
  let error: unknown;
  of(1)
    .pipe(
      circuitBreaker(breaker, {
        isFailure: () => {
          throw new Error('bug');
        },
      }),
    )
    .subscribe({ error: (e: unknown) => (error = e) });
  assert.ok(error instanceof XhttpError);
  assert.equal(error.field, 'circuitBreaker.isFailure');
});

test('status 0 (Angular network failure, an opaque fetch) is no answer: a breaker failure, retried by default', async () => {
  const { isFailureError, defaultRetryOutcome } = await import('../../lib/operators/index.js');
  const networkFailure = { status: 0, statusText: 'Unknown Error' };
  assert.equal(isFailureError(networkFailure), true);
  assert.equal(defaultRetryOutcome({ attempt: 1, error: networkFailure }), true);
  // A real 4xx is still the host answering.
  assert.equal(isFailureError({ status: 404 }), false);
  assert.equal(defaultRetryOutcome({ attempt: 1, error: { status: 404 } }), false);
});
