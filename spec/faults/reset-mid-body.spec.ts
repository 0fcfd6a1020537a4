import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('reset mid-body (buffered): RESET, and the retry reads a clean body (nothing spliced)', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    await expectCode(client.get(group, '/reset-mid-body'), 'RESET');
    const res = await client.get(group, '/reset-mid-body?key=rmb', {
      retry: { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' } },
    });
    assert.equal(res.attempts, 2);
    // The first attempt's 1 000 bytes must not be prepended to the second attempt's body.
    assert.equal(await res.body.text(), 'ok');
  });
});

test('reset mid-body (stream): the body iterator throws RESET after the bytes that came', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    const res = await client.get(group, '/reset-mid-body', { responseType: 'stream' });
    assert.equal(res.status, 200);
    let received = 0;
    await expectCode(
      (async () => {
        for await (const chunk of res.body) received += chunk.length;
      })(),
      'RESET',
    );
    assert.ok(received <= 1_000, `at most the bytes sent before the reset (${received})`);
  });
});
