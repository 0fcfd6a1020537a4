import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { Client, AddressGroup, registerResolver } from '../../lib/index.js';
import { retryAsDecided, RetryDecision } from '../../lib/resilience/retry.js';
import { clockFromScheduler } from '../../lib/internal/clock.js';

const scheduler = () => new TestScheduler((a, b) => assert.deepEqual(a, b));

test('a call to a group that never resolves fails with NO_ADDRESS at the deadline (virtual time)', () => {
  registerResolver({ scheme: 'never', resolve: () => NEVER });
  const ts = scheduler();
  ts.run(({ expectObservable }) => {
    const client = new Client({ scheduler: ts, requestTimeout: 30_000 });
    const group = new AddressGroup('never://svc', { scheduler: ts });
    const call = new Observable<string>((s) =>
      client.get$(group, '/').subscribe({ error: (e) => (s.next(e.code), s.complete()) }),
    );
    expectObservable(call).toBe('30000ms (a|)', { a: 'NO_ADDRESS' });
  });
});

test('a per-call timeout overrides the client deadline (virtual time)', () => {
  registerResolver({ scheme: 'never', resolve: () => NEVER });
  const ts = scheduler();
  ts.run(({ expectObservable }) => {
    const client = new Client({ scheduler: ts });
    const group = new AddressGroup('never://svc', { scheduler: ts });
    const call = new Observable<string>((s) =>
      client.get$(group, '/', { timeout: 250 }).subscribe({ error: (e) => (s.next(e.code), s.complete()) }),
    );
    expectObservable(call).toBe('250ms (a|)', { a: 'NO_ADDRESS' });
  });
});

test('retryAsDecided waits the decided delay on the injected clock, then re-subscribes', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    let n = 0;
    const source = new Observable<string>((s) => {
      n++;
      if (n < 3) s.error(new RetryDecision(n * 100, 'backoff'));
      else {
        s.next('ok');
        s.complete();
      }
    });
    expectObservable(source.pipe(retryAsDecided(clockFromScheduler(ts)))).toBe('300ms (a|)', { a: 'ok' });
    void cold;
  });
});

test('retryAsDecided passes other errors through at once', () => {
  const ts = scheduler();
  ts.run(({ expectObservable }) => {
    const err = new Error('x');
    const source = new Observable<string>((s) => s.error(err));
    expectObservable(source.pipe(retryAsDecided(clockFromScheduler(ts)))).toBe('#', undefined, err);
  });
});
