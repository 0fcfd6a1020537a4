import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { asyncScheduler, firstValueFrom, take, tap, timeout, toArray, type Observable } from 'rxjs';
import { AddressGroup, isXhttpError, type Address } from '../../lib/index.js';
import { addressKey } from '../../lib/events/events.js';
import { createDnsResolver, dnsResolver } from '../../lib/resolver/dns.js';
import { dnsSrvResolver } from '../../lib/resolver/dns-srv.js';
import { dnsTxtResolver } from '../../lib/resolver/dns-txt.js';
import type { ResolveOptions } from '../../lib/types.js';
import { dnsmasqMissing, startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';

/** Generous bound on one answer from a loopback dnsmasq on a busy machine. */
const ANSWER_MS = 5_000;
const LIB = fileURLToPath(new URL('../../lib/index.js', import.meta.url));

const keys = (list: readonly Address[]): string[] => list.map((a) => addressKey(a)).sort();
const first = <T>(o: Observable<T>): Promise<T> => firstValueFrom(o.pipe(timeout(ANSWER_MS)));
/** The error a stream fails with (within the answer bound). */
const failure = (o: Observable<unknown>): Promise<unknown> =>
  firstValueFrom(o.pipe(timeout(ANSWER_MS))).then(
    (v) => assert.fail(`expected an error, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
const code = (e: unknown): string => (isXhttpError(e) ? e.code : `not an XhttpError: ${String(e)}`);

describe('node:dns lookups against a real dnsmasq', { skip: dnsmasqMissing() ?? false }, () => {
  let dns: Dnsmasq;
  let options: ResolveOptions;
  const groups: AddressGroup[] = [];

  before(async () => {
    dns = await startDnsmasq({
      hosts: [
        '127.0.0.1 svc.test',
        '127.0.0.2 svc.test',
        '127.0.0.3 svc.test',
        '127.0.0.1 dual.test',
        '::1 dual.test',
        '::1 six.test',
      ],
      txt: [
        // One record in two strings, split mid-entry: the resolver must join before parsing.
        { name: 'chunks.test', text: ['127.0.0.1:8', '1 127.0.0.2'] },
        { name: 'chunks.test', text: '127.0.0.3' },
        { name: 'junk.test', text: 'not..valid :0 x:y' },
      ],
      srv: [
        { name: '_http._tcp.srv.test', target: 'svc.test', port: 8081, priority: 10, weight: 5 },
        { name: '_http._tcp.srv.test', target: 'six.test', port: 8082, priority: 20, weight: 1 },
        { name: '_http._tcp.gone.test', target: 'nx.test', port: 80, priority: 1, weight: 1 },
      ],
    });
    options = {
      dnsServers: [dns.server],
      minTtl: 100,
      maxTtl: 250,
      scheduler: asyncScheduler,
      random: Math.random,
    };
  });

  after(async () => {
    for (const g of groups) g.close();
    await dns?.stop();
  });

  test('dns://: every A record, with the target port', async () => {
    const list = await first(dnsResolver.resolve(new URL('dns://svc.test:8080'), options));
    assert.deepEqual(keys(list), ['127.0.0.1:8080', '127.0.0.2:8080', '127.0.0.3:8080']);
  });

  test('dns://: A and AAAA together, and AAAA alone', async () => {
    assert.deepEqual(keys(await first(dnsResolver.resolve(new URL('dns://dual.test:80'), options))), [
      '127.0.0.1:80',
      '[::1]:80',
    ]);
    assert.deepEqual(keys(await first(dnsResolver.resolve(new URL('dns://six.test:80'), options))), [
      '[::1]:80',
    ]);
  });

  test('dns://: re-resolved on the (clamped) TTL: the 1 s TTL under maxTtl 250 ms', async () => {
    const times: number[] = [];
    await firstValueFrom(
      dnsResolver.resolve(new URL('dns://svc.test:80'), options).pipe(
        tap(() => times.push(performance.now())),
        take(4),
        toArray(),
        timeout(ANSWER_MS + 1_000),
      ),
    );
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Each gap is the 250 ms period plus one loopback lookup: never below it, and the fastest well
    // under the 1 s TTL dnsmasq reports (unclamped, every gap would be at least 1 000 ms).
    assert.ok(
      gaps.every((g) => g >= 240),
      `gaps ${gaps.map(Math.round).join('/')} ms`,
    );
    assert.ok(Math.min(...gaps) < 900, `gaps ${gaps.map(Math.round).join('/')} ms: the TTL was not clamped`);
  });

  test('dns://: NXDOMAIN fails the stream with NO_ADDRESS, naming the DNS code', async () => {
    const e = await failure(dnsResolver.resolve(new URL('dns://nx.test:80'), options));
    assert.equal(code(e), 'NO_ADDRESS');
    assert.match((e as Error).message, /nx\.test.*ENOTFOUND/);
  });

  test('dns://: an IP literal is emitted without asking DNS (even a dead server)', async () => {
    const dead = { ...options, dnsServers: ['127.0.0.1:1'] };
    const list = await first(dnsResolver.resolve(new URL('dns://127.0.0.9:81'), dead));
    assert.deepEqual(list, [{ host: '127.0.0.9', port: 81 }]);
  });

  test('dns+txt://: chunks joined, records added up, the target port as default', async () => {
    const list = await first(dnsTxtResolver.resolve(new URL('dns+txt://chunks.test:80'), options));
    assert.deepEqual(keys(list), ['127.0.0.1:81', '127.0.0.2:80', '127.0.0.3:80']);
  });

  test('dns+txt://: no valid entry, or no TXT record at all, is a NO_ADDRESS failure', async () => {
    assert.equal(
      code(await failure(dnsTxtResolver.resolve(new URL('dns+txt://junk.test:80'), options))),
      'NO_ADDRESS',
    );
    assert.equal(
      code(await failure(dnsTxtResolver.resolve(new URL('dns+txt://nx.test:80'), options))),
      'NO_ADDRESS',
    );
  });

  test('dns+srv://: targets resolved (A and AAAA), port and priority per record, weight per target', async () => {
    const list = await first(dnsSrvResolver.resolve(new URL('dns+srv://_http._tcp.srv.test'), options));
    const rows = list.map((a) => `${addressKey(a)} p${a.priority} w${a.weight}`).sort();
    // The weight-5 target has three addresses: each carries a third of it.
    assert.deepEqual(rows, [
      `127.0.0.1:8081 p10 w${5 / 3}`,
      `127.0.0.2:8081 p10 w${5 / 3}`,
      `127.0.0.3:8081 p10 w${5 / 3}`,
      '[::1]:8082 p20 w1',
    ]);
  });

  test('dns+srv://: no target resolving is a NO_ADDRESS failure', async () => {
    const e = await failure(dnsSrvResolver.resolve(new URL('dns+srv://_http._tcp.gone.test'), options));
    assert.equal(code(e), 'NO_ADDRESS');
  });

  test('a stopped server (SIGSTOP) fails the lookup with TIMEOUT, bounded by the settings', async () => {
    const quick = createDnsResolver({ lookupTimeout: 400, queryTimeout: 2_000, tries: 2 });
    dns.pause();
    try {
      const t0 = performance.now();
      const e = await failure(quick.resolve(new URL('dns://svc.test:80'), options));
      const took = performance.now() - t0;
      assert.equal(code(e), 'TIMEOUT');
      assert.ok(took >= 350 && took < 2_000, `timed out after ${took} ms`);
    } finally {
      dns.resume();
    }
  });

  test('a malformed dnsServers entry fails with INVALID_ARGUMENT naming the field', async () => {
    const e = await failure(
      dnsResolver.resolve(new URL('dns://svc.test:80'), { ...options, dnsServers: ['not a server'] }),
    );
    assert.equal(code(e), 'INVALID_ARGUMENT');
    assert.equal((e as { field?: string }).field, 'dnsServers');
  });

  test('NXDOMAIN from the start: the group never resolves, failures$ fires, addresses stay empty', async () => {
    const g = new AddressGroup('dns://nx.test:80', { dnsServers: [dns.server], minTtl: 100 });
    groups.push(g);
    const errors: string[] = [];
    const events = g.resolverEvents$.subscribe((e) => {
      if (e.type === 'resolver-error') errors.push(e.errorCode);
    });
    let ready = false;
    void g.ready.then(
      () => (ready = true),
      () => undefined, // close() rejects it: not the point here
    );
    const failures = await first(g.failures$);
    assert.ok(failures >= 1);
    // Past the first back-off (≤ 1 s) the group is still empty: it retried and failed again.
    await new Promise((r) => setTimeout(r, 1_500));
    events.unsubscribe();
    assert.equal(ready, false);
    assert.deepEqual(g.addresses, []);
    assert.ok(errors.length >= 2, `expected a retry after back-off, saw ${errors.length} failure(s)`);
    assert.ok(
      errors.every((c) => c === 'NO_ADDRESS'),
      errors.join(),
    );
  });

  test('closing a group cancels its pending lookup: the process exits at once, not after c-ares timeouts', async () => {
    // In a child process, because only process exit shows a c-ares query still holding the loop.
    dns.pause();
    try {
      const script = `
        import { AddressGroup } from ${JSON.stringify(LIB)};
        const g = new AddressGroup('dns://svc.test:80', { dnsServers: [${JSON.stringify(dns.server)}] });
        let closedAt = 0;
        process.on('exit', () => console.log(JSON.stringify({ lingered: performance.now() - closedAt })));
        setTimeout(() => { g.close(); closedAt = performance.now(); }, 300);
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(killer);
      assert.equal(exitCode, 0, err);
      const { lingered } = JSON.parse(out.trim()) as { lingered: number };
      // Uncancelled, the query would hold the process for its c-ares retries (2 s + 4 s).
      assert.ok(lingered < 1_000, `the process lived ${lingered} ms after close`);
    } finally {
      dns.resume();
    }
  });
});
