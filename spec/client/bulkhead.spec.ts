import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { firstValueFrom, filter } from 'rxjs';
import { Bulkhead, resolveBulkhead } from '../../lib/client/bulkhead.js';
import type { CallEvent } from '../../lib/events/events.js';
import { AddressGroup, Client, XhttpError, type ClientHealth } from '../../lib/index.js';
import { startBackend, staticTarget, waitFor } from '../helpers/loopback.js';

/** A backend that holds every response until the spec releases it, oldest first. */
async function heldBackend() {
  const held: ServerResponse[] = [];
  const paths: string[] = [];
  const backend = await startBackend((req, res) => {
    paths.push(req.url ?? '');
    held.push(res);
  });
  return {
    backend,
    paths,
    held,
    release(): void {
      held.shift()?.end('ok');
    },
  };
}

const code = (e: unknown) => (e instanceof XhttpError ? e.code : String(e));

describe('bulkhead: the semaphore', () => {
  it('hands slots out FIFO, on a microtask, and never lets a newcomer jump the queue', async () => {
    const b = new Bulkhead(1, 2);
    const order: string[] = [];
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false);
    assert.equal(b.enqueue({ onBulkheadSlot: () => order.push('first') }), true);
    assert.equal(b.enqueue({ onBulkheadSlot: () => order.push('second') }), true);
    assert.equal(b.enqueue({ onBulkheadSlot: () => order.push('third') }), false, 'queue full');
    b.release();
    assert.deepEqual(order, [], 'not inside release()');
    assert.equal(b.tryAcquire(), false, 'the freed slot is promised to the queue');
    await Promise.resolve();
    assert.deepEqual(order, ['first']);
    assert.deepEqual(b.state(), { active: 1, queued: 1, maxConcurrentCalls: 1, maxQueued: 2, overloaded: 1 });
  });

  it('validates the limits, naming the field', () => {
    assert.equal(resolveBulkhead(undefined, undefined), undefined);
    assert.deepEqual(resolveBulkhead(4, undefined), { maxConcurrentCalls: 4, maxQueued: 0 });
    for (const [c, q, field] of [
      [0, undefined, 'options.maxConcurrentCalls'],
      [1.5, undefined, 'options.maxConcurrentCalls'],
      ['2', undefined, 'options.maxConcurrentCalls'],
      [2, -1, 'options.maxQueued'],
      [undefined, 3, 'options.maxQueued'],
    ] as const)
      assert.throws(
        () =>
          new AddressGroup('static://127.0.0.1:1', {
            maxConcurrentCalls: c as number,
            maxQueued: q as number,
          }),
        (e: unknown) => e instanceof XhttpError && e.code === 'INVALID_ARGUMENT' && e.field === field,
      );
  });
});

describe('bulkhead: calls through a real loopback server', () => {
  it('past maxConcurrentCalls and maxQueued a call fails at once with OVERLOADED, nothing sent; queued calls start FIFO as slots free', async () => {
    const h = await heldBackend();
    const registry = new Registry();
    const client = new Client({ requestTimeout: 10_000, metrics: { registry } });
    const group = new AddressGroup(staticTarget(h.backend), {
      name: 'svc',
      maxConcurrentCalls: 2,
      maxQueued: 2,
    });
    const events: CallEvent[] = [];
    client.events$.subscribe((e) => events.push(e));
    try {
      const calls = [1, 2, 3, 4].map((i) => client.get(group, `/c${i}`));
      await waitFor(() => h.backend.hits === 2);
      const overloaded = await client.get(group, '/c5').then(
        () => 'ok',
        (e: unknown) => e,
      );
      assert.ok(overloaded instanceof XhttpError);
      assert.equal(overloaded.code, 'OVERLOADED');
      assert.equal(overloaded.attempts, 0);
      assert.match(overloaded.message, /maxConcurrentCalls \(2\).*maxQueued \(2\)/);
      // Give a wrongly sent request every chance to arrive: still only the two in flight.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(h.backend.hits, 2, 'nothing sent for the queued calls nor the overloaded one');
      const health = await firstValueFrom(
        client.health$.pipe(filter((v: ClientHealth) => v.groups[0]?.bulkhead?.overloaded === 1)),
      );
      assert.deepEqual(health.groups[0]!.bulkhead, {
        active: 2,
        queued: 2,
        maxConcurrentCalls: 2,
        maxQueued: 2,
        overloaded: 1,
      });
      const c5 = events.find((e) => e.type === 'call-end' && e.errorCode === 'OVERLOADED');
      assert.ok(c5 && c5.type === 'call-end' && c5.outcome === 'error' && c5.attempts === 0);
      assert.equal(events.filter((e) => e.type === 'attempt-start' && e.callId === c5.callId).length, 0);

      h.release();
      await waitFor(() => h.backend.hits === 3);
      h.release();
      await waitFor(() => h.backend.hits === 4);
      assert.deepEqual(h.paths, ['/c1', '/c2', '/c3', '/c4'], 'queued calls started in order');
      h.release();
      h.release();
      assert.deepEqual(
        (await Promise.all(calls)).map((r) => r.status),
        [200, 200, 200, 200],
      );
      const metric = await registry.getSingleMetric('rxhttp_overloaded_total')!.get();
      assert.deepEqual(
        metric.values.map((v) => [v.labels, v.value]),
        [[{ rxhttp_group: 'svc' }, 1]],
      );
    } finally {
      await client.close();
      group.close();
      await h.backend.close();
    }
  });

  it('a call cancelled while queued frees its place; a queued call past its deadline fails with TIMEOUT and frees it', async () => {
    const h = await heldBackend();
    const client = new Client({ requestTimeout: 10_000 });
    const group = new AddressGroup(staticTarget(h.backend), { maxConcurrentCalls: 1, maxQueued: 1 });
    try {
      const first = client.get(group, '/first');
      await waitFor(() => h.backend.hits === 1);
      const abort = new AbortController();
      const cancelled = client.get(group, '/cancelled', { signal: abort.signal }).catch(code);
      abort.abort();
      assert.equal(await cancelled, 'ABORTED');
      const late = await client.get(group, '/late', { timeout: 200 }).catch(code);
      assert.equal(late, 'TIMEOUT', 'queued (not OVERLOADED: the cancelled call left), then out of time');
      const sub = client.get$(group, '/unsubscribed').subscribe();
      sub.unsubscribe();
      const next = client.get(group, '/next');
      h.release();
      await waitFor(() => h.backend.hits === 2);
      h.release();
      assert.equal((await first).status, 200);
      assert.equal((await next).status, 200);
      assert.deepEqual(h.paths, ['/first', '/next'], 'neither the cancelled nor the late call was sent');
    } finally {
      await client.close();
      group.close();
      await h.backend.close();
    }
  });

  it('without maxConcurrentCalls every call is sent (the feature off)', async () => {
    const h = await heldBackend();
    const client = new Client({ requestTimeout: 10_000 });
    const group = new AddressGroup(staticTarget(h.backend));
    try {
      const calls = [1, 2, 3, 4, 5].map((i) => client.get(group, `/c${i}`));
      await waitFor(() => h.backend.hits === 5);
      for (let i = 0; i < 5; i++) h.release();
      await Promise.all(calls);
    } finally {
      await client.close();
      group.close();
      await h.backend.close();
    }
  });

  it('client.close() ends queued calls with ABORTED, sending nothing', async () => {
    const h = await heldBackend();
    const client = new Client({ requestTimeout: 10_000 });
    const group = new AddressGroup(staticTarget(h.backend), { maxConcurrentCalls: 1, maxQueued: 5 });
    const first = client.get(group, '/first').catch(code);
    await waitFor(() => h.backend.hits === 1);
    const queued = [1, 2, 3].map((i) => client.get(group, `/q${i}`).catch(code));
    await client.close();
    assert.deepEqual(await Promise.all([first, ...queued]), ['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']);
    assert.equal(h.backend.hits, 1);
    group.close();
    await h.backend.close();
  });
});
