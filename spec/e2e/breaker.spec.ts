import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Client,
  AddressGroup,
  FailFastError,
  type CircuitBreakerConfig,
  type ClientConfig,
  type XResponse,
} from '../../lib/index.js';
import { startBackend, staticTarget, type Backend } from '../helpers/loopback.js';
import { BreakerStates, EventLog, outcome, repeatUntil, sleep } from '../helpers/e2e-util.js';

/** Opens quickly: buckets of 100 ms, 5 results suffice, half a second open, trials every 300 ms. */
const SMALL: CircuitBreakerConfig = {
  counterUpdateInterval: 100,
  counterSlidingWindow: 2_000,
  minimumRequestThreshold: 5,
  circuitOpenWindow: 500,
  trialRequestInterval: 300,
};

function status(code: number) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.statusCode = code;
    res.end(String(code));
  };
}

describe('circuit breakers end to end, on real loopback servers', () => {
  const backends: Backend[] = [];
  const clients: Client[] = [];
  const groups: AddressGroup[] = [];
  const start = async (handler?: (req: IncomingMessage, res: ServerResponse) => void) => {
    const b = await startBackend(handler);
    backends.push(b);
    return b;
  };
  const client = (config?: ClientConfig) => {
    const c = new Client(config);
    clients.push(c);
    return c;
  };
  const group = (...args: ConstructorParameters<typeof AddressGroup>) => {
    const g = new AddressGroup(...args);
    groups.push(g);
    return g;
  };
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const g of groups) g.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  /** Sequential calls (errors swallowed), 20 ms apart, until `key`'s breaker shows `state`. */
  const driveUntil = (states: BreakerStates, key: string, state: string, call: () => Promise<unknown>) =>
    repeatUntil(
      () => outcome(call()),
      () => states.state(key) === state,
      300,
      20,
      `${key} ${state}`,
    );

  test('one failing host: once its breaker is open, calls fail fast: no attempt, no retry, no request', async () => {
    // How fast a fail fast is (CPU per call) is a benchmark figure: bench/micro.ts, bench/RESULTS.md.
    const bad = await start(status(503));
    const c = client({ circuitBreaker: { ...SMALL, circuitOpenWindow: 10_000 } });
    const states = new BreakerStates(c);
    const log = new EventLog(c);
    const g = group(staticTarget(bad));

    await driveUntil(states, bad.hostPort, 'open', () => c.get(g, '/'));
    const hits = bad.hits;
    const startsBefore = log.of('attempt-start').length;
    const retriesBefore = log.of('retry-scheduled').length;

    // Half of them with a retry policy whose back-off would outlast the test: a fail fast is final,
    // it neither retries nor waits.
    const retry = { maxAttempts: 5, backoff: { initialDelay: 60_000, jitter: 'none' as const } };
    for (let i = 0; i < 20; i++) {
      // Settled before the event loop turns: no timer, no socket, nothing waited for.
      const r = await Promise.race([
        outcome(c.get(g, '/', i % 2 === 0 ? { retry, timeout: 120_000 } : undefined)),
        new Promise<'waited'>((resolve) => setImmediate(() => resolve('waited'))),
      ]);
      assert.ok(r !== 'waited', 'the fail fast waited for a timer or I/O');
      assert.ok('code' in r, 'the call failed');
      assert.equal(r.code, 'FAIL_FAST');
      assert.ok(r.error instanceof FailFastError);
      assert.equal(r.error.attempts, 0, 'no attempt was made');
    }
    assert.equal(log.of('retry-scheduled').length, retriesBefore, 'no retry scheduled');
    // client.fetch and request() with redirect 'follow' run through the redirect sink: the same fail fast.
    c.register('bad', g);
    const viaSink: Promise<unknown>[] = [
      c.fetch('http://bad/'),
      c.request({ group: g, path: '/' }, { redirect: 'follow' }),
    ];
    for (const p of viaSink) {
      // client.fetch rejects as fetch does: a TypeError whose cause is the XhttpError.
      const r = await outcome(p.catch((e: unknown) => Promise.reject(e instanceof TypeError ? e.cause : e)));
      assert.ok(typeof r === 'object' && r !== null && 'code' in r, 'the call failed');
      assert.equal(r.code, 'FAIL_FAST');
    }
    assert.equal(bad.hits, hits, 'no request reached the host');
    assert.equal(log.of('attempt-start').length, startsBefore, 'no attempt was even started');
    assert.equal(log.of('fail-fast').length, 22);
    assert.equal(states.state(bad.hostPort), 'open');
    log.stop();
    states.stop();
  });

  test('open → half-open → open on a failed trial, then → half-open → closed when the host recovers, on breakers$', async () => {
    let healthy = false;
    const b = await start((req, res) => (healthy ? res.end('ok') : status(503)(req, res)));
    const c = client({ circuitBreaker: SMALL });
    const states = new BreakerStates(c);
    const log = new EventLog(c);
    const g = group(staticTarget(b));
    const key = b.hostPort;

    await driveUntil(states, key, 'open', () => c.get(g, '/'));
    // Still failing: the first trial after the open window fails and reopens the breaker.
    await repeatUntil(
      () => outcome(c.get(g, '/')),
      () => log.of('breaker-transition').length >= 3,
      300,
      20,
      'a failed trial',
    );
    healthy = true;
    await driveUntil(states, key, 'closed', () => c.get(g, '/'));

    assert.deepEqual(states.states.get(key), ['closed', 'open', 'half-open', 'open', 'half-open', 'closed']);
    const transitions = log.of('breaker-transition').map((e) => `${e.from}→${e.to}`);
    assert.deepEqual(transitions, [
      'closed→open',
      'open→half-open',
      'half-open→open',
      'open→half-open',
      'half-open→closed',
    ]);
    const times = log.of('breaker-transition').map((e) => e.time);
    assert.ok(times[1]! - times[0]! >= 500, 'half-open only after circuitOpenWindow');
    assert.ok(times[3]! - times[2]! >= 500, 'reopened for a whole new window');
    const closed = states.latest.get(key)!;
    assert.equal(closed.total, 0, 'closed with a fresh counter');
    assert.equal(closed.failureRate, 0);
    // Fail-fast while open, and the trial was the only request let through in each half-open spell.
    assert.ok(log.of('fail-fast').length > 0);
    const r = await c.get(g, '/');
    assert.equal(r.status, 200);
    log.stop();
    states.stop();
  });

  test('two hosts, one failing: once its breaker opens every call succeeds (no retry) and it gets no traffic', async () => {
    const bad = await start(status(503));
    const good = await start((_req, res) => res.end('good'));
    const c = client({ circuitBreaker: { ...SMALL, circuitOpenWindow: 10_000 } });
    const states = new BreakerStates(c);
    // Round robin, so the failing host surely gets its share until it opens (p2c-ewma may starve a
    // host whose first answer was slow, and the breaker then never sees enough of it).
    const g = group(staticTarget(bad, good), { loadBalancer: 'round-robin' });

    await driveUntil(states, bad.hostPort, 'open', () => c.get(g, '/'));
    const badHits = bad.hits;
    const goodHits = good.hits;

    const results: XResponse[] = [];
    for (let i = 0; i < 30; i++) results.push(await c.get(g, '/'));
    results.push(...(await Promise.all(Array.from({ length: 30 }, () => c.get(g, '/')))));

    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.attempts, 1);
      assert.equal(r.address.port, good.port);
    }
    assert.equal(bad.hits, badHits, 'the open host got no traffic');
    assert.equal(good.hits, goodHits + 60);
    assert.equal(states.state(bad.hostPort), 'open', 'still open: the window is 10 s');
    assert.equal(states.state(good.hostPort), 'closed');
    states.stop();
  });

  test('two hosts: the one that failed gets its half-open trial after the open window and rejoins once it recovers', async () => {
    let healthy = false;
    const flaky = await start((req, res) => (healthy ? res.end('flaky') : status(503)(req, res)));
    const good = await start((_req, res) => res.end('good'));
    const c = client({ circuitBreaker: SMALL });
    const states = new BreakerStates(c);
    const g = group(staticTarget(flaky, good), { loadBalancer: 'round-robin' });

    await driveUntil(states, flaky.hostPort, 'open', () => c.get(g, '/'));
    healthy = true;
    const hits = flaky.hits;
    // circuitOpenWindow is 500 ms: within 3 s of calls the recovered host must be tried and close.
    await outcome(
      repeatUntil(
        () => c.get(g, '/'),
        () => states.state(flaky.hostPort) === 'closed',
        150,
        20,
      ),
    );
    assert.deepEqual(states.states.get(flaky.hostPort), ['closed', 'open', 'half-open', 'closed']);
    assert.ok(flaky.hits > hits, `the recovered host got ${flaky.hits - hits} requests`);
    states.stop();
  });

  test('a custom key per path: one path opens, the other path of the same host keeps working', async () => {
    const hits = { '/bad': 0, '/good': 0 };
    const b = await start((req, res) => {
      const path = req.url as keyof typeof hits;
      hits[path]++;
      if (path === '/bad') status(503)(req, res);
      else res.end('good');
    });
    const c = client({
      circuitBreaker: {
        ...SMALL,
        circuitOpenWindow: 10_000,
        key: (req, a) => `${a.host}:${a.port}${req.path ?? ''}`,
      },
    });
    const states = new BreakerStates(c);
    const log = new EventLog(c);
    const g = group(staticTarget(b));
    const badKey = `${b.hostPort}/bad`;
    const goodKey = `${b.hostPort}/good`;

    await driveUntil(states, badKey, 'open', async () => {
      await c.get(g, '/bad');
      assert.equal((await c.get(g, '/good')).status, 200);
    });
    const badHits = hits['/bad'];

    for (let i = 0; i < 10; i++) {
      const r = await outcome(c.get(g, '/bad?q=1'));
      assert.equal('code' in r && r.code, 'FAIL_FAST', 'the query is not part of the key');
      assert.equal((await c.get(g, '/good')).status, 200);
    }
    assert.equal(hits['/bad'], badHits, 'the open path got no request');
    assert.equal(states.state(badKey), 'open');
    assert.equal(states.state(goodKey), 'closed');
    assert.equal(states.latest.has(b.hostPort), false, 'no host-wide breaker exists');
    assert.ok(log.of('attempt-end').every((e) => e.breakerKey === badKey || e.breakerKey === goodKey));
    log.stop();
    states.stop();
  });

  test('a custom isFailure that counts 404 opens the breaker on 404s', async () => {
    const b = await start(status(404));
    const c = client({
      circuitBreaker: {
        ...SMALL,
        circuitOpenWindow: 10_000,
        isFailure: (o) => o.response?.status === 404 || o.error !== undefined,
      },
    });
    const states = new BreakerStates(c);
    const g = group(staticTarget(b));
    await driveUntil(states, b.hostPort, 'open', () => c.get(g, '/missing'));
    const hits = b.hits;
    const r = await outcome(c.get(g, '/missing'));
    assert.equal('code' in r && r.code, 'FAIL_FAST');
    assert.equal(b.hits, hits);
    states.stop();
  });

  test('a custom isFailure that calls 503 a success keeps the breaker closed where the default opens it', async () => {
    const b = await start(status(503));
    const lenient = client({
      circuitBreaker: {
        ...SMALL,
        isFailure: (o) => (o.response ? o.response.status >= 500 && o.response.status !== 503 : true),
      },
    });
    const strict = client({ circuitBreaker: SMALL });
    const lenientStates = new BreakerStates(lenient);
    const strictStates = new BreakerStates(strict);
    const log = new EventLog(lenient);
    const g = group(staticTarget(b));

    const t0 = performance.now();
    for (let i = 0; i < 100 && performance.now() - t0 < 600; i++) {
      assert.equal((await lenient.get(g, '/')).status, 503);
      await outcome(strict.get(g, '/'));
      await sleep(10);
    }

    assert.deepEqual(lenientStates.states.get(b.hostPort), ['closed']);
    const snap = lenientStates.latest.get(b.hostPort)!;
    assert.ok(snap.total >= 5, `the window counted ${snap.total} results`);
    assert.equal(snap.failureRate, 0);
    assert.equal(log.of('fail-fast').length, 0);
    assert.ok(log.of('attempt-end').every((e) => e.verdict === 'success'));
    assert.ok(strictStates.states.get(b.hostPort)!.includes('open'), 'the default classifier opened it');
    log.stop();
    lenientStates.stop();
    strictStates.stop();
  });

  test('circuitBreaker: false: an always failing host is never failed fast and breakers$ stays empty', async () => {
    const b = await start(status(503));
    const c = client({ circuitBreaker: false });
    const states = new BreakerStates(c);
    const log = new EventLog(c);
    const g = group(staticTarget(b));

    const t0 = performance.now();
    let calls = 0;
    while (calls < 200 && performance.now() - t0 < 600) {
      assert.equal((await c.get(g, '/')).status, 503);
      calls++;
      await sleep(5);
    }
    const burst = await Promise.all(Array.from({ length: 50 }, () => c.get(g, '/')));
    calls += burst.length;
    for (const r of burst) assert.equal(r.status, 503);

    assert.equal(b.hits, calls);
    assert.equal(log.of('fail-fast').length, 0);
    assert.equal(log.of('breaker-transition').length, 0);
    assert.ok(log.of('attempt-end').every((e) => e.verdict === 'ignored'));
    assert.ok(states.sizes.length >= 1);
    assert.ok(
      states.sizes.every((n) => n === 0),
      'breakers$ never holds an entry',
    );
    log.stop();
    states.stop();
  });
});
