import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('malformed status line: PROTOCOL, not retried by default, nothing left', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    const err = await expectCode(client.get(group, '/bad-status'), 'PROTOCOL');
    assert.equal(err.attempts, 1);
    assert.ok(!err.message.includes('2x0'), 'the message does not echo the peer bytes');
    // The next call on the same client gets a clean connection.
    assert.equal(await (await client.get(group, '/ok')).body.text(), 'ok');
  });
});
