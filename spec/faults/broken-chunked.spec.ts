import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('broken chunked encoding: PROTOCOL (buffered and stream), nothing left', async () => {
  await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
    await expectCode(client.get(group, '/bad-chunked'), 'PROTOCOL');
    const stream = client.get(group, '/bad-chunked', { responseType: 'stream' }).then(async (res) => {
      for await (const _ of res.body) void _;
    });
    await expectCode(stream, 'PROTOCOL');
    assert.equal((await client.get(group, '/ok')).status, 200);
  });
});
