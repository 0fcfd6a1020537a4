import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('content-length shorter than the body: the declared bytes only; the garbage never reaches another call', async () => {
  await withFaultClient(server.hostPort, { connections: 1 }, async ({ client, group }) => {
    const res = await client.get(group, '/cl-short');
    assert.equal(res.status, 200);
    assert.equal(await res.body.text(), 'ok');
    // One connection per origin: the next call would read the trailing garbage as its response
    // if the connection were reused. It must get a clean response (or, at worst, a coded error).
    for (let i = 0; i < 5; i++) {
      const next = await client.get(group, '/ok', {
        retry: { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' } },
      });
      assert.equal(next.status, 200);
      assert.equal(await next.body.text(), 'ok');
    }
  });
});

test('content-length longer than the body (then FIN): RESET, and the retry reads a clean body', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    const err = await expectCode(client.get(group, '/cl-long'), 'RESET');
    assert.equal(err.attempts, 1);
    const res = await client.get(group, '/cl-long?key=cll', {
      retry: { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' } },
    });
    assert.equal(res.attempts, 2);
    assert.equal(await res.body.text(), 'ok', "no 'short' prefix from the failed attempt");
  });
});
