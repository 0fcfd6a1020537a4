import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BehaviorSubject, filter, firstValueFrom, of, Subject, take } from 'rxjs';
import { LoadStats } from '../../lib/balancer/load-stats.js';
import { CircuitBreakers } from '../../lib/breaker/breakers.js';
import { resolveBreakerConfig } from '../../lib/breaker/config.js';
import { clientHealth$, type ClientHealth } from '../../lib/client/health.js';
import { CallWindow } from '../../lib/client/health-window.js';
import { HealthStats } from '../../lib/client/health-stats.js';
import { addressKey, type CallEvent } from '../../lib/events/events.js';
import type { Clock } from '../../lib/internal/clock.js';
import type { Address, GroupLike } from '../../lib/types.js';
import { AddressGroup, Client } from '../../lib/index.js';
import { startBackend, staticTarget } from '../helpers/loopback.js';

/** Virtual time by hand: `advance` fires due timers in order; `pending` counts armed timers. */
function manualClock(): Clock & { advance(ms: number): void; readonly pending: number; t: number } {
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const c = {
    t: 0,
    now: () => c.t,
    setTimer(fn: () => void, ms: number) {
      const id = ++ids;
      timers.push({ at: c.t + ms, fn, id });
      return () => {
        timers = timers.filter((x) => x.id !== id);
      };
    },
    advance(ms: number) {
      const end = c.t + ms;
      for (let guard = 0; guard < 100_000; guard++) {
        timers.sort((a, b) => a.at - b.at || a.id - b.id);
        const next = timers[0];
        if (next === undefined || next.at > end) break;
        timers.shift();
        c.t = next.at;
        next.fn();
      }
      c.t = end;
    },
    get pending() {
      return timers.length;
    },
  };
  return c;
}

const A: Address = { host: '10.0.0.1', port: 80, weight: 3 };
const B: Address = { host: '10.0.0.2', port: 80 };

function fakeGroup(name: string, addresses: readonly Address[]): GroupLike {
  return {
    name,
    protocol: 'http',
    addresses,
    addresses$: of(addresses),
    ready: Promise.resolve(),
    balancer: { pick: (c) => c[0] },
    closed: false,
  };
}

/** The wiring of `Client`: a bus, breakers and load stats on it, and health$ over all three. */
function setup(options: { breakers?: false } = {}) {
  const clock = manualClock();
  const bus = new Subject<CallEvent>();
  const breakers =
    options.breakers === false
      ? undefined
      : new CircuitBreakers(
          resolveBreakerConfig({
            minimumRequestThreshold: 5,
            counterUpdateInterval: 100,
            counterSlidingWindow: 1_000,
          }),
          clock,
          (e) => bus.next(e),
        );
  breakers?.attach(bus);
  const loadStats = new LoadStats(clock);
  loadStats.attach(bus);
  const stats = new HealthStats(clock.now());
  stats.attach(bus);
  const group = fakeGroup('users', [A, B]);
  const groups$ = new BehaviorSubject<readonly GroupLike[]>([group]);
  const health$ = clientHealth$({ clock, events$: bus, groups$, breakers, loadStats, stats });
  let callId = 0;
  /** One call of `ms` to `address`, ending with `status`, at the current time, under `breakerKey`. */
  const call = (address: Address, ms: number, status: number, breakerKey = addressKey(address)) => {
    const id = ++callId;
    const scope = { callId: id, group: 'users', method: 'GET' };
    const key = addressKey(address);
    const at = { ...scope, attempt: 1, address, key, breakerKey };
    bus.next({ type: 'call-start', time: clock.t - ms, ...scope, path: '/' });
    bus.next({ type: 'attempt-start', time: clock.t - ms, ...at, path: '/' });
    bus.next({
      type: 'attempt-end',
      time: clock.t,
      ...at,
      durationMs: ms,
      status,
      cancelled: false,
      verdict: status >= 500 ? 'failure' : 'success',
    });
    bus.next({
      type: 'call-end',
      time: clock.t,
      ...scope,
      durationMs: ms,
      attempts: 1,
      status,
      outcome: 'ok',
    });
  };
  return { clock, bus, group, groups$, health$, call };
}

describe('client.health$', () => {
  it('gives the present at once, and the same present to a late subscriber', () => {
    const { health$, clock } = setup();
    const seen: ClientHealth[] = [];
    const first = health$.subscribe((h) => seen.push(h));
    assert.equal(seen.length, 1, 'a view on subscribe, without waiting for a tick');
    assert.deepEqual(
      seen[0]!.groups.map((g) => g.hosts.map((h) => h.key)),
      [['10.0.0.1:80', '10.0.0.2:80']],
    );
    clock.advance(1_000);
    let late: ClientHealth | undefined;
    health$.pipe(take(1)).subscribe((h) => (late = h));
    assert.equal(late, seen.at(-1), 'the late subscriber is replayed the latest view, not a new one');
    first.unsubscribe();
  });

  it('is idle while unobserved: no event subscription and no timer until someone listens', () => {
    const { health$, bus, clock } = setup();
    const baseline = bus.observers.length; // breakers and load stats
    assert.equal(clock.pending, 0);
    const a = health$.subscribe();
    const b = health$.subscribe();
    assert.equal(bus.observers.length, baseline + 1, 'one shared subscription, whatever the subscribers');
    assert.ok(clock.pending > 0, 'the refresh tick runs while observed');
    a.unsubscribe();
    b.unsubscribe();
    assert.equal(bus.observers.length, baseline);
    assert.equal(clock.pending, 0, 'no timer left');
  });

  it('reflects hosts, weights, breakers, in-flight and latency of each group', () => {
    const { health$, clock, call, bus } = setup();
    let last: ClientHealth | undefined;
    const sub = health$.subscribe((h) => (last = h));
    for (let i = 0; i < 20; i++) {
      clock.advance(50);
      call(A, 4, 200);
      call(B, 40, 503);
    }
    // One attempt left in flight on A.
    bus.next({
      type: 'attempt-start',
      time: clock.t,
      callId: 999,
      group: 'users',
      method: 'GET',
      attempt: 1,
      address: A,
      key: addressKey(A),
      breakerKey: addressKey(A),
      path: '/',
    });
    clock.advance(1_000);
    const g = last!.groups[0]!;
    const [a, b] = g.hosts;
    assert.equal(a!.weight, 3);
    assert.equal(b!.weight, 1);
    assert.equal(a!.breaker, 'closed');
    assert.equal(b!.breaker, 'open');
    assert.ok(b!.breakerSince > 0);
    assert.equal(b!.failureRate, 1);
    assert.ok(b!.total >= 5);
    assert.equal(a!.inFlight, 1);
    assert.equal(b!.inFlight, 0);
    assert.equal(a!.ok, 20);
    assert.equal(b!.errors, 20);
    assert.ok(b!.latencyMs > a!.latencyMs, 'peak EWMA of the slow host is higher');
    assert.equal(b!.balancerCostMs, b!.latencyMs, 'the peak-EWMA figure is named as the balancer cost');
    assert.ok(Math.abs(a!.attemptLatencyMs.p50 - 4) / 4 < 0.1, `host A p50 ${a!.attemptLatencyMs.p50}`);
    assert.ok(Math.abs(b!.attemptLatencyMs.p99 - 40) / 40 < 0.1, `host B p99 ${b!.attemptLatencyMs.p99}`);
    assert.deepEqual([a!.breakerKeys, a!.openBreakers, b!.breakerKeys, b!.openBreakers], [1, 0, 1, 1]);
    assert.ok(Math.abs(g.errorPercent - 50) < 1e-9, `error % ${g.errorPercent}`);
    assert.ok(Math.abs(g.latencyMs.p50 - 4) / 4 < 0.1, `p50 ${g.latencyMs.p50}`);
    assert.ok(Math.abs(g.latencyMs.p99 - 40) / 40 < 0.1, `p99 ${g.latencyMs.p99}`);
    assert.ok(g.callsPerSecond > 0);
    assert.equal(last!.errorPercent, g.errorPercent, 'one group: the client totals are the group figures');
    assert.ok(g.sparkline.some((v) => v > 0));
    sub.unsubscribe();
  });

  it('counts retries and fail-fasts per second over the window, and lets them decay (virtual time)', () => {
    const { health$, clock, bus } = setup();
    let last: ClientHealth | undefined;
    const sub = health$.subscribe((h) => (last = h));
    const scope = { group: 'users', method: 'GET' };
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      bus.next({
        type: 'retry-scheduled',
        time: clock.t,
        callId: i,
        ...scope,
        attempt: 2,
        delayMs: 0,
        delayReason: 'backoff',
        reason: '503',
      });
      bus.next({ type: 'fail-fast', time: clock.t, callId: 100 + i, ...scope, attempt: 1 });
    }
    clock.advance(1_000);
    assert.ok(last!.retriesPerSecond > 4 && last!.retriesPerSecond <= 10, `${last!.retriesPerSecond}`);
    assert.equal(last!.failFastPerSecond, last!.retriesPerSecond);
    const stamp = last!.time;
    clock.advance(15_000);
    assert.ok(last!.time > stamp, 'ticks keep coming without traffic');
    assert.equal(last!.retriesPerSecond, 0, 'out of the window');
    sub.unsubscribe();
  });

  it('with breakers turned off, host rows say "off", not "closed"', () => {
    const { health$, clock, call } = setup({ breakers: false });
    let last: ClientHealth | undefined;
    const sub = health$.subscribe((h) => (last = h));
    call(A, 4, 503);
    clock.advance(1_000);
    assert.deepEqual(
      last!.groups[0]!.hosts.map((h) => [h.breaker, h.breakerKeys]),
      [
        ['off', 0],
        ['off', 0],
      ],
    );
    sub.unsubscribe();
  });

  it('with a custom breaker key (per path), a host row shows the worst of its keys and how many are open', () => {
    const { health$, clock, call } = setup();
    let last: ClientHealth | undefined;
    const sub = health$.subscribe((h) => (last = h));
    for (let i = 0; i < 20; i++) {
      clock.advance(50);
      call(A, 4, 200, `${addressKey(A)} GET /ok`);
      call(A, 4, 503, `${addressKey(A)} GET /bad`);
      call(B, 4, 200, `${addressKey(B)} GET /ok`);
    }
    clock.advance(1_000);
    const [a, b] = last!.groups[0]!.hosts;
    assert.equal(a!.breaker, 'open', 'host A has an open breaker (GET /bad) and must not read "closed"');
    assert.deepEqual([a!.breakerKeys, a!.openBreakers], [2, 1]);
    assert.ok(a!.breakerSince > 0);
    assert.ok(a!.failureRate > 0, `both keys' windows together: ${a!.failureRate}`);
    assert.deepEqual([b!.breaker, b!.breakerKeys, b!.openBreakers], ['closed', 1, 0]);
    sub.unsubscribe();
  });

  it('follows the group list, and completes when the client does', () => {
    const { health$, groups$, bus } = setup();
    let last: ClientHealth | undefined;
    let completed = false;
    health$.subscribe({ next: (h) => (last = h), complete: () => (completed = true) });
    groups$.next([...groups$.value, fakeGroup('<b>orders</b>', [B])]);
    assert.deepEqual(
      last!.groups.map((g) => g.name),
      ['users', '<b>orders</b>'],
    );
    bus.complete();
    assert.ok(completed);
  });
});

describe('CallWindow', () => {
  it('estimates percentiles within 8 % and forgets calls older than the window', () => {
    const w = new CallWindow(0, { windowMs: 10_000 });
    for (let i = 1; i <= 1_000; i++) w.callEnded(5_000, i, i % 10 === 0);
    const s = w.read(5_500);
    for (const [got, want] of [
      [s.latencyMs.p50, 500],
      [s.latencyMs.p90, 900],
      [s.latencyMs.p99, 990],
    ] as const)
      assert.ok(Math.abs(got - want) / want < 0.08, `${got} vs ${want}`);
    assert.equal(s.errorPercent, 10);
    assert.equal(s.calls, 1_000);
    assert.equal(w.read(16_000).calls, 0);
    assert.equal(w.read(16_000).latencyMs.p99, 0);
  });
});

describe('client.health$ through a real Client', () => {
  it('shows a registered group and its hosts after calls to loopback backends', async () => {
    const ok = await startBackend();
    const bad = await startBackend((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const client = new Client({ circuitBreaker: false });
    const group = new AddressGroup(staticTarget(ok, bad), { name: 'loop', loadBalancer: 'round-robin' });
    client.register('loop', group);
    const view = firstValueFrom(health$WithCalls(client.health$));
    for (let i = 0; i < 10; i++) await client.get(group, '/');
    const h = await view;
    const g = h.groups.find((x) => x.name === 'loop')!;
    assert.deepEqual(g.hosts.map((x) => x.key).sort(), [ok.hostPort, bad.hostPort].sort());
    assert.ok(Math.abs(g.errorPercent - 50) < 1e-9, `error % ${g.errorPercent}`);
    assert.equal(g.hosts.find((x) => x.key === bad.hostPort)!.failureRate, 1);
    await client.close();
    group.close();
    await Promise.all([ok.close(), bad.close()]);
  });
});

/** The first view whose hosts have seen ten attempts in all. */
function health$WithCalls(h$: Client['health$']) {
  return h$.pipe(
    filter((h) => {
      const g = h.groups.find((x) => x.name === 'loop');
      return g !== undefined && g.hosts.reduce((n, x) => n + x.ok + x.errors, 0) >= 10;
    }),
    take(1),
  );
}

describe('HealthStats', () => {
  it('keeps a bounded number of group and host windows, dropping the oldest-made first', () => {
    const stats = new HealthStats(0);
    const scope = { callId: 1, method: 'GET' };
    for (let i = 0; i < 10_000; i++) {
      const address = { host: `10.0.${i >> 8}.${i & 255}`, port: 80 };
      const key = addressKey(address);
      stats.update({
        type: 'attempt-end',
        time: 500,
        ...scope,
        group: `g${i}`,
        attempt: 1,
        address,
        key,
        breakerKey: key,
        durationMs: 5,
        status: 200,
        cancelled: false,
        verdict: 'success',
      });
      stats.update({
        type: 'call-end',
        time: 500,
        ...scope,
        group: `g${i}`,
        durationMs: 5,
        attempts: 1,
        status: 200,
        outcome: 'ok',
      });
    }
    assert.equal(stats.all.read(600).calls, 10_000, 'the client totals count every call');
    assert.equal(stats.group('g9999').read(600).calls, 1, 'a recent group is kept');
    assert.equal(stats.group('g0').read(600).calls, 0, 'the oldest group was dropped');
    assert.ok(stats.hostLatency('10.0.39.15:80', 600).p50 > 0, 'a recent host is kept');
    assert.equal(stats.hostLatency('10.0.0.0:80', 600).p50, 0, 'the oldest host was dropped');
  });
});
