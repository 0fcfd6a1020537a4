import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import { Client, AddressGroup, isXhttpError } from '../../lib/index.js';
import { closedPort } from '../helpers/e2e-util.js';
import { startFaultServer } from '../helpers/fault-server.js';
import { LeakProbe } from '../helpers/fault-leaks.js';

/** 100 000 with RXHTTP_SOAK_FULL=1; 10 000 in CI. */
const CALLS = Number(
  process.env['RXHTTP_SOAK_CALLS'] ?? (process.env['RXHTTP_SOAK_FULL'] === '1' ? 100_000 : 10_000),
);
const CONCURRENCY = 64;
const WARMUP = 2_000;
/** Heap growth allowed between the warm-up and the end of the run (both after a full GC). */
const HEAP_BOUND_MB = 24;
/** Wall-clock bound: generous for a busy 2-core box. */
const TIME_BOUND_MS = CALLS >= 100_000 ? 300_000 : 60_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** The mix: mostly healthy calls to distinct paths, and one fault in ten. */
function pathFor(i: number): { path: string; timeout?: number; refused?: boolean } {
  const r = i % 100;
  if (r < 90) return { path: `/ok/${i}?q=${i}` };
  switch (r) {
    case 90:
    case 91:
      return { path: '/reset-before-headers' };
    case 92:
      return { path: '/reset-mid-body' };
    case 93:
      return { path: '/bad-status' };
    case 94:
      return { path: '/cl-long' };
    case 95:
      return { path: '/bad-chunked' };
    case 96:
      return { path: '/big-headers' };
    case 97:
      return { path: '/trickle?every=5&bytes=3' };
    case 98:
      return { path: '/hang', timeout: 50 };
    default:
      return { path: `/ok/${i}`, refused: true };
  }
}

test(`soak: ${CALLS} calls over mixed faults; bounded heap, constant metric series, handles back to baseline`, async () => {
  const server = await startFaultServer(2);
  const refused = await closedPort();
  const probe = await LeakProbe.start();
  const registry = new Registry();
  const client = new Client({
    circuitBreaker: false,
    requestTimeout: 5_000,
    bodyTimeout: 2_000,
    metrics: { registry },
  });
  const group = new AddressGroup(`static://${server.hostPorts.join(',')}`, { name: 'soak' });
  // A refused address first in line: the transparent retry moves each call to the live host.
  const mixed = new AddressGroup(`static://127.0.0.1:${refused},${server.hostPorts[0]}`, {
    name: 'soak-refused',
    loadBalancer: 'round-robin',
  });
  let callEnds = 0;
  const sub = client.events$.subscribe((e) => {
    if (e.type === 'call-end') callEnds++;
  });
  const outcomes = new Map<string, number>();
  let settled = 0;
  const one = async (i: number): Promise<void> => {
    const { path, timeout, refused: useRefused } = pathFor(i);
    let key: string;
    try {
      const res = await client.get(useRefused ? mixed : group, path, {
        ...(timeout ? { timeout } : {}),
        retry: { maxAttempts: 2, backoff: { initialDelay: 1, maxDelay: 5, jitter: 'full' } },
      });
      await res.body.bytes();
      key = String(res.status);
    } catch (e) {
      key = isXhttpError(e) ? e.code : `uncoded: ${String(e)}`;
    }
    settled++;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  };
  const run = async (from: number, to: number): Promise<void> => {
    let next = from;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < to) await one(next++);
      }),
    );
  };

  const started = performance.now();
  await run(0, WARMUP);
  const seriesAfterWarmup = (await registry.getMetricsAsJSON()).reduce((n, m) => n + m.values.length, 0);
  const heapBefore = heapMb();
  await run(WARMUP, CALLS);
  const elapsed = performance.now() - started;
  const heapAfter = heapMb();
  const seriesAtEnd = (await registry.getMetricsAsJSON()).reduce((n, m) => n + m.values.length, 0);
  const growth = heapAfter - heapBefore;
  console.log(
    `soak: ${CALLS} calls in ${(elapsed / 1000).toFixed(1)} s (${Math.round((CALLS / elapsed) * 1000)}/s); ` +
      `heap ${heapBefore.toFixed(1)} -> ${heapAfter.toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}); ` +
      `series ${seriesAfterWarmup} -> ${seriesAtEnd}; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`,
  );
  try {
    assert.equal(settled, CALLS, 'every call settled');
    assert.equal(callEnds, CALLS, 'one call-end event per call');
    assert.deepEqual(
      [...outcomes.keys()].filter((k) => k.startsWith('uncoded')),
      [],
      'every failure is a coded XhttpError',
    );
    assert.ok((outcomes.get('200') ?? 0) >= CALLS * 0.89, 'every healthy call answered');
    assert.ok(elapsed < TIME_BOUND_MS, `bounded time: ${Math.round(elapsed)} ms`);
    assert.ok(growth < HEAP_BOUND_MB, `heap grew ${growth.toFixed(1)} MiB (bound ${HEAP_BOUND_MB})`);
    assert.equal(seriesAtEnd, seriesAfterWarmup, 'distinct paths add no metric series');
  } finally {
    await client.close();
    group.close();
    mixed.close();
    sub.unsubscribe();
  }
  await probe.assertClean('after close() of the soak client', 5_000);
  await server.stop();
});
