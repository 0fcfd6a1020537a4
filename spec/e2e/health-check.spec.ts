import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { firstValueFrom, filter } from 'rxjs';
import type { HealthCheckEvent } from '../../lib/events/events.js';
import { AddressGroup, Client, type ClientHealth } from '../../lib/index.js';
import { startBackend, staticTarget, waitFor, type Backend } from '../helpers/loopback.js';

// End to end on real loopback servers: a host whose /health fails stops receiving calls within
// interval × unhealthyThreshold plus one interval, and gets them back once /health recovers.

const INTERVAL = 500;
const UNHEALTHY = 3;
const HEALTHY = 2;
/** Calls are sent one after another with this pause: bounded, about 60 calls a second. */
const PACE_MS = 15;

interface Host {
  backend: Backend;
  healthy: boolean;
  /** Times (performance.now()) of the calls (not probes) the host received. */
  calls: number[];
  probes: number;
}

async function host(): Promise<Host> {
  const h = { healthy: true, calls: [] as number[], probes: 0 } as Host;
  h.backend = await startBackend((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health') {
      h.probes++;
      res.statusCode = h.healthy ? 200 : 503;
      res.end();
      return;
    }
    h.calls.push(performance.now());
    res.end('ok');
  });
  return h;
}

/** Sends calls one after another until `stop()` is true or `maxCalls` were made (a bounded loop). */
async function traffic(client: Client, group: AddressGroup, stop: () => boolean, maxCalls = 2_000) {
  for (let i = 0; i < maxCalls && !stop(); i++) {
    const res = await client.get(group, '/work');
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, PACE_MS));
  }
}

describe('health checks end to end', () => {
  it('a host failing /health stops receiving calls within interval × unhealthyThreshold + interval, and gets them back after it recovers', async () => {
    const a = await host();
    const b = await host();
    const client = new Client({ requestTimeout: 5_000 });
    const group = new AddressGroup(staticTarget(a.backend, b.backend), {
      name: 'svc',
      loadBalancer: 'round-robin',
      healthCheck: {
        path: '/health',
        interval: INTERVAL,
        timeout: 200,
        unhealthyThreshold: UNHEALTHY,
        healthyThreshold: HEALTHY,
      },
    });
    const checks: HealthCheckEvent[] = [];
    client.events$.subscribe((e) => {
      if (e.type === 'health-check') checks.push(e);
    });
    try {
      // Healthy: both hosts take calls, both are probed, and the client has seen A pass. (The server
      // counts a probe when it arrives, before the client has read the answer: waiting on the
      // server's count alone raced the event under load.)
      const aPassing = () =>
        checks.some((e) => e.key === a.backend.hostPort && e.ok && e.health === 'passing');
      await traffic(
        client,
        group,
        () => a.calls.length >= 10 && b.calls.length >= 10 && a.probes >= 2 && b.probes >= 2 && aPassing(),
      );
      assert.ok(aPassing());

      a.healthy = false;
      const brokeAt = performance.now();
      const bound = INTERVAL * UNHEALTHY + INTERVAL;
      // Run traffic past the bound and a while longer, then look at when A took its last call.
      await traffic(client, group, () => performance.now() - brokeAt > bound + 1_500);
      const last = Math.max(...a.calls);
      const stoppedAfter = last - brokeAt;
      console.log(
        `# host stopped receiving calls ${Math.round(stoppedAfter)} ms after /health failed (bound ${bound} ms)`,
      );
      assert.ok(
        stoppedAfter <= bound,
        `A took calls ${Math.round(stoppedAfter)} ms after failing, bound ${bound}`,
      );
      const aKey = a.backend.hostPort;
      assert.equal(group.isHealthy(group.addresses.find((x) => `${x.host}:${x.port}` === aKey)!), false);
      const view = await firstValueFrom(
        client.health$.pipe(
          filter((v: ClientHealth) => v.groups[0]?.hosts.some((r) => r.healthCheck === 'failing') ?? false),
        ),
      );
      assert.deepEqual(
        view.groups[0]!.hosts.map((r) => [r.key, r.healthCheck]),
        [
          [aKey, 'failing'],
          [b.backend.hostPort, 'passing'],
        ],
      );
      const failed = checks.filter((e) => e.key === aKey && !e.ok);
      assert.ok(failed.length >= UNHEALTHY && failed.every((e) => e.status === 503));

      // Recovery: A passes /health again and gets calls back.
      const before = a.calls.length;
      a.healthy = true;
      const recoveredAt = performance.now();
      await traffic(client, group, () => a.calls.length >= before + 10);
      const back = a.calls[before]! - recoveredAt;
      console.log(`host received calls again ${Math.round(back)} ms after /health recovered`);
      assert.ok(back <= INTERVAL * HEALTHY + INTERVAL, `calls back after ${Math.round(back)} ms`);
    } finally {
      await client.close();
      group.close();
      await a.backend.close();
      await b.backend.close();
    }
  });

  it('without healthCheck the same host keeps receiving calls (the feature off)', async () => {
    const a = await host();
    const b = await host();
    const client = new Client({ requestTimeout: 5_000 });
    const group = new AddressGroup(staticTarget(a.backend, b.backend), { loadBalancer: 'round-robin' });
    try {
      a.healthy = false;
      const brokeAt = performance.now();
      await traffic(client, group, () => performance.now() - brokeAt > INTERVAL * UNHEALTHY + INTERVAL + 500);
      assert.ok(Math.max(...a.calls) - brokeAt > INTERVAL * UNHEALTHY + INTERVAL);
      assert.equal(a.probes, 0);
    } finally {
      await client.close();
      group.close();
      await a.backend.close();
      await b.backend.close();
    }
  });

  it('when every host fails its health checks, calls still go to all of them rather than fail', async () => {
    const a = await host();
    const b = await host();
    a.healthy = false;
    b.healthy = false;
    const client = new Client({ requestTimeout: 5_000 });
    const group = new AddressGroup(staticTarget(a.backend, b.backend), {
      loadBalancer: 'round-robin',
      healthCheck: { path: '/health', interval: 100, unhealthyThreshold: 2 },
    });
    try {
      client.register('svc', group);
      await waitFor(() => group.unhealthyHosts === 2);
      await traffic(client, group, () => a.calls.length >= 5 && b.calls.length >= 5, 200);
      assert.ok(a.calls.length >= 5 && b.calls.length >= 5, 'both hosts still serve');
    } finally {
      await client.close();
      group.close();
      await a.backend.close();
      await b.backend.close();
    }
  });

  it('client.close() stops the probes; group.close() too', async () => {
    const a = await host();
    const client = new Client();
    const group = new AddressGroup(staticTarget(a.backend), {
      healthCheck: { path: '/health', interval: 100 },
    });
    client.register('svc', group);
    await waitFor(() => a.probes >= 2);
    await client.close();
    const seen = a.probes;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(a.probes, seen, 'no probe after client.close()');
    const other = new Client();
    other.register('svc', group);
    await waitFor(() => a.probes > seen);
    group.close();
    const atClose = a.probes;
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(a.probes <= atClose + 1, 'no probe after group.close() (one in flight may land)');
    await other.close();
    await a.backend.close();
  });
});
