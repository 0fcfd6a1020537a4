import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('invalid header bytes: a NUL in a value, a space in a name: PROTOCOL, nothing left', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    await expectCode(client.get(group, '/bad-header-value'), 'PROTOCOL');
    await expectCode(client.get(group, '/bad-header-name'), 'PROTOCOL');
    // Each broken connection was dropped; the pool still serves.
    assert.equal((await client.get(group, '/ok')).status, 200);
  });
});
