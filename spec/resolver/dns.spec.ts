import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { Client, AddressGroup, isXhttpError, type Address } from '../../lib/index.js';
import { addressKey } from '../../lib/events/events.js';
import { startBackend, waitFor, type Backend } from '../helpers/loopback.js';
import { dnsmasqMissing, startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';

const IPS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;
/** Names whose A records list all three loopback addresses at the start. */
const NAMES = ['svc.test', 'change.test', 'drop.test', 'a.srv.test', 'b.srv.test'] as const;
const MIN_TTL = 200;

const skip = dnsmasqMissing();

/** One backend per loopback address, all on one port (retrying when that port is taken on .2/.3). */
async function startTrio(): Promise<Backend[]> {
  for (let i = 0; i < 10; i++) {
    const first = await startBackend((_req, res) => res.end('ok'), IPS[0]);
    const rest: Backend[] = [];
    try {
      for (const ip of IPS.slice(1))
        rest.push(await startBackend((_req, res) => res.end('ok'), ip, first.port));
      return [first, ...rest];
    } catch {
      await Promise.all([first, ...rest].map((b) => b.close()));
    }
  }
  throw new Error('no port free on 127.0.0.1-3 after 10 tries');
}

const keys = (list: readonly Address[]): string[] => list.map((a) => addressKey(a)).sort();

describe('DNS resolvers against a real dnsmasq', { skip: skip ?? false }, () => {
  let dns: Dnsmasq;
  let backends: Backend[];
  let port: number;
  const hosts = new Map<string, readonly string[]>(NAMES.map((n) => [n, IPS]));
  const groups: AddressGroup[] = [];
  const clients: Client[] = [];

  const hostLines = (): string[] => [...hosts].flatMap(([name, ips]) => ips.map((ip) => `${ip} ${name}`));
  const group = (target: string, extra: Partial<ConstructorParameters<typeof AddressGroup>[1]> = {}) => {
    const g = new AddressGroup(target, {
      dnsServers: [dns.server],
      minTtl: MIN_TTL,
      loadBalancer: 'round-robin',
      ...extra,
    });
    groups.push(g);
    return g;
  };
  const client = (config: ConstructorParameters<typeof Client>[0] = {}) => {
    const c = new Client(config);
    clients.push(c);
    return c;
  };
  const hitsOf = () => backends.map((b) => b.hits);

  before(async () => {
    backends = await startTrio();
    port = backends[0]!.port;
    dns = await startDnsmasq({
      hosts: hostLines(),
      txt: [{ name: 'hosts.test', text: `127.0.0.1:${port} 127.0.0.2:${port},127.0.0.3 not..valid:x,:0` }],
      srv: [
        { name: '_http._tcp.srv.test', target: 'a.srv.test', port, priority: 10, weight: 60 },
        { name: '_http._tcp.srv.test', target: 'b.srv.test', port: 1, priority: 20, weight: 30 },
      ],
    });
  });

  after(async () => {
    dns?.resume();
    for (const g of groups) g.close();
    await Promise.all(clients.map((c) => c.close()));
    await dns?.stop();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  test('A records: addresses$ lists all three; 30 calls reach every backend', async () => {
    const g = group(`dns://svc.test:${port}`);
    const list = await firstValueFrom(g.addresses$.pipe(timeout(5_000)));
    assert.deepEqual(
      keys(list),
      IPS.map((ip) => `${ip}:${port}`),
    );
    const c = client();
    const before = hitsOf();
    for (let i = 0; i < 30; i++) assert.equal((await c.get(g, '/')).status, 200);
    const delta = hitsOf().map((h, i) => h - before[i]!);
    assert.equal(
      delta.reduce((a, b) => a + b, 0),
      30,
    );
    for (const d of delta) assert.ok(d >= 5, `uneven spread ${delta.join('/')}`);
  });

  test('a record change (hosts file rewritten, SIGHUP) reaches addresses$ within a few TTLs', async () => {
    const g = group(`dns://change.test:${port}`);
    await firstValueFrom(g.addresses$.pipe(timeout(5_000)));
    assert.equal(g.addresses.length, 3);
    const t0 = performance.now();
    hosts.set('change.test', IPS.slice(0, 2));
    dns.setHosts(hostLines());
    const next = await firstValueFrom(
      g.addresses$.pipe(
        filter((l) => l.length === 2),
        timeout(5_000),
      ),
    );
    assert.deepEqual(keys(next), [`127.0.0.1:${port}`, `127.0.0.2:${port}`]);
    assert.ok(performance.now() - t0 < 5_000);
  });

  test('TXT: hosts parsed (space and comma separated, default port, malformed entries skipped)', async () => {
    const g = group(`dns://txt:hosts.test:${port}`);
    const list = await firstValueFrom(g.addresses$.pipe(timeout(5_000)));
    assert.deepEqual(
      keys(list),
      IPS.map((ip) => `${ip}:${port}`),
    );
    const res = await client().get(g, '/');
    assert.equal(res.status, 200);
  });

  test("SRV: port and priority of each record, its weight shared by the target's A records", async () => {
    const g = group('dns+srv://_http._tcp.srv.test');
    const list = await firstValueFrom(g.addresses$.pipe(timeout(5_000)));
    const rows = list.map((a) => `${a.host}:${a.port}/${a.priority}/${a.weight}`).sort();
    assert.deepEqual(
      rows,
      // Three addresses per target: each carries a third of the record's weight.
      [...IPS.map((ip) => `${ip}:${port}/10/20`), ...IPS.map((ip) => `${ip}:1/20/10`)].sort(),
    );
  });

  test('NXDOMAIN from the start: a call fails with NO_ADDRESS well within its deadline', async () => {
    const g = group(`dns://nx.test:${port}`);
    const c = client();
    const t0 = performance.now();
    await assert.rejects(c.get(g, '/', { timeout: 5_000 }), (e: unknown) => {
      assert.ok(isXhttpError(e));
      assert.equal(e.code, 'NO_ADDRESS');
      return true;
    });
    assert.ok(performance.now() - t0 < 4_000, `took ${performance.now() - t0} ms`);
  });

  test("a removed host's keep-alive connections are closed", async () => {
    for (const b of backends) b.server.keepAliveTimeout = 60_000;
    const c = client({ keepAliveTimeout: 60_000 });
    const g = group(`dns://drop.test:${port}`);
    await firstValueFrom(g.addresses$.pipe(timeout(5_000)));
    // Only this client's connections count (earlier specs' clients may still hold some).
    const opened = new Set<Socket>();
    backends[2]!.server.on('connection', (s: Socket) => opened.add(s));
    for (let i = 0; i < 9; i++) assert.equal((await c.get(g, '/')).status, 200);
    assert.ok(opened.size > 0, 'no connection reached 127.0.0.3');
    assert.ok(
      [...opened].some((s) => !s.destroyed),
      'keep-alive connection already closed',
    );

    hosts.set('drop.test', IPS.slice(0, 2));
    dns.setHosts(hostLines());
    await firstValueFrom(
      g.addresses$.pipe(
        filter((l) => l.length === 2),
        timeout(5_000),
      ),
    );
    const t0 = performance.now();
    await waitFor(() => [...opened].every((s) => s.destroyed || s.closed), 2_000);
    assert.ok(performance.now() - t0 < 2_000);
  });

  test('DNS server stopped (SIGSTOP): the last good list stays and calls keep succeeding', async () => {
    const g = group(`dns://svc.test:${port}`);
    await firstValueFrom(g.addresses$.pipe(timeout(5_000)));
    const good = keys(g.addresses);
    const c = client();
    const errors: string[] = [];
    const sub = g.resolverEvents$.subscribe((e) => {
      if (e.type === 'resolver-error') errors.push(e.errorCode);
    });
    dns.pause();
    try {
      // A refresh is due within one TTL (1 s); it then times out (≤ 5 s lookup bound).
      await waitFor(() => errors.length > 0, 10_000, 50);
      assert.deepEqual(keys(g.addresses), good);
      for (let i = 0; i < 9; i++) assert.equal((await c.get(g, '/', { timeout: 2_000 })).status, 200);
    } finally {
      dns.resume();
      sub.unsubscribe();
    }
    assert.deepEqual(keys(g.addresses), good);
  });
});
