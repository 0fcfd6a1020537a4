import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, timed, withFaultClient } from '../helpers/fault-harness.js';

let server: FaultServer;
before(async () => (server = await startFaultServer()));
after(() => server.stop());

test('headers that never come: the call deadline ends the call (TIMEOUT, phase call)', async () => {
  await withFaultClient(server.hostPort, { requestTimeout: 400 }, async ({ client, group }) => {
    const t = await timed(expectCode(client.get(group, '/hang'), 'TIMEOUT', 'call'));
    assert.ok(t.ms >= 350 && t.ms < 2_500, `ended at ${Math.round(t.ms)} ms`);
  });
});

test('headers that never come: per-attempt timeout, then retry; all attempts time out', async () => {
  await withFaultClient(server.hostPort, { requestTimeout: 5_000 }, async ({ client, group }) => {
    const t = await timed(
      expectCode(
        client.get(group, '/hang', {
          retry: { maxAttempts: 2, timeoutPerAttempt: 300, backoff: { initialDelay: 1, jitter: 'none' } },
        }),
        'TIMEOUT',
        'attempt',
      ),
    );
    assert.ok(t.ms < 3_000, `two 300 ms attempts ended at ${Math.round(t.ms)} ms`);
  });
});

test('headers that never come: headersTimeout (500 ms) fires on time, phase headers', async () => {
  await withFaultClient(
    server.hostPort,
    { requestTimeout: 4_000, headersTimeout: 500 },
    async ({ client, group }) => {
      const t = await timed(expectCode(client.get(group, '/hang'), 'TIMEOUT', 'headers'));
      assert.ok(t.ms >= 450 && t.ms < 2_500, `headers timeout at ${Math.round(t.ms)} ms`);
    },
  );
});
