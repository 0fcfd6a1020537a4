import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('reset before headers: RESET, not retried without a retry option; nothing left', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    const err = await expectCode(client.get(group, '/reset-before-headers'), 'RESET');
    assert.equal(err.attempts, 1);
    assert.equal(err.address?.port, server.ports[0]);
    // A POST that may have reached the server is not retried even with a retry option.
    const post = await expectCode(
      client.post(group, '/reset-before-headers', 'text/plain', 'x', {
        retry: { maxAttempts: 3, backoff: { initialDelay: 1, jitter: 'none' } },
      }),
      'RESET',
    );
    assert.equal(post.attempts, 1);
  });
});

test('reset before headers: a GET with retry is answered by the next attempt', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    const res = await client.get(group, '/reset-before-headers?key=rbh&times=2', {
      retry: { maxAttempts: 3, backoff: { initialDelay: 1, jitter: 'none' } },
    });
    assert.equal(res.status, 200);
    assert.equal(res.attempts, 3);
    assert.equal(await res.body.text(), 'ok');
  });
});
