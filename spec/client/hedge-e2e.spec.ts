import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { filter, firstValueFrom } from 'rxjs';
import { AddressGroup, Client, type CallEvent } from '../../lib/index.js';
import { startBackend, staticTarget, waitFor, type Backend } from '../helpers/loopback.js';
import { resourceCounts, settle } from '../helpers/handles.js';

// Hedging against real loopback servers: the winner's answer comes back, every loser is aborted on
// the wire and its socket released, a cancelled call takes its hedges with it. The decisions
// themselves (timings, budgets, the timeline) are specified on virtual time in hedge.spec.ts.

/** A backend that answers `name` after `ms`, unless the client goes away first. */
function delayed(name: string, ms: number): (req: unknown, res: ServerResponse) => void {
  return (_req, res) => {
    const t = setTimeout(() => res.end(name), ms);
    res.on('close', () => clearTimeout(t));
  };
}

async function pair(slowMs: number): Promise<{ slow: Backend; fast: Backend; close: () => Promise<void> }> {
  const slow = await startBackend(delayed('slow', slowMs));
  const fast = await startBackend(delayed('fast', 2));
  return {
    slow,
    fast,
    close: async () => {
      await slow.close();
      await fast.close();
    },
  };
}

test("1 000 hedged calls: every answer is the fast host's, every loser is aborted, no socket or timer outlives the client", async () => {
  const before = resourceCounts();
  const { slow, fast, close } = await pair(2_000);
  // Round robin: every other call tries the slow host first and is saved by its hedge.
  const group = new AddressGroup(staticTarget(slow, fast), { loadBalancer: 'round-robin' });
  const client = new Client({ retryBudget: false, connections: 64 });
  const ends: CallEvent[] = [];
  client.events$
    .pipe(filter((e) => e.type === 'attempt-end' && e.lostTo !== undefined))
    .subscribe((e) => ends.push(e));
  const hedge = { delay: 20, maxExtraLoad: 1 };
  const bodies = new Map<string, number>();
  const started = performance.now();
  for (let batch = 0; batch < 20; batch++) {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => client.get(group, '/', { hedge }).then((r) => r.body.text())),
    );
    for (const b of results) bodies.set(b, (bodies.get(b) ?? 0) + 1);
  }
  const elapsed = performance.now() - started;
  assert.deepEqual([...bodies], [['fast', 1_000]], "every call got the fast host's answer");
  // A slow answer takes 2 s: 20 batches that waited for one would take 40 s.
  assert.ok(elapsed < 20_000, `1 000 calls took ${Math.round(elapsed)} ms`);
  assert.ok(ends.length >= 400, `${ends.length} losers`);
  for (const e of ends) assert.ok(e.type === 'attempt-end' && e.cancelled && e.verdict === 'ignored');
  // Every request the slow host got was aborted by the client (its loser cancelled on the wire).
  await waitFor(() => slow.aborted === slow.hits);
  // Released while the client is still open: the slow host holds no connection from it (each loser's
  // socket was closed on abort, none is parked in the pool).
  const open = () => new Promise<number>((r) => slow.server.getConnections((_e, n) => r(n)));
  let slowConnections = await open();
  for (let i = 0; i < 50 && slowConnections > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    slowConnections = await open();
  }
  assert.equal(slowConnections, 0, 'no connection left open to the slow host');
  // Under load a fast attempt can be slower than the delay too and be hedged to the slow host: it
  // then wins, and the slow hedge loses. Either way the slow host never finished an answer.
  assert.ok(slow.hits <= ends.length, `${slow.hits} slow requests, ${ends.length} losers`);
  await client.close();
  group.close();
  await close();
  await settle(100);
  // Closed sockets are released a few turns later on a loaded machine: wait (bounded), then judge.
  const leaked = () =>
    ['TCPSocketWrap', 'TCPWrap', 'Timeout'].some((k) => (resourceCounts()[k] ?? 0) > (before[k] ?? 0));
  await waitFor(() => !leaked(), 5_000).catch(() => undefined);
  const after = resourceCounts();
  for (const kind of ['TCPSocketWrap', 'TCPWrap', 'Timeout']) {
    assert.ok(
      (after[kind] ?? 0) <= (before[kind] ?? 0),
      `${kind}: ${before[kind] ?? 0} before, ${after[kind] ?? 0} after`,
    );
  }
});

test('a POST is not hedged by default: the server sees it once', async () => {
  const { slow, fast, close } = await pair(300);
  const group = new AddressGroup(staticTarget(slow), { loadBalancer: 'round-robin' });
  const client = new Client({ retryBudget: false });
  try {
    const res = await client.post(group, '/', { body: 'order', hedge: { delay: 10, maxExtraLoad: 1 } });
    assert.equal(await res.body.text(), 'slow');
    assert.equal(slow.hits, 1);
    assert.equal(res.attempts, 1);
  } finally {
    await client.close();
    group.close();
    await close();
    void fast;
  }
});

test('cancelling the call cancels every hedge: each server sees its request aborted', async () => {
  const a = await startBackend(delayed('a', 5_000));
  const b = await startBackend(delayed('b', 5_000));
  const group = new AddressGroup(staticTarget(a, b));
  const client = new Client({ retryBudget: false });
  try {
    const ends: CallEvent[] = [];
    client.events$
      .pipe(filter((e) => e.type === 'attempt-end' || e.type === 'call-end'))
      .subscribe((e) => ends.push(e));
    const controller = new AbortController();
    const call = client.get(group, '/', { hedge: { delay: 20, maxExtraLoad: 1 }, signal: controller.signal });
    const rejected = assert.rejects(call, (e: { code?: string }) => e.code === 'ABORTED');
    await waitFor(() => a.hits === 1 && b.hits === 1, 5_000);
    controller.abort();
    await rejected;
    await waitFor(() => a.aborted === 1 && b.aborted === 1);
    assert.deepEqual(
      ends.map((e) =>
        e.type === 'attempt-end'
          ? `${e.attempt}:${e.cancelled}`
          : `${e.type}:${'outcome' in e ? e.outcome : ''}`,
      ),
      ['1:true', '2:true', 'call-end:cancelled'],
    );
    // Unsubscribing does the same.
    const sub = client.get$(group, '/', { hedge: { delay: 20, maxExtraLoad: 1 } }).subscribe();
    await waitFor(() => a.hits === 2 && b.hits === 2, 5_000);
    sub.unsubscribe();
    await waitFor(() => a.aborted === 2 && b.aborted === 2);
  } finally {
    await client.close();
    group.close();
    await a.close();
    await b.close();
  }
});

test('hedges never open a breaker: a slow host that keeps losing keeps a closed breaker', async () => {
  const { slow, fast, close } = await pair(1_000);
  const group = new AddressGroup(staticTarget(slow, fast), { loadBalancer: 'round-robin' });
  const client = new Client({
    retryBudget: false,
    circuitBreaker: { minimumRequestThreshold: 5, failureRateThreshold: 0.2 },
  });
  try {
    for (let i = 0; i < 60; i++) await client.get(group, '/', { hedge: { delay: 15, maxExtraLoad: 1 } });
    const snapshots = await firstValueFrom(client.breakers$);
    const slowBreaker = snapshots.get(slow.hostPort);
    assert.ok(slow.hits >= 20, `${slow.hits} requests reached the slow host`);
    assert.equal(slowBreaker?.state, 'closed', JSON.stringify(slowBreaker));
    assert.equal(slowBreaker?.failureRate, 0, 'a lost hedge is not a failure');
  } finally {
    await client.close();
    group.close();
    await close();
  }
});

test("a streamed response is hedged up to its headers: the winner's body is read, the loser aborted", async () => {
  const { slow, fast, close } = await pair(2_000);
  const group = new AddressGroup(staticTarget(slow, fast), { loadBalancer: 'round-robin' });
  const client = new Client({ retryBudget: false });
  try {
    for (let i = 0; i < 4; i++) {
      const res = await client.get(group, '/', {
        responseType: 'stream',
        hedge: { delay: 20, maxExtraLoad: 1 },
      });
      assert.equal(await res.body.text(), 'fast');
    }
    await waitFor(() => slow.hits >= 2 && slow.aborted === slow.hits);
  } finally {
    await client.close();
    group.close();
    await close();
  }
});
