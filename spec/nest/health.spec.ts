import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom } from 'rxjs';
import { isXhttpError } from '../../lib/index.js';
import { RxHttpHealthIndicator, RxHttpService } from '../../lib/nest/index.js';
import { startBackend } from '../helpers/loopback.js';

// The indicator without Nest's container: the service and the indicator as Nest would build them.
test('the health indicator, read first after traffic, shows true rates and a custom key’s open breaker', async (t) => {
  const backend = await startBackend((req, res) => {
    res.statusCode = req.url === '/bad' ? 503 : 200;
    res.end();
  });
  const http = new RxHttpService({
    groups: { users: `static://${backend.hostPort}` },
    circuitBreaker: {
      key: (req, address) => `${address.host}:${address.port} ${req.method} ${req.path ?? req.url ?? ''}`,
      minimumRequestThreshold: 3,
      counterUpdateInterval: 20,
    },
  });
  t.after(async () => {
    await http.onApplicationShutdown();
    await backend.close();
  });
  for (let i = 0; i < 20; i++) assert.equal((await firstValueFrom(http.get('http://users/ok'))).status, 200);
  let failedFast = false;
  for (let i = 0; i < 500 && !failedFast; i++) {
    try {
      await firstValueFrom(http.get('http://users/bad'));
    } catch (e) {
      failedFast = isXhttpError(e) && e.code === 'FAIL_FAST';
      if (!failedFast) throw e;
    }
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(failedFast, 'the GET /bad breaker opened');

  const { rxhttp } = await new RxHttpHealthIndicator(http).check();
  assert.ok(rxhttp.health.callsPerSecond > 0, `calls/s ${rxhttp.health.callsPerSecond} on the first read`);
  assert.ok(rxhttp.health.errorPercent > 0, `error % ${rxhttp.health.errorPercent} on the first read`);
  const host = rxhttp.health.groups[0]!.hosts[0]!;
  assert.equal(host.breaker, 'open', 'the host row reflects its open key, not a "closed" host:port lookup');
  assert.deepEqual([host.breakerKeys, host.openBreakers], [2, 1]);
  assert.equal(rxhttp.status, 'up', 'one open path is not a host down: GET /ok still goes through');
});
