import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort } from '../helpers/e2e-util.js';
import { startFaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

test('connection refused: CONNECT with the address, and no socket or timer left', async () => {
  const port = await closedPort();
  await withFaultClient(`127.0.0.1:${port}`, { requestTimeout: 5_000 }, async ({ client, group }) => {
    const err = await expectCode(client.get(group, '/'), 'CONNECT');
    assert.equal(err.address?.port, port);
    assert.equal(err.attempts, 1, 'one address: the transparent retry has nowhere else to go');
    // POST too: a refused connection provably reached no server.
    await expectCode(client.post(group, '/', 'text/plain', 'x'), 'CONNECT');
  });
});

test('connection refused: the transparent retry hides it when the group has another address', async () => {
  const server = await startFaultServer();
  const port = await closedPort();
  try {
    await withFaultClient([`127.0.0.1:${port}`, server.hostPort], {}, async ({ client, group }) => {
      for (let i = 0; i < 4; i++) {
        // POST: retried only because the refusal proves nothing was sent.
        const res = await client.post(group, '/ok', 'text/plain', 'x');
        assert.equal(res.status, 200);
        assert.equal(await res.body.text(), 'ok');
        assert.ok(res.attempts <= 2);
      }
    });
  } finally {
    await server.stop();
  }
});
