import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Client,
  AddressGroup,
  FailFastError,
  XhttpError,
  type BreakerSnapshot,
  type CircuitBreakerConfig,
  type ClientConfig,
  type ManualTransition,
} from '../../lib/index.js';
import { startBackend, staticTarget, type Backend } from '../helpers/loopback.js';
import { EventLog, outcome, repeatUntil } from '../helpers/e2e-util.js';

// client.breakers: manual control of the keyed breakers, seen by what real loopback servers receive
// and on breakers$ / events$.

/** Opens after 5 results in 100 ms buckets, and stays open for the whole test once open. */
const SMALL: CircuitBreakerConfig = {
  counterUpdateInterval: 100,
  counterSlidingWindow: 2_000,
  minimumRequestThreshold: 5,
  circuitOpenWindow: 60_000,
  trialRequestInterval: 60_000,
};

function status(code: number) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.statusCode = code;
    res.end(String(code));
  };
}

/** The fields a manual transition adds to a `breaker-transition` event. */
const manual = (e: object): ManualTransition => e as ManualTransition;

describe('client.breakers: forceOpen, forceClose and reset per key, on real loopback servers', () => {
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
  const group = (...backendsOf: Backend[]) => {
    const g = new AddressGroup(staticTarget(...backendsOf), { loadBalancer: 'round-robin' });
    groups.push(g);
    return g;
  };
  /** The latest map on breakers$ (it replays the current one at subscribe). */
  const latest = (c: Client): ReadonlyMap<string, BreakerSnapshot> => {
    let map: ReadonlyMap<string, BreakerSnapshot> = new Map();
    c.breakers$.subscribe((m) => (map = m)).unsubscribe();
    return map;
  };
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const g of groups) g.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  test('forceOpen: no traffic reaches the host, the balancer routes around it; all forced open fails fast, nothing sent', async () => {
    const a = await start();
    const b = await start();
    const c = client({ circuitBreaker: SMALL });
    const log = new EventLog(c);
    const g = group(a, b);
    for (let i = 0; i < 4; i++) await c.get(g, '/');
    assert.ok(a.hits > 0 && b.hits > 0, 'round-robin reaches both hosts');

    const snap = c.breakers.forceOpen(a.hostPort);
    assert.deepEqual({ state: snap.state, forced: snap.forced }, { state: 'open', forced: 'open' });
    assert.deepEqual(
      { state: latest(c).get(a.hostPort)?.state, forced: latest(c).get(a.hostPort)?.forced },
      { state: 'open', forced: 'open' },
      'breakers$ shows the forced state',
    );
    const transition = log.of('breaker-transition').at(-1)!;
    assert.deepEqual(
      [
        transition.breakerKey,
        transition.from,
        transition.to,
        manual(transition).cause,
        manual(transition).forced,
      ],
      [a.hostPort, 'closed', 'open', 'forceOpen', 'open'],
    );

    const [aBefore, bBefore] = [a.hits, b.hits];
    for (let i = 0; i < 10; i++) assert.equal((await c.get(g, '/')).status, 200);
    assert.equal(a.hits, aBefore, 'the forced-open host receives nothing');
    assert.equal(b.hits, bBefore + 10, 'every call went to the other host');

    c.breakers.forceOpen(b.hostPort);
    log.clear();
    for (let i = 0; i < 5; i++) {
      const err = await c.get(g, '/', { retry: { maxAttempts: 3 } }).catch((e: unknown) => e);
      assert.ok(err instanceof FailFastError, `call ${i} fails fast: ${String(err)}`);
    }
    assert.equal(a.hits + b.hits, aBefore + bBefore + 10, 'nothing sent to either host');
    assert.equal(log.of('attempt-start').length, 0);
    assert.equal(log.of('fail-fast').length, 5);
  });

  test('forceClose: every attempt is admitted and sent, failures are not counted, the breaker never opens', async () => {
    const bad = await start(status(503));
    const c = client({ circuitBreaker: SMALL });
    const log = new EventLog(c);
    const g = group(bad);
    c.register('bad', g); // a host of a registered group is a known key before its first call
    const snap = c.breakers.forceClose(bad.hostPort);
    assert.deepEqual({ state: snap.state, forced: snap.forced }, { state: 'closed', forced: 'closed' });

    // 30 failures, 20 ms apart (several buckets): unforced, this breaker opens after 5 or so.
    for (let i = 0; i < 30; i++) {
      assert.equal((await c.get('bad', '/')).status, 503);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(bad.hits, 30, 'all 30 reached the server');
    const s = latest(c).get(bad.hostPort)!;
    assert.deepEqual([s.state, s.forced, s.total], ['closed', 'closed', 0], 'nothing counted while forced');
    assert.deepEqual(
      log.of('breaker-transition').map((e) => [e.from, e.to, manual(e).cause]),
      [['closed', 'closed', 'forceClose']],
      'no transition but the manual one',
    );
  });

  test('reset: an open breaker returns to a fresh closed window; it takes a new run of failures to open again', async () => {
    const bad = await start(status(503));
    const c = client({ circuitBreaker: SMALL });
    const log = new EventLog(c);
    const g = group(bad);
    await repeatUntil(
      () => outcome(c.get(g, '/')),
      () => latest(c).get(bad.hostPort)?.state === 'open',
      300,
      20,
      'breaker open',
    );
    const hits = bad.hits;
    assert.ok((await c.get(g, '/').catch((e: unknown) => e)) instanceof FailFastError);
    assert.equal(bad.hits, hits, 'open: fails fast, nothing sent');

    const snap = c.breakers.reset(bad.hostPort);
    assert.deepEqual(
      [snap.state, snap.forced, snap.total, snap.failureRate],
      ['closed', undefined, 0, 0],
      'a fresh closed window',
    );
    const transition = log.of('breaker-transition').at(-1)!;
    assert.deepEqual([transition.from, transition.to, manual(transition).cause], ['open', 'closed', 'reset']);

    // Four failures, fewer than minimumRequestThreshold: all sent, and the breaker counts them afresh.
    for (let i = 0; i < 4; i++) assert.equal((await c.get(g, '/')).status, 503);
    assert.equal(bad.hits, hits + 4, 'closed again: every call is sent');
    const after4 = latest(c).get(bad.hostPort)!;
    assert.deepEqual([after4.state, after4.total], ['closed', 4], 'the window counts from zero');

    // A reset also ends an override.
    c.breakers.forceOpen(bad.hostPort);
    assert.equal(c.breakers.reset(bad.hostPort).forced, undefined);
    assert.equal((await c.get(g, '/')).status, 503);
    assert.equal(bad.hits, hits + 5);
  });

  test('bad input: INVALID_ARGUMENT naming the field; unknown keys refused; with breakers off, every command', async () => {
    const a = await start();
    const c = client({ circuitBreaker: SMALL });
    const fieldOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof XhttpError);
        assert.equal(e.code, 'INVALID_ARGUMENT');
        return e.field;
      }
      assert.fail('did not throw');
    };
    assert.equal(
      fieldOf(() => c.breakers.forceOpen(a.hostPort)),
      'key',
      'no group lists it yet',
    );
    assert.equal(
      fieldOf(() => c.breakers.forceOpen('')),
      'key',
    );
    assert.equal(
      fieldOf(() => c.breakers.reset(42 as unknown as string)),
      'key',
    );
    assert.equal(
      fieldOf(() => c.breakers.snapshot('nowhere:1')),
      'key',
    );
    c.register('a', group(a));
    assert.deepEqual(
      [c.breakers.snapshot(a.hostPort).state, c.breakers.snapshot(a.hostPort).forced],
      ['closed', undefined],
      'a live host is known before its first call',
    );

    const off = client({ circuitBreaker: false });
    assert.equal(
      fieldOf(() => off.breakers.forceOpen(a.hostPort)),
      'circuitBreaker',
    );

    // A custom key: its values are known once an attempt used them; host:port is not a breaker then.
    const custom = client({ circuitBreaker: { ...SMALL, key: (req) => `svc${req.path ?? ''}` } });
    const g = group(a);
    assert.equal(
      fieldOf(() => custom.breakers.forceOpen('svc/x')),
      'key',
    );
    await custom.get(g, '/x');
    assert.equal(custom.breakers.forceOpen('svc/x').forced, 'open');
    assert.ok((await custom.get(g, '/x').catch((e: unknown) => e)) instanceof FailFastError);
    assert.equal(
      fieldOf(() => custom.breakers.forceOpen(a.hostPort)),
      'key',
    );
  });
});
