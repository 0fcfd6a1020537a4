import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Client, AddressGroup, type XResponse } from '../../lib/index.js';
import { readBody, startBackend, staticTarget, waitFor, type Backend } from '../helpers/loopback.js';
import { EventLog, closedPort, outcome, preferPort } from '../helpers/e2e-util.js';

/** Answers 200 with its name, and echoes the attempt header it saw. */
function named(name: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-backend', name);
    res.setHeader('x-seen-attempt', String(req.headers['x-rxhttp-attempt'] ?? ''));
    res.end(name);
  };
}

function status(code: number, headers: Record<string, string> = {}) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(code, headers);
    res.end(String(code));
  };
}

describe('retries end to end, on real loopback servers', () => {
  const backends: Backend[] = [];
  const clients: Client[] = [];
  const groups: AddressGroup[] = [];
  const start = async (handler?: (req: IncomingMessage, res: ServerResponse) => void) => {
    const b = await startBackend(handler);
    backends.push(b);
    return b;
  };
  const client = (config?: ConstructorParameters<typeof Client>[0]) => {
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

  test('503 on one host, then success on the other with maxAttempts 2; the retry carries x-rxhttp-attempt: 2', async () => {
    const bad = await start(status(503));
    const good = await start(named('good'));
    const c = client();
    const log = new EventLog(c);
    const g = group(staticTarget(bad, good), { loadBalancer: preferPort(bad.port) });

    const res = await c.get(g, '/item', { retry: { maxAttempts: 2 } });

    assert.equal(res.status, 200);
    assert.equal(await res.body.text(), 'good');
    assert.equal(res.attempts, 2);
    assert.equal(res.address.port, good.port, 'the response came from the other host');
    assert.equal(res.headers['x-seen-attempt'], '2');
    assert.equal(good.lastHeaders?.['x-rxhttp-attempt'], '2');
    assert.equal(bad.hits, 1);
    assert.equal(
      bad.lastHeaders?.['x-rxhttp-attempt'],
      undefined,
      'the first attempt carries no attempt header',
    );
    const starts = log.of('attempt-start');
    assert.deepEqual(
      starts.map((e) => e.address.port),
      [bad.port, good.port],
    );
    const [scheduled] = log.of('retry-scheduled');
    assert.equal(scheduled?.reason, '503');
    assert.equal(scheduled?.delayReason, 'backoff');
    log.stop();
  });

  test('503 then success, 20 calls through the default balancer: every call ends 200 from the live host', async () => {
    const bad = await start(status(503));
    const good = await start(named('good'));
    const c = client();
    const g = group(staticTarget(bad, good));
    const results: XResponse[] = [];
    for (let i = 0; i < 20; i++) results.push(await c.get(g, '/', { retry: { maxAttempts: 2 } }));
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.address.port, good.port);
      assert.equal(r.headers['x-seen-attempt'], r.attempts === 2 ? '2' : '');
    }
    assert.equal(results.filter((r) => r.attempts === 2).length, bad.hits);
  });

  test('retryOn a custom status (429) with Retry-After: 1 waits about a second, reason retry-after', async () => {
    let n = 0;
    const b = await start((req, res) => {
      if (n++ === 0) status(429, { 'retry-after': '1' })(req, res);
      else named('later')(req, res);
    });
    const c = client();
    const log = new EventLog(c);
    const g = group(staticTarget(b));

    const res = await c.get(g, '/', {
      retry: { maxAttempts: 3, retryOn: (o) => o.response?.status === 429 },
    });

    assert.equal(res.status, 200);
    assert.equal(res.attempts, 2);
    const retries = log.of('retry-scheduled');
    assert.equal(retries.length, 1);
    assert.equal(retries[0]!.delayReason, 'retry-after');
    assert.equal(retries[0]!.reason, '429');
    assert.equal(retries[0]!.delayMs, 1_000);
    const [first, second] = log.of('attempt-start');
    const gap = second!.time - first!.time;
    assert.ok(gap >= 950, `second attempt started ${gap} ms after the first`);
    log.stop();
  });

  test('a Retry-After beyond the call deadline is not waited for: the call ends at once with the 503', async () => {
    const b = await start(status(503, { 'retry-after': '5' }));
    const c = client();
    const log = new EventLog(c);
    const g = group(staticTarget(b));

    const t0 = performance.now();
    const res = await c.get(g, '/', { timeout: 2_000, retry: { maxAttempts: 3 } });
    const took = performance.now() - t0;

    assert.equal(res.status, 503);
    assert.equal(res.attempts, 1);
    assert.equal(b.hits, 1);
    assert.ok(took < 1_500, `ended after ${took.toFixed(0)} ms, without waiting`);
    assert.deepEqual(
      log.of('retry-refused').map((e) => e.reason),
      ['deadline'],
    );
    assert.equal(log.of('retry-scheduled').length, 0);
    log.stop();
  });

  test('retryOn a custom status (418) is retried with back-off; the default retryOn leaves 418 alone', async () => {
    let n = 0;
    const b = await start((req, res) => {
      if (n++ % 2 === 0) status(418)(req, res);
      else named('tea')(req, res);
    });
    const c = client();
    const log = new EventLog(c);
    const g = group(staticTarget(b));

    const retried = await c.get(g, '/', {
      retry: { maxAttempts: 2, retryOn: (o) => o.response?.status === 418 },
    });
    assert.equal(retried.status, 200);
    assert.equal(retried.attempts, 2);
    assert.deepEqual(
      log.of('retry-scheduled').map((e) => [e.reason, e.delayReason]),
      [['418', 'backoff']],
    );

    const plain = await c.get(g, '/', { retry: { maxAttempts: 2 } });
    assert.equal(plain.status, 418);
    assert.equal(plain.attempts, 1);
    assert.equal(b.hits, 3);
    log.stop();
  });

  test('POST is not retried on 503 by default, and is with retryNonIdempotent (body sent again)', async () => {
    const bodies: string[] = [];
    let failNext = true;
    const b = await start((req, res) => {
      void readBody(req).then((body) => {
        bodies.push(body);
        if (failNext) {
          failNext = false;
          status(503)(req, res);
        } else named('posted')(req, res);
      });
    });
    const c = client();
    const log = new EventLog(c);
    const g = group(staticTarget(b));

    const refused = await c.post(g, '/orders', 'text/plain', 'order-1', { retry: { maxAttempts: 3 } });
    assert.equal(refused.status, 503);
    assert.equal(refused.attempts, 1);
    assert.equal(b.hits, 1);
    assert.equal(log.of('retry-scheduled').length, 0);

    failNext = true;
    const res = await c.post(g, '/orders', 'text/plain', 'order-2', {
      retry: { maxAttempts: 3, retryNonIdempotent: true },
    });
    assert.equal(res.status, 200);
    assert.equal(res.attempts, 2);
    assert.equal(b.hits, 3);
    assert.deepEqual(bodies, ['order-1', 'order-2', 'order-2']);
    assert.equal(b.lastHeaders?.['x-rxhttp-attempt'], '2');
    log.stop();
  });

  test('a hung attempt is cut by timeoutPerAttempt and the call succeeds on the other host', async () => {
    const hung = await start(() => {
      /* never answers */
    });
    const good = await start(named('good'));
    const c = client();
    const log = new EventLog(c);
    const g = group(staticTarget(hung, good), { loadBalancer: preferPort(hung.port) });

    const t0 = performance.now();
    const res = await c.get(g, '/', { retry: { maxAttempts: 2, timeoutPerAttempt: 300 } });
    const took = performance.now() - t0;

    assert.equal(res.status, 200);
    assert.equal(res.attempts, 2);
    assert.equal(res.address.port, good.port);
    assert.ok(took >= 290, `the hung attempt was given its 300 ms (took ${took.toFixed(0)} ms)`);
    const ends = log.of('attempt-end');
    assert.equal(ends[0]?.address.port, hung.port);
    assert.equal(ends[0]?.errorCode, 'TIMEOUT');
    assert.equal(ends[0]?.timeoutPhase, 'attempt');
    assert.equal(log.of('retry-scheduled')[0]?.reason, 'timeout');
    // The cut attempt's request was aborted on the wire, not left hanging on the server.
    await waitFor(() => hung.aborted === 1);
    log.stop();
  });

  test('connection refused is retried transparently with no retry option, GET and POST alike', async () => {
    const port = await closedPort();
    const live = await start(named('live'));
    const c = client();
    const log = new EventLog(c);
    // Round robin alternates the closed port and the live one as first pick.
    const g = group(`static://127.0.0.1:${port},${live.hostPort}`, { loadBalancer: 'round-robin' });

    const results: XResponse[] = [];
    for (let i = 0; i < 10; i++) results.push(await c.get(g, '/'));
    for (let i = 0; i < 4; i++) results.push(await c.post(g, '/', 'text/plain', 'x'));

    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.address.port, live.port);
    }
    const transparent = log.of('retry-scheduled');
    assert.ok(transparent.length >= 3, `${transparent.length} transparent retries`);
    for (const e of transparent) {
      assert.equal(e.delayReason, 'transparent');
      assert.equal(e.reason, 'connect');
      assert.equal(e.delayMs, 0);
    }
    assert.equal(results.filter((r) => r.attempts === 2).length, transparent.length);
    const refused = log.of('attempt-end').filter((e) => e.address.port === port);
    assert.equal(refused.length, transparent.length);
    for (const e of refused) assert.equal(e.errorCode, 'CONNECT');
    assert.equal(live.hits, results.length);
    log.stop();
  });

  test('a refused connection keeps its transparent retry when a retry option is given and the budget is empty', async () => {
    const port = await closedPort();
    const live = await start(named('live'));
    // A budget that grants nothing: ratio 0 and no minimum.
    const c = client({ retryBudget: { ratio: 0, minRetriesPerSecond: 0 } });
    const log = new EventLog(c);
    const g = group(`static://127.0.0.1:${port},${live.hostPort}`, { loadBalancer: preferPort(port) });

    // Without a retry option the refused connection is retried transparently…
    const bare = await c.get(g, '/');
    assert.equal(bare.status, 200);
    assert.equal(bare.attempts, 2);
    // …and asking for retries must not make the call less resilient: the transparent retry does not
    // draw on the budget, so an empty budget cannot take it away.
    log.clear();
    const res = await outcome(c.get(g, '/', { retry: { maxAttempts: 3 } }));
    assert.equal(
      (res as XResponse).status,
      200,
      `call ended with ${JSON.stringify((res as { code?: string }).code)}`,
    );
    assert.ok(log.of('retry-scheduled').some((e) => e.delayReason === 'transparent'));
    log.stop();
  });

  test('a reset mid-body is retried for GET and the second attempt returns the whole body', async () => {
    const full = 'y'.repeat(1000);
    let resets = 0;
    const b = await start((req, res) => {
      if (resets === 0) {
        resets++;
        res.writeHead(200, { 'content-length': String(full.length) });
        res.write(full.slice(0, 100));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      res.end(full);
    });
    const c = client();
    const log = new EventLog(c);
    const g = group(staticTarget(b));

    const res = await c.get(g, '/big', { retry: { maxAttempts: 2, backoff: { initialDelay: 10 } } });

    assert.equal(res.status, 200);
    assert.equal(res.attempts, 2);
    assert.equal(await res.body.text(), full);
    assert.equal(b.hits, 2);
    assert.equal(log.of('attempt-end')[0]?.errorCode, 'RESET');
    assert.equal(log.of('retry-scheduled')[0]?.reason, 'reset');
    log.stop();
  });

  test('against a server that always fails, 200 concurrent calls with maxAttempts 5 send at most 200 × 1.2 + 100 requests', async () => {
    const CALLS = 200;
    const LIMIT = CALLS * 1.2 + 10 * 10; // ratio 0.2 plus minRetriesPerSecond 10 × ttl 10 s
    const b = await start(status(503));
    // Breakers off: a breaker opening would cut the retries and hide what the budget does.
    const c = client({ circuitBreaker: false });
    const log = new EventLog(c);
    const g = group(staticTarget(b));

    const results = await Promise.all(
      Array.from({ length: CALLS }, () =>
        c.get(g, '/', { retry: { maxAttempts: 5, backoff: { initialDelay: 20, maxDelay: 200 } } }),
      ),
    );

    for (const r of results)
      assert.equal(r.status, 503, 'a refused retry ends the call with its last outcome');
    const refusals = log.of('retry-refused');
    const scheduled = log.of('retry-scheduled');
    assert.ok(b.hits <= LIMIT, `${b.hits} requests reached the server (limit ${LIMIT})`);
    assert.ok(b.hits >= CALLS, 'every call reached the server once');
    assert.equal(b.hits, CALLS + scheduled.length);
    assert.ok(refusals.length > 0, 'the budget refused retries');
    for (const e of refusals) assert.equal(e.reason, 'budget');
    // Each call ends either by a refusal or by exhausting its 5 attempts.
    const exhausted = results.filter((r) => r.attempts === 5).length;
    assert.equal(refusals.length + exhausted, CALLS);
    console.log(
      `# budget: ${b.hits} requests for ${CALLS} calls (limit ${LIMIT}), ${scheduled.length} retries, ${refusals.length} refusals`,
    );
    log.stop();
  });
});
