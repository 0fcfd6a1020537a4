import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, timed, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('a body that trickles slower than bodyTimeout: TIMEOUT phase body after ~300 ms of silence', async () => {
  await withFaultClient(
    server.hostPort,
    { requestTimeout: 5_000, bodyTimeout: 300 },
    async ({ client, group }) => {
      // one byte every 1 000 ms: each gap is longer than bodyTimeout
      const t = await timed(expectCode(client.get(group, '/trickle?every=1000&bytes=5'), 'TIMEOUT', 'body'));
      assert.ok(t.ms >= 250 && t.ms < 2_500, `body timeout at ${Math.round(t.ms)} ms`);
    },
  );
});

test('slowloris: one byte every 100 ms defeats a 300 ms bodyTimeout; the call deadline stops it', async () => {
  await withFaultClient(
    server.hostPort,
    { requestTimeout: 1_500, bodyTimeout: 300 },
    async ({ client, group }) => {
      const t = await timed(
        expectCode(client.get(group, '/trickle?every=100&bytes=100000'), 'TIMEOUT', 'call'),
      );
      assert.ok(t.ms >= 1_400 && t.ms < 4_000, `deadline at ${Math.round(t.ms)} ms`);
      // The server sees the slowloris connection closed: the trickle does not outlive the call.
      // (undici may open a spare idle connection after an abort; keep-alive reaps that one.)
      const end = performance.now() + 3_000;
      while ((await server.stats()).listeners[0]!.trickling > 0 && performance.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal((await server.stats()).listeners[0]!.trickling, 0, 'the slowloris connection was closed');
    },
  );
});

test('slowloris in stream mode: the body-idle timer never fires, the stream is ended by the consumer', async () => {
  await withFaultClient(server.hostPort, { bodyTimeout: 300 }, async ({ client, group }) => {
    const res = await client.get(group, '/trickle?every=100&bytes=100000', { responseType: 'stream' });
    let received = 0;
    const started = performance.now();
    for await (const chunk of res.body) {
      received += chunk.length;
      if (performance.now() - started > 800) break; // the consumer's own deadline
    }
    assert.ok(received >= 3, `bytes keep coming (${received})`);
  });
});
