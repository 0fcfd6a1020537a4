import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BehaviorSubject } from 'rxjs';
import { Client, AddressGroup, registerResolver, isXhttpError, type Address } from '../../lib/index.js';
import { startFaultServer } from '../helpers/fault-server.js';
import { LeakProbe } from '../helpers/fault-leaks.js';

const HOSTS = 6;
const TICK_MS = 100;
const CHURN_MS = Number(process.env['RXHTTP_CHURN_MS'] ?? 3_000);
const WORKERS = 16;
/** A removed host must hold no connection once this long has passed (longer than any call). */
const GRACE_MS = 1_500;

/** Small seeded PRNG (mulberry32): the same churn on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('host churn: the list changes every 100 ms under load; every call settles once, removed hosts keep no connection', async () => {
  const server = await startFaultServer(HOSTS);
  const probe = await LeakProbe.start();
  const all: Address[] = server.ports.map((port) => ({ host: '127.0.0.1', port }));
  const lists = new BehaviorSubject<readonly Address[]>(all.slice(0, 3));
  registerResolver({ scheme: 'churn', resolve: () => lists.asObservable() });

  // When each host was last listed (Infinity while it is listed).
  const lastListed = new Map<number, number>(all.map((a) => [a.port, Infinity]));
  const publish = (list: readonly Address[]): void => {
    const now = performance.now();
    for (const a of all) {
      const listed = list.some((b) => b.port === a.port);
      if (listed) lastListed.set(a.port, Infinity);
      else if (lastListed.get(a.port) === Infinity) lastListed.set(a.port, now);
    }
    lists.next(list);
  };
  publish(all.slice(0, 3));

  const client = new Client({ circuitBreaker: false, requestTimeout: 1_000, keepAliveTimeout: 1_000 });
  const group = new AddressGroup('churn://backends', { loadBalancer: 'round-robin' });
  const starts: number[] = [];
  const ends: number[] = [];
  const sub = client.events$.subscribe((e) => {
    if (e.type === 'call-start') starts.push(e.callId);
    else if (e.type === 'call-end') ends.push(e.callId);
  });

  const random = prng(11);
  let ticks = 0;
  const churn = setInterval(() => {
    ticks++;
    // A random subset of 1 to 4 hosts: some added, some removed, some returning.
    const size = 1 + Math.floor(random() * 4);
    const pool = [...all];
    const next: Address[] = [];
    while (next.length < size) next.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
    publish(next);
  }, TICK_MS);

  const outcomes = new Map<string, number>();
  let issued = 0;
  let settledTwice = 0;
  let violations = 0;
  const stopAt = performance.now() + CHURN_MS;
  const call = (i: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const r = i % 20;
      const path = r < 15 ? '/ok' : r < 19 ? '/trickle?every=30&bytes=4' : '/hang';
      let settled = 0;
      const note = (key: string) => {
        settled++;
        if (settled > 1) settledTwice++;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        resolve();
      };
      issued++;
      client.get$(group, path, r === 19 ? { timeout: 300 } : {}).subscribe({
        next: (res) => note(`status ${res.status}`),
        error: (e: unknown) => note(isXhttpError(e) ? e.code : `uncoded ${String(e)}`),
      });
    });
  const worker = async (w: number) => {
    for (let i = w; performance.now() < stopAt; i += WORKERS) await call(i);
  };
  const watcher = (async () => {
    // While churning: a host unlisted for GRACE_MS holds no connection.
    while (performance.now() < stopAt) {
      const asked = performance.now();
      const stats = await server.stats();
      for (const l of stats.listeners) {
        const since = lastListed.get(l.port)!;
        if (since !== Infinity && asked - since > GRACE_MS && l.open > 0) violations++;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w)), watcher]);
  clearInterval(churn);

  // Settle on two hosts; every other host must be left with no connection.
  publish(all.slice(0, 2));
  const removedAt = performance.now();
  let lingering: number[] = [];
  while (performance.now() - removedAt < 5_000) {
    const stats = await server.stats();
    lingering = stats.listeners.filter((l, i) => i >= 2 && l.open > 0).map((l) => l.port);
    if (lingering.length === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  console.log(`churn: ${ticks} list changes, ${issued} calls`, Object.fromEntries(outcomes));
  try {
    assert.ok(ticks >= CHURN_MS / TICK_MS / 2, `the list changed ${ticks} times`);
    assert.equal(settledTwice, 0, 'no call answered twice');
    assert.equal(total, issued, 'every call settled');
    assert.deepEqual(
      [...outcomes.keys()].filter((k) => k.startsWith('uncoded')),
      [],
      'every error is a coded XhttpError',
    );
    assert.ok((outcomes.get('status 200') ?? 0) > issued * 0.5, 'most calls were answered');
    assert.equal(starts.length, ends.length, 'call-start and call-end pair up');
    assert.deepEqual([...new Set(ends)].length, ends.length, 'one call-end per call');
    assert.equal(violations, 0, 'no connection to a host removed for more than 1.5 s');
    assert.deepEqual(lingering, [], 'no connection survives to a removed host');
  } finally {
    await client.close();
    group.close();
    sub.unsubscribe();
    lists.complete();
  }
  await probe.assertClean();
  const after = await server.stats();
  const end = performance.now() + 3_000;
  let open = after.listeners.reduce((n, l) => n + l.open, 0);
  while (open > 0 && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    open = (await server.stats()).listeners.reduce((n, l) => n + l.open, 0);
  }
  assert.equal(open, 0, 'the server sees every connection closed after close()');
  await server.stop();
});
