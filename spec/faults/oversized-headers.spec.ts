import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('headers larger than the limit (64 KiB): PROTOCOL, nothing left', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    const err = await expectCode(client.get(group, '/big-headers'), 'PROTOCOL');
    assert.ok(err.message.length < 200, 'the message does not carry the header');
    assert.ok(!err.message.includes('aaaa'));
    assert.equal((await client.get(group, '/ok')).status, 200);
  });
});
