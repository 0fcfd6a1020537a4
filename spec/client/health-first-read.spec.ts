/**
 * `client.health$` through a real Client and loopback backends, read the way a late reader reads it:
 * nobody subscribed before the traffic. Public API only, so the same file runs against any build.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstValueFrom } from 'rxjs';
import { AddressGroup, Client, isXhttpError } from '../../lib/index.js';
import { startBackend, staticTarget } from '../helpers/loopback.js';

describe('client.health$ is right on first read', () => {
  it('with nobody subscribed before, the first value after 300 calls (some failing) has calls/s, error % and p99', async () => {
    let n = 0;
    const backend = await startBackend((_req, res) => {
      res.statusCode = ++n % 4 === 0 ? 503 : 200;
      res.end();
    });
    const client = new Client();
    const group = new AddressGroup(staticTarget(backend), { name: 'loop' });
    try {
      for (let i = 0; i < 300; i++) await client.get(group, '/');
      const h = await firstValueFrom(client.health$);
      assert.ok(h.callsPerSecond > 0, `calls/s ${h.callsPerSecond}`);
      assert.ok(h.errorPercent > 20 && h.errorPercent < 30, `error % ${h.errorPercent}`);
      assert.ok(h.latencyMs.p99 > 0, `p99 ${h.latencyMs.p99}`);
      const g = h.groups.find((x) => x.name === 'loop')!;
      assert.ok(g.callsPerSecond > 0 && g.errorPercent > 0 && g.latencyMs.p99 > 0, 'the group figures too');
    } finally {
      await client.close();
      group.close();
      await backend.close();
    }
  });

  it('with circuitBreaker.key per path, the host row shows its open key instead of "closed"', async () => {
    const backend = await startBackend((req, res) => {
      res.statusCode = req.url === '/bad' ? 503 : 200;
      res.end();
    });
    const client = new Client({
      circuitBreaker: {
        key: (req, address) => `${address.host}:${address.port} ${req.method} ${req.path ?? '/'}`,
        minimumRequestThreshold: 3,
        counterUpdateInterval: 20,
      },
    });
    const group = new AddressGroup(staticTarget(backend), { name: 'keyed' });
    try {
      await client.get(group, '/ok');
      // Until the /bad breaker opens (fail fast) — bounded, and about 20 ms of failures in practice.
      let failedFast = false;
      for (let i = 0; i < 500 && !failedFast; i++) {
        try {
          await client.get(group, '/bad');
        } catch (e) {
          failedFast = isXhttpError(e) && e.code === 'FAIL_FAST';
          if (!failedFast) throw e;
        }
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(failedFast, 'the /bad breaker opened');
      assert.equal((await client.get(group, '/ok')).status, 200, 'the /ok key still admits');
      const host = (await firstValueFrom(client.health$)).groups.find((g) => g.name === 'keyed')!.hosts[0]!;
      assert.equal(host.breaker, 'open', 'the host has an open breaker key');
      assert.deepEqual([host.breakerKeys, host.openBreakers], [2, 1]);
    } finally {
      await client.close();
      group.close();
      await backend.close();
    }
  });
});
