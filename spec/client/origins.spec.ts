import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from '../../lib/index.js';
import { MAX_ORIGINS } from '../../lib/client/client.js';
import { closedPort } from '../helpers/e2e-util.js';
import { resourceCounts, settle } from '../helpers/handles.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

/**
 * A client called by URL keeps state per origin (a group, a pool, breaker and load records): it
 * must stay bounded however many origins it meets, and releasing one must not break a call to it.
 * Origins: a few real servers on 127.0.1.k, and thousands of refused ones on 127.2.y.z (refused at
 * once on loopback, and still state).
 */
const REAL = 8;
let servers: Backend[] = [];
let refused = 0;

before(async () => {
  servers = await Promise.all(
    Array.from({ length: REAL }, (_, k) => startBackend((_req, res) => res.end('ok'), `127.0.1.${k + 1}`)),
  );
  refused = await closedPort();
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** `n` calls to distinct origins, 64 at a time; every 50th goes to a real server. */
async function manyOrigins(client: Client, from: number, n: number): Promise<void> {
  let next = from;
  const end = from + n;
  const worker = async (): Promise<void> => {
    while (next < end) {
      const i = next++;
      const url =
        i % 50 === 0
          ? `http://${servers[(i / 50) % REAL]!.hostPort}/`
          : `http://127.2.${(i >> 8) & 255}.${i & 255}:${refused}/`;
      try {
        await (await client.fetch(url)).text();
      } catch {
        // refused: CONNECT, as expected
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

describe('per-origin state is bounded', () => {
  test('10 000 distinct origins: bounded groups, sockets and memory', async (t) => {
    const client = new Client({ circuitBreaker: { failureRateThreshold: 0.5 } });
    await manyOrigins(client, 0, 2_000);
    await settle();
    const heapAt2k = heapUsed();
    await manyOrigins(client, 2_000, 8_000);
    await settle();
    const heapAt10k = heapUsed();
    const sockets = resourceCounts()['TCPSocketWrap'] ?? 0;
    const growth = (heapAt10k - heapAt2k) / 1e6;
    t.diagnostic(`groups ${client.groups.length}, sockets ${sockets}, heap +${growth.toFixed(1)} MB`);
    assert.ok(client.groups.length <= MAX_ORIGINS, `${client.groups.length} groups kept`);
    // Keep-alive sockets to the real servers (both ends) and nothing for released origins.
    assert.ok(sockets <= 4 * REAL, `${sockets} sockets open`);
    // 8 000 more origins than at 2 000: kept, they cost tens of MB (several KB each).
    assert.ok(growth < 8, `heap grew ${growth.toFixed(1)} MB from 2 000 to 10 000 origins`);
    await client.close();
  });

  test('a call in flight to an origin survives the release of every idle origin', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const slow = await startBackend(async (_req, res) => {
      await held;
      res.end('late but fine');
    }, '127.0.1.100');
    const client = new Client();
    const pending = client.fetch(`http://${slow.hostPort}/`, { timeout: 30_000 });
    await manyOrigins(client, 20_000, 3 * MAX_ORIGINS);
    assert.ok(client.groups.length <= MAX_ORIGINS + 1, `${client.groups.length} groups kept`);
    release();
    const res = await pending;
    assert.equal(await res.text(), 'late but fine');
    // And the origin still works once idle.
    assert.equal(await (await client.fetch(`http://${slow.hostPort}/`)).text(), 'late but fine');
    await client.close();
    await slow.close();
  });
});
