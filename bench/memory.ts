/**
 * Memory per call, rxhttp against raw undici `Pool.request` (run with --expose-gc; run.ts does).
 *
 *   node --expose-gc --import tsx bench/memory.ts [--quick]
 *
 * - Growth: heap and RSS after a forced GC, before and after 10 000 calls at c = 64 (what stays
 *   behind: a leak shows here).
 * - In flight: K calls parked on the server's `/hold` (each on its own connection, opened beforehand
 *   so sockets are in the baseline), heap after a forced GC, per call, minus undici's own.
 */
import { Pool } from 'undici';
import { CONNECTIONS } from './contenders.js';
import {
  closedLoop,
  dist,
  fmt,
  QUICK,
  sleep,
  startServer,
  table,
  verdict,
  watchdog,
  type ServerHandle,
} from './util.js';

type Rxhttp = typeof import('../lib/index.js');
const rx = await dist<Rxhttp>('index');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** Calls per growth measurement; figures are scaled to 10 000 calls. */
const CALLS = QUICK ? 2_000 : 10_000;
const SCALE = 10_000 / CALLS;
const HELD = QUICK ? 128 : 1_000;
const KiB = 1_024;

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage();
}

interface Subject {
  name: string;
  call(path: string): Promise<unknown>;
  close(): Promise<void>;
}

function subjects(port: number): Subject[] {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: HELD });
  const client = new rx.Client({ connections: HELD, requestTimeout: 60_000 });
  const group = new rx.AddressGroup(`static://127.0.0.1:${port}`);
  return [
    {
      name: 'undici Pool.request',
      call: async (path) => (await pool.request({ path, method: 'GET' })).body.text(),
      close: () => pool.close(),
    },
    {
      name: 'rxhttp Promise (full chain)',
      call: async (path) =>
        (await client.get(group, path, { retry: { maxAttempts: 3 }, timeout: 60_000 })).body.text(),
      close: async () => {
        await client.close();
        group.close();
      },
    },
  ];
}

async function growth(s: Subject) {
  const o = { concurrency: CONNECTIONS, count: CALLS, maxMs: 60_000 };
  await closedLoop(() => s.call('/'), o); // warm-up: JIT, pools, connections
  const before = settle();
  await closedLoop(() => s.call('/'), o);
  const after = settle();
  return { heap: (after.heapUsed - before.heapUsed) * SCALE, rss: (after.rss - before.rss) * SCALE };
}

async function inFlight(s: Subject, server: ServerHandle) {
  // Open HELD connections first so that sockets are in the baseline of both subjects.
  await closedLoop(() => s.call('/'), { concurrency: HELD, count: HELD * 4, maxMs: 30_000 });
  const before = settle();
  const calls = Array.from({ length: HELD }, () => s.call('/hold'));
  const t0 = performance.now();
  while ((await server.held()) < HELD && performance.now() - t0 < 20_000) await sleep(20);
  const during = settle();
  await server.release();
  await Promise.all(calls);
  return (during.heapUsed - before.heapUsed) / HELD;
}

async function main(): Promise<void> {
  watchdog(QUICK ? 30 : 180, 'memory');
  const server = await startServer();
  const list = subjects(server.ports[0]!);
  const rows: string[][] = [];
  const held: number[] = [];
  try {
    for (const s of list) {
      const g = await growth(s);
      const h = await inFlight(s, server);
      held.push(h);
      rows.push([s.name, fmt(g.heap / KiB, 1), fmt(g.rss / KiB, 1), fmt(h / KiB, 2)]);
    }
  } finally {
    for (const s of list) await s.close();
    await server.stop();
  }
  const extra = (held[1]! - held[0]!) / KiB;
  console.log(
    [
      '## Memory',
      '',
      `Heap and RSS growth per 10 000 calls (measured over ${CALLS.toLocaleString('en-US')} calls at c = ${CONNECTIONS}, after a forced GC), and heap per`,
      `in-flight call with ${HELD} calls parked on the server.`,
      '',
      table(
        [
          'client',
          'heap growth KiB / 10 000 calls',
          'RSS growth KiB / 10 000 calls',
          'heap KiB per in-flight call',
        ],
        rows,
      ),
      '',
      verdict(extra <= 2, '≤ 2 KiB heap per in-flight call above undici’s own', `${fmt(extra, 2)} KiB`),
      '',
    ].join('\n'),
  );
}

await main();
