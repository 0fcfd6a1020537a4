import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { Client, AddressGroup, type LoadBalancerName } from '../../lib/index.js';
import { seededRandom } from '../../lib/internal/random.js';
import { startBackend, type Backend } from '../helpers/loopback.js';
import { dnsmasqMissing, startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';

/** a.srv.test has two addresses, c and d one each; every backend listens on the same port. */
const IPS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;
const SRV_NAME = '_http._tcp.weights.test';
const CALLS = 1_200;
/** Per-address share tolerance over 1 200 seeded calls: ±0.05 is > 3.5 σ for p = 3/8. */
const TOLERANCE = 0.05;

const skip = dnsmasqMissing();

const ok = (_req: IncomingMessage, res: ServerResponse): void => void res.end('ok');
const unavailable = (_req: IncomingMessage, res: ServerResponse): void => {
  res.statusCode = 503;
  res.end('down');
};

/** One backend per loopback address, all on one port (retrying when that port is taken on .2–.4). */
async function startAll(): Promise<Backend[]> {
  for (let i = 0; i < 10; i++) {
    const first = await startBackend(ok, IPS[0]);
    const rest: Backend[] = [];
    try {
      for (const ip of IPS.slice(1)) rest.push(await startBackend(ok, ip, first.port));
      return [first, ...rest];
    } catch {
      await Promise.all([first, ...rest].map((b) => b.close()));
    }
  }
  throw new Error('no port free on 127.0.0.1-4 after 10 tries');
}

describe(
  'dns+srv through a real dnsmasq: weights per target, priority as a fallback',
  { skip: skip ?? false },
  () => {
    let dns: Dnsmasq;
    let backends: Backend[];

    before(async () => {
      backends = await startAll();
      const port = backends[0]!.port;
      dns = await startDnsmasq({
        hosts: [
          '127.0.0.1 a.srv.test',
          '127.0.0.2 a.srv.test',
          '127.0.0.3 c.srv.test',
          '127.0.0.4 d.srv.test',
        ],
        srv: [
          { name: SRV_NAME, target: 'a.srv.test', port, priority: 10, weight: 3 },
          { name: SRV_NAME, target: 'c.srv.test', port, priority: 10, weight: 1 },
          { name: SRV_NAME, target: 'd.srv.test', port, priority: 20, weight: 1 },
        ],
      });
    });

    after(async () => {
      await dns?.stop();
      await Promise.all((backends ?? []).map((b) => b.close()));
    });

    /** A group on the SRV name with its four addresses resolved. */
    async function srvGroup(loadBalancer: LoadBalancerName): Promise<AddressGroup> {
      const group = new AddressGroup(`dns+srv://${SRV_NAME}`, { dnsServers: [dns.server], loadBalancer });
      await firstValueFrom(
        group.addresses$.pipe(
          filter((l) => l.length === 4),
          timeout(5_000),
        ),
      );
      return group;
    }

    const hits = (): number[] => backends.map((b) => b.hits);

    for (const name of ['p2c-ewma', 'p2c', 'random', 'round-robin', 'weighted-round-robin'] as const) {
      test(`${name}: weights 3:1 with target a behind two addresses give 3/8, 3/8, 1/4; priority 20 idle`, async () => {
        const group = await srvGroup(name);
        const client = new Client({ random: seededRandom(17) });
        try {
          const before = hits();
          for (let i = 0; i < CALLS; i++) assert.equal((await client.get(group, '/')).status, 200);
          const share = hits().map((h, i) => (h - before[i]!) / CALLS);
          const shown = share.map((s) => s.toFixed(3)).join(' / ');
          // RFC 2782 weighs targets: a (two addresses) 3/4, c 1/4, whatever the balancer.
          assert.ok(Math.abs(share[0]! + share[1]! - 3 / 4) <= TOLERANCE, `${name}: target a ${shown}`);
          assert.ok(Math.abs(share[2]! - 1 / 4) <= TOLERANCE, `${name}: target c ${shown}`);
          // Within a target the balancer's own rule splits: even for the load-blind ones. p2c-ewma
          // steers by latency among hosts of equal weight (a sequential client keeps to the faster of
          // a's two addresses, as it would in a plain two-host group), so only its target shares hold.
          if (name !== 'p2c-ewma')
            for (const i of [0, 1]) assert.ok(Math.abs(share[i]! - 3 / 8) <= TOLERANCE, `${name}: ${shown}`);
          assert.equal(share[3], 0, `${name}: the priority-20 target took calls (${shown})`);
        } finally {
          await client.close();
          group.close();
        }
      });
    }

    test('the priority-20 target serves once every priority-10 host is ineligible (breakers open)', async () => {
      const group = await srvGroup('p2c-ewma');
      const client = new Client({
        random: seededRandom(23),
        circuitBreaker: {
          minimumRequestThreshold: 4,
          counterUpdateInterval: 50,
          counterSlidingWindow: 5_000,
          circuitOpenWindow: 60_000,
        },
      });
      let open = new Set<string>();
      const sub = client.breakers$.subscribe((map) => {
        open = new Set([...map].filter(([, s]) => s.state === 'open').map(([key]) => key));
      });
      const port = backends[0]!.port;
      const firstTier = IPS.slice(0, 3).map((ip) => `${ip}:${port}`);
      try {
        for (const b of backends.slice(0, 3)) b.handler = unavailable;
        // Bounded: 503s until all three priority-10 breakers have opened.
        for (let i = 0; i < 2_000 && !firstTier.every((k) => open.has(k)); i++) await client.get(group, '/');
        assert.deepEqual([...open].sort(), firstTier, 'all priority-10 breakers open');
        const before = hits();
        for (let i = 0; i < 100; i++) assert.equal((await client.get(group, '/')).status, 200);
        assert.deepEqual(
          hits().map((h, i) => h - before[i]!),
          [0, 0, 0, 100],
        );
      } finally {
        for (const b of backends) b.handler = ok;
        sub.unsubscribe();
        await client.close();
        group.close();
      }
    });
  },
);
