import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, timed, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

const BIG = new Uint8Array(16 * 1024 * 1024); // far past the socket buffers: the write blocks

test('a server that accepts and never reads (16 MiB POST): the call deadline ends it, nothing left', async () => {
  const target = `127.0.0.1:${server.neverReadPort}`;
  await withFaultClient(target, { requestTimeout: 800 }, async ({ client, group }) => {
    const t = await timed(
      expectCode(client.post(group, '/', 'application/octet-stream', BIG), 'TIMEOUT', 'call'),
    );
    assert.ok(t.ms >= 700 && t.ms < 3_000, `ended at ${Math.round(t.ms)} ms`);
    assert.ok((await server.stats()).neverRead.accepted >= 1);
  });
});

test('a server that accepts and never reads: a per-attempt timeout ends each attempt, POST not retried', async () => {
  const target = `127.0.0.1:${server.neverReadPort}`;
  await withFaultClient(target, { requestTimeout: 5_000 }, async ({ client, group }) => {
    const err = await expectCode(
      client.post(group, '/', 'application/octet-stream', BIG, {
        retry: { maxAttempts: 3, timeoutPerAttempt: 300, backoff: { initialDelay: 1, jitter: 'none' } },
      }),
      'TIMEOUT',
      'attempt',
    );
    assert.equal(err.attempts, 1, 'the body may have reached the server: no retry for POST');
  });
});

test('a server that accepts and never reads: headersTimeout (500 ms) fires on time', async () => {
  const target = `127.0.0.1:${server.neverReadPort}`;
  await withFaultClient(target, { requestTimeout: 4_000, headersTimeout: 500 }, async ({ client, group }) => {
    const t = await timed(
      expectCode(client.post(group, '/', 'application/octet-stream', BIG), 'TIMEOUT', 'headers'),
    );
    assert.ok(t.ms < 2_500, `headers timeout at ${Math.round(t.ms)} ms`);
  });
});
