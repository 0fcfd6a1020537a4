import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('keep-alive closed gracefully between requests (FIN while idle): the next call opens a new connection', async () => {
  await withFaultClient(server.hostPort, { connections: 1 }, async ({ client, group }) => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await client.get(group, '/close-after')).status, 200);
      await sleep(150); // the server's FIN arrives while the connection is idle in the pool
    }
    assert.equal((await client.get(group, '/ok')).status, 200);
    const stats = (await server.stats()).listeners[0]!;
    assert.ok(stats.accepted >= 4, `a fresh connection after each close (${stats.accepted})`);
  });
});

test('keep-alive closed as the next request arrives (RST, no answer): RESET without retry, hidden with it', async () => {
  await withFaultClient(server.hostPort, { connections: 1 }, async ({ client, group }) => {
    assert.equal((await client.get(group, '/one-per-conn')).status, 200);
    const err = await expectCode(client.get(group, '/ok'), 'RESET');
    assert.equal(err.attempts, 1);

    assert.equal((await client.get(group, '/one-per-conn')).status, 200);
    const res = await client.get(group, '/ok', {
      retry: { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' } },
    });
    assert.equal(res.status, 200);
    assert.equal(res.attempts, 2);
    assert.equal(await res.body.text(), 'ok');
  });
});
