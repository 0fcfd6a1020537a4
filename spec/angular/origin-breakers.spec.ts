import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { DEFAULT_MAX_ORIGINS, OriginBreakers } from '../../lib/angular/origin-breakers.js';
import { isXhttpError } from '../../lib/errors.js';

test('one breaker per origin, made on first use and kept', () => {
  const breakers = new OriginBreakers();
  const a = breakers.get('https://a.test');
  assert.equal(breakers.get('https://a.test'), a);
  assert.notEqual(breakers.get('https://b.test'), a);
  assert.equal(breakers.peek('https://c.test'), undefined, 'peek makes none');
  assert.equal(breakers.size, 2);
});

test(`bounded: past maxOrigins (default ${DEFAULT_MAX_ORIGINS}) the least recently used breaker goes`, () => {
  const breakers = new OriginBreakers(undefined, { maxOrigins: 3 });
  const a = breakers.get('a');
  breakers.get('b');
  breakers.get('c');
  breakers.get('a'); // a is now the most recent: b goes first
  breakers.get('d');
  assert.deepEqual(breakers.origins(), ['c', 'a', 'd']);
  assert.equal(breakers.peek('a'), a);
  for (let i = 0; i < 1_000; i++) breakers.get(`o${i}`);
  assert.equal(breakers.size, 3);
});

test('the breakers run on the given scheduler: an open one turns half-open after its window', () => {
  const scheduler = new TestScheduler(assert.deepEqual);
  const breakers = new OriginBreakers(
    { minimumRequestThreshold: 1, counterUpdateInterval: 1, circuitOpenWindow: 1_000 },
    { scheduler },
  );
  scheduler.run(() => {
    const b = breakers.get('a');
    scheduler.schedule(() => {
      assert.ok(b.tryAcquire());
      b.onFailure();
    }, 0);
    scheduler.schedule(() => {
      assert.ok(b.tryAcquire());
      b.onFailure();
    }, 5);
    scheduler.schedule(() => assert.equal(b.tryAcquire(), false, 'open'), 10);
    scheduler.schedule(() => assert.equal(b.tryAcquire(), true, 'a trial after the window'), 1_010);
  });
});

test('bad settings throw INVALID_ARGUMENT naming the field, at construction', () => {
  const cases: Array<[() => unknown, string]> = [
    [() => new OriginBreakers(undefined, { maxOrigins: 0 }), 'breakers.maxOrigins'],
    [() => new OriginBreakers(undefined, { maxOrigins: 1.5 }), 'breakers.maxOrigins'],
    [() => new OriginBreakers({ circuitOpenWindow: -1 }), 'circuitBreaker.circuitOpenWindow'],
    [() => new OriginBreakers({ key: 'x' } as never), 'circuitBreaker.key'],
  ];
  for (const [make, field] of cases)
    assert.throws(
      make,
      (e: unknown) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === field,
      field,
    );
});
