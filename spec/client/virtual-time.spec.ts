import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map, NEVER, Observable } from 'rxjs';
import type { Dispatcher } from 'undici';
import { TestScheduler } from 'rxjs/testing';
import { Client, AddressGroup, registerResolver } from '../../lib/index.js';
import { LoadStats } from '../../lib/balancer/load-stats.js';
import { call$, SharedPickContext } from '../../lib/client/call.js';
import { buildCallSpec } from '../../lib/client/request.js';
import { LiveCalls } from '../../lib/client/live-calls.js';
import type { Runtime } from '../../lib/client/runtime.js';
import { EventBus } from '../../lib/events/bus.js';
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

/** A dispatcher that answers at once with the next status of `statuses` (no I/O: virtual time only). */
function scriptedDispatcher(statuses: number[], seen: number[]): Dispatcher {
  return {
    dispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
      const status = statuses.shift() ?? 200;
      seen.push(status);
      handler.onConnect!(() => undefined);
      handler.onHeaders!(status, [], () => undefined, String(status));
      handler.onComplete!([]);
      return true;
    },
  } as unknown as Dispatcher;
}

function virtualRuntime(ts: TestScheduler, dispatcher: Dispatcher): Runtime {
  const clock = clockFromScheduler(ts);
  const loadStats = new LoadStats(clock);
  let ids = 0;
  return {
    clock,
    bus: new EventBus(),
    random: () => 0.5,
    breakers: undefined,
    loadStats,
    pickContext: new SharedPickContext(() => 0.5, loadStats),
    budget: undefined,
    timeouts: { connect: 1_000, headers: 1_000, body: 1_000, attempt: 0 },
    dispatcher: () => dispatcher,
    attemptHeaders: undefined,
    nextCallId: () => ++ids,
    calls: new LiveCalls(),
    bulkheads: new Map(),
  };
}

test('a call waits each decided back-off on the injected clock before the next attempt (virtual time)', () => {
  const ts = scheduler();
  ts.run(({ expectObservable }) => {
    const seen: number[] = [];
    const rt = virtualRuntime(ts, scriptedDispatcher([503, 503, 200], seen));
    const group = new AddressGroup('static://127.0.0.1:1,127.0.0.2:1', { scheduler: ts });
    const spec = buildCallSpec(
      { group, path: '/' },
      group,
      '/',
      { retry: { maxAttempts: 3, backoff: { initialDelay: 100, multiplier: 2, jitter: 'none' } } },
      { requestTimeout: 30_000, maxResponseBytes: 1_000, headers: {}, redirect: 'manual' },
    );
    const statuses = call$(rt, spec).pipe(map((r) => `${r.status}/${r.attempts}`));
    // Back-off without jitter: 100 ms after the first 503, 200 ms after the second.
    expectObservable(statuses).toBe('300ms (a|)', { a: '200/3' });
    ts.flush();
    assert.deepEqual(seen, [503, 503, 200]);
  });
});

test('a retry whose back-off would cross the deadline is not scheduled: the call ends with the last outcome', () => {
  const ts = scheduler();
  ts.run(({ expectObservable }) => {
    const seen: number[] = [];
    const rt = virtualRuntime(ts, scriptedDispatcher([503, 503, 200], seen));
    const group = new AddressGroup('static://127.0.0.1:1', { scheduler: ts });
    const spec = buildCallSpec(
      { group, path: '/' },
      group,
      '/',
      {
        timeout: 250,
        retry: { maxAttempts: 3, backoff: { initialDelay: 100, multiplier: 2, jitter: 'none' } },
      },
      { requestTimeout: 30_000, maxResponseBytes: 1_000, headers: {}, redirect: 'manual' },
    );
    // 503 at 0, retry at 100, 503 again: the next back-off (200 ms) would end past 250 ms.
    expectObservable(call$(rt, spec).pipe(map((r) => r.status))).toBe('100ms (a|)', { a: 503 });
  });
});
