import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { firstValueFrom } from 'rxjs';
import { Client, AddressGroup, TimeoutError, XhttpError } from '../../lib/index.js';
import { startBackend } from '../helpers/loopback.js';

function invalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof XhttpError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.field, field, `expected field ${field}, got ${e.field} (${e.message})`);
    return true;
  });
}

test('every invalid ClientConfig field throws INVALID_ARGUMENT naming it', () => {
  const durations = ['requestTimeout', 'connectTimeout', 'headersTimeout', 'bodyTimeout', 'keepAliveTimeout'];
  for (const field of durations) {
    for (const bad of [-1, Number.NaN, Infinity, '10', null])
      invalid(() => new Client({ [field]: bad } as never), field);
  }
  invalid(() => new Client({ requestTimeout: 0 }), 'requestTimeout');
  invalid(() => new Client({ connections: 0 }), 'connections');
  invalid(() => new Client({ connections: 1.5 }), 'connections');
  invalid(() => new Client({ bogus: 1 } as never), 'bogus');
  invalid(() => new Client(JSON.parse('{"__proto__": {"polluted": true}}')), '__proto__');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  invalid(() => new Client({ retryBudget: { ratio: 1.5 } }), 'retryBudget.ratio');
  invalid(() => new Client({ retryBudget: { ratio: -0.1 } }), 'retryBudget.ratio');
  invalid(
    () => new Client({ circuitBreaker: { failureRateThreshold: 2 } }),
    'circuitBreaker.failureRateThreshold',
  );
  invalid(
    () => new Client({ circuitBreaker: { circuitOpenWindow: -5 } }),
    'circuitBreaker.circuitOpenWindow',
  );
  invalid(() => new Client({ circuitBreaker: { nope: 1 } as never }), 'circuitBreaker.nope');
  invalid(() => new Client({ headers: { 'x-a': 'b\r\nc' } }), 'headers.x-a');
  invalid(() => new Client({ metrics: { registry: {} as never } }), 'metrics.registry');
  invalid(() => new Client({ tls: { servername: 5 as never } }), 'tls.servername');
  invalid(() => new Client({ tls: { rejectUnauthorized: false } as never }), 'tls.rejectUnauthorized');
  invalid(() => new Client('x' as never), 'config');
});

test('valid config is accepted, and what it sets (and the defaults it leaves) is what the client does', async () => {
  let seen: IncomingHttpHeaders | undefined;
  // Answers /ok at once (showing the headers sent); /slow never answers.
  const backend = await startBackend((req, res) => {
    if (req.url === '/slow') return;
    seen = req.headers;
    res.end('ok');
  });
  const c = new Client({
    requestTimeout: 1_000,
    circuitBreaker: false,
    retryBudget: false,
    headers: { 'x-team': 'a' },
  });
  const group = new AddressGroup(`static://127.0.0.1:${backend.port}`);
  try {
    const res = await c.get(group, '/ok');
    assert.equal(res.status, 200);
    assert.equal(seen?.['x-team'], 'a', 'the default headers go with every call');
    // requestTimeout is the call's deadline; headersTimeout defaults to it, so the call's phase wins.
    const t0 = performance.now();
    await assert.rejects(c.get(group, '/slow'), (e: unknown) => e instanceof TimeoutError && e.phase === 'call');
    const ms = performance.now() - t0;
    assert.ok(ms >= 900 && ms < 5_000, `the 1 000 ms deadline, not the 30 s default (${ms.toFixed(0)} ms)`);
    // circuitBreaker: false: no breaker to report, hosts show 'off'.
    assert.equal((await firstValueFrom(c.breakers$)).size, 0);
    const health = await firstValueFrom(c.health$);
    const hosts = health.groups.flatMap((g) => g.hosts);
    assert.ok(hosts.length > 0 && hosts.every((h) => h.breaker === 'off'));
  } finally {
    await c.close();
    group.close();
    await backend.close();
  }
});

test('every malformed target throws INVALID_ARGUMENT', () => {
  const bad = [
    '',
    'nohost',
    'static://',
    'static://127.0.0.1',
    'static://127.0.0.1:0',
    'static://127.0.0.1:70000',
    'static://127.0.0.1:80,',
    'static://::1:80',
    'static://[::1:80',
    'static://bad host:80',
    'http://a:1/path',
    'http://user:pw@a:1',
    'dns://',
    'dns://txt:',
    'dns+srv://',
    'dns+srv://a:80',
    'unknownscheme://x',
    'static://a:80\n',
    'x'.repeat(5000),
  ];
  for (const t of bad) invalid(() => new AddressGroup(t), 'target');
  invalid(() => new AddressGroup(42 as never), 'target');
  invalid(
    () => new AddressGroup('static://127.0.0.1:80', { loadBalancer: 'fastest' as never }),
    'options.loadBalancer',
  );
  invalid(() => new AddressGroup('static://127.0.0.1:80', { minTtl: -1 }), 'options.minTtl');
  invalid(() => new AddressGroup('static://127.0.0.1:80', { protocol: 'ftp' as never }), 'options.protocol');
  invalid(() => new AddressGroup('static://127.0.0.1:80', { whatever: 1 } as never), 'options.whatever');
});

test('good targets parse', () => {
  const g = new AddressGroup('static://127.0.0.1:8080,[::1]:8081,localhost:80');
  assert.deepEqual(
    g.addresses.map((a) => [a.host, a.port]),
    [
      ['127.0.0.1', 8080],
      ['::1', 8081],
      ['localhost', 80],
    ],
  );
  g.close();
  const h = new AddressGroup('https://127.0.0.1');
  assert.equal(h.protocol, 'https');
  assert.equal(h.addresses[0]?.port, 443);
  h.close();
});

test('bad call options and requests throw INVALID_ARGUMENT naming the field', async () => {
  const c = new Client();
  const g = new AddressGroup('static://127.0.0.1:9');
  const call = (f: () => Promise<unknown>, field: string) =>
    assert.rejects(
      f,
      (e: unknown) => e instanceof XhttpError && e.code === 'INVALID_ARGUMENT' && e.field === field,
    );
  await call(() => c.get(g, '/', { timeout: -1 }), 'options.timeout');
  await call(() => c.get(g, '/', { retry: { maxAttempts: 0 } }), 'options.retry.maxAttempts');
  await call(() => c.get(g, '/', { responseType: 'blob' as never }), 'options.responseType');
  await call(() => c.get(g, '/', { nope: true } as never), 'options.nope');
  await call(() => c.get(g, 'no-slash'), 'path');
  await call(() => c.request({ url: 'ftp://x/y' }), 'url');
  await call(() => c.request({ url: 'http://u:p@x/y' }), 'url');
  await c.close();
  g.close();
});

/** The message `new Client(config)` throws for `field`, after checking code and field. */
function configMessage(config: Record<string, unknown>, field: string): string {
  try {
    new Client(config as never);
  } catch (e) {
    assert.ok(e instanceof XhttpError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.field, field);
    return e.message;
  }
  assert.fail(`${JSON.stringify(config)} was accepted`);
}

test('timeouts that must be positive tell one story for 0, negatives and non-numbers, with the value', () => {
  for (const field of ['requestTimeout', 'connectTimeout', 'keepAliveTimeout']) {
    for (const [bad, shown] of [
      [-1, '-1'],
      [0, '0'],
      [Number.NaN, 'NaN'],
      ['5000', 'a string'],
    ] as const) {
      assert.equal(
        configMessage({ [field]: bad }, field),
        `invalid ${field}: must be a positive number of milliseconds, at most 2147483647 (got ${shown})`,
      );
    }
  }
});

test('headersTimeout and bodyTimeout take 0 as "no limit", and their message says so', async () => {
  for (const field of ['headersTimeout', 'bodyTimeout']) {
    assert.equal(
      configMessage({ [field]: -1 }, field),
      `invalid ${field}: must be a number of milliseconds from 0 (no limit) to 2147483647 (got -1)`,
    );
    await new Client({ [field]: 0 }).close();
  }
});

test('retry budget and breaker counts say their range and what they got', () => {
  assert.equal(
    configMessage({ retryBudget: { ttl: 500 } }, 'retryBudget.ttl'),
    'invalid retryBudget.ttl: must be a number of milliseconds from 1000 to 60000 (got 500)',
  );
  assert.match(
    configMessage({ retryBudget: { minRetriesPerSecond: -1 } }, 'retryBudget.minRetriesPerSecond'),
    /from 0 up, retries per second \(got -1\)/,
  );
  assert.equal(
    configMessage(
      { circuitBreaker: { minimumRequestThreshold: 2.5 } },
      'circuitBreaker.minimumRequestThreshold',
    ),
    'invalid circuitBreaker.minimumRequestThreshold: must be an integer from 0 up (got 2.5)',
  );
});
