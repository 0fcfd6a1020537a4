import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defer, finalize, map, Observable, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { XhttpError } from '../../lib/errors.js';
import type { HealthCheckEvent } from '../../lib/events/events.js';
import { AddressGroup } from '../../lib/group/address-group.js';
import {
  firstProbeDelay,
  probeDelay,
  reduceCheck,
  resolveHealthCheck,
  UNCHECKED,
  type HostCheckState,
} from '../../lib/group/health-check.js';
import { HealthCheckRunner } from '../../lib/group/health-check-runner.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address } from '../../lib/types.js';

// Health checks on virtual time: the group's scheduler is a TestScheduler, advanced step by step; the
// prober answers on the same scheduler after `latencyMs`, with the status the script says.

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';

function virtual(): { ts: TestScheduler; advanceTo: (t: number) => void } {
  const ts = new TestScheduler((a, b) => assert.deepEqual(a, b));
  return {
    ts,
    advanceTo(t: number) {
      ts.maxFrames = t;
      ts.flush();
    },
  };
}

interface Script {
  /** Status a host answers with at time `t` (or an error code to fail with). */
  answer: (key: string, t: number) => number | string;
  latencyMs: number;
}

/** A prober on virtual time that records every probe and how many were in flight per host. */
function scriptedProber(ts: TestScheduler, script: Script) {
  const starts: { key: string; t: number }[] = [];
  const inFlight = new Map<string, number>();
  let maxInFlight = 0;
  let aborted = 0;
  const prober = (address: Address, path: string): Observable<number> =>
    defer(() => {
      assert.equal(path, '/health');
      const key = `${address.host}:${address.port}`;
      starts.push({ key, t: ts.now() });
      const n = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, n);
      maxInFlight = Math.max(maxInFlight, n);
      let done = false;
      return timer(script.latencyMs, ts).pipe(
        map(() => {
          done = true;
          const a = script.answer(key, ts.now());
          if (typeof a === 'string') throw Object.assign(new Error('probe failed'), { code: a });
          return a;
        }),
        finalize(() => {
          inFlight.set(key, inFlight.get(key)! - 1);
          if (!done) aborted++;
        }),
      );
    });
  return {
    prober,
    starts,
    get maxInFlight() {
      return maxInFlight;
    },
    get aborted() {
      return aborted;
    },
    get open() {
      return [...inFlight.values()].reduce((s, n) => s + n, 0);
    },
  };
}

function checkedGroup(ts: TestScheduler, healthCheck: object, seed = 42) {
  const group = new AddressGroup(`static://${A},${B}`, {
    scheduler: ts,
    random: seededRandom(seed),
    healthCheck: { path: '/health', ...healthCheck },
  });
  const events: HealthCheckEvent[] = [];
  group.healthCheckEvents$.subscribe((e) => events.push(e));
  const [a, b] = group.addresses as [Address, Address];
  return { group, events, a, b };
}

describe('health checks: the pure core', () => {
  const cfg = { healthyThreshold: 2, unhealthyThreshold: 3 };
  const run = (results: boolean[]): string[] => {
    let s: HostCheckState = UNCHECKED;
    return results.map((ok) => (s = reduceCheck(s, ok, cfg)).status);
  };

  it('unknown passes on its first success (Envoy at startup), fails after unhealthyThreshold failures', () => {
    assert.deepEqual(run([true]), ['passing']);
    assert.deepEqual(run([false, false, false]), ['unknown', 'unknown', 'failing']);
  });

  it('a passing host fails after unhealthyThreshold failures in a row, a success in between resets', () => {
    assert.deepEqual(run([true, false, false, true, false, false, false]), [
      'passing',
      'passing',
      'passing',
      'passing',
      'passing',
      'passing',
      'failing',
    ]);
  });

  it('a failing host passes after healthyThreshold successes in a row', () => {
    assert.deepEqual(run([false, false, false, true, false, true, true]), [
      'unknown',
      'unknown',
      'failing',
      'failing',
      'failing',
      'failing',
      'passing',
    ]);
  });

  it('jitter: waits uniform in interval × [0.9, 1.1), first probes within interval × [0, 0.1)', () => {
    const random = seededRandom(7);
    const waits = Array.from({ length: 2_000 }, () => probeDelay(5_000, random));
    assert.ok(waits.every((w) => w >= 4_500 && w < 5_500));
    assert.ok(Math.min(...waits) < 4_550 && Math.max(...waits) > 5_450, 'spread over the whole range');
    const firsts = Array.from({ length: 2_000 }, () => firstProbeDelay(5_000, random));
    assert.ok(firsts.every((w) => w >= 0 && w < 500));
  });

  it('validates the config, naming the field', () => {
    const bad: [unknown, string][] = [
      [{}, 'options.healthCheck.path'],
      [{ path: 'health' }, 'options.healthCheck.path'],
      [{ path: '/h x' }, 'options.healthCheck.path'],
      [{ path: '/h', interval: 0 }, 'options.healthCheck.interval'],
      [{ path: '/h', timeout: -1 }, 'options.healthCheck.timeout'],
      [{ path: '/h', healthyThreshold: 0 }, 'options.healthCheck.healthyThreshold'],
      [{ path: '/h', unhealthyThreshold: 1.5 }, 'options.healthCheck.unhealthyThreshold'],
      [{ path: '/h', expectStatus: 99 }, 'options.healthCheck.expectStatus'],
      [{ path: '/h', expectStatus: [] }, 'options.healthCheck.expectStatus'],
      [{ path: '/h', intervall: 5 }, 'options.healthCheck.intervall'],
      ['/h', 'options.healthCheck'],
    ];
    for (const [input, field] of bad)
      assert.throws(
        () => resolveHealthCheck(input),
        (e: unknown) => e instanceof XhttpError && e.code === 'INVALID_ARGUMENT' && e.field === field,
        JSON.stringify(input),
      );
    const c = resolveHealthCheck({ path: '/health', expectStatus: [200, 204] });
    assert.deepEqual(
      [c.interval, c.timeout, c.healthyThreshold, c.unhealthyThreshold, c.passes(204), c.passes(201)],
      [5_000, 1_000, 2, 3, true, false],
    );
    assert.equal(resolveHealthCheck({ path: '/h' }).passes(299), true);
  });
});

describe('health checks: the runner, on virtual time', () => {
  it('marks a host failing after unhealthyThreshold failed probes and passing after healthyThreshold good ones', () => {
    const { ts, advanceTo } = virtual();
    const { group, events, a, b } = checkedGroup(ts, {});
    // A fails its health endpoint from t = 20 s to t = 60 s; B is always fine.
    const probes = scriptedProber(ts, {
      latencyMs: 5,
      answer: (key, t) => (key === A && t >= 20_000 && t < 60_000 ? 503 : 200),
    });
    group.attachProber(probes.prober);
    advanceTo(19_999);
    assert.equal(group.healthCheckStatus(a), 'passing');
    assert.equal(group.unhealthyHosts, 0);
    advanceTo(59_999);
    assert.equal(group.healthCheckStatus(a), 'failing');
    assert.equal(group.isHealthy(a), false);
    assert.equal(group.isHealthy(b), true);
    assert.equal(group.unhealthyHosts, 1);
    const ofA = events.filter((e) => e.key === A);
    const firstBad = ofA.findIndex((e) => !e.ok);
    assert.deepEqual(
      ofA.slice(firstBad, firstBad + 3).map((e) => [e.ok, e.status, e.health]),
      [
        [false, 503, 'passing'],
        [false, 503, 'passing'],
        [false, 503, 'failing'],
      ],
      'failing at the third failure in a row, not before',
    );
    // Interval 5 s ± 10 %, 3 failures: failing within 3 × 5.5 s of the first bad answer at most.
    const failingAt = ofA[firstBad + 2]!.time;
    assert.ok(failingAt - 20_000 <= 3 * 5_500 + 5, `failing ${failingAt - 20_000} ms after it broke`);
    advanceTo(200_000);
    assert.equal(group.healthCheckStatus(a), 'passing');
    const all = events.filter((e) => e.key === A);
    const firstGood = all.findIndex((e, i) => i > firstBad && e.ok);
    assert.deepEqual(
      all.slice(firstGood, firstGood + 2).map((e) => e.health),
      ['failing', 'passing'],
      'two successes in a row to pass again',
    );
    group.close();
  });

  it('jitters the schedule (seeded): waits within interval × [0.9, 1.1), hosts apart', () => {
    const { ts, advanceTo } = virtual();
    const { group, events } = checkedGroup(ts, { interval: 1_000 }, 3);
    const probes = scriptedProber(ts, { latencyMs: 0, answer: () => 200 });
    group.attachProber(probes.prober);
    advanceTo(60_000);
    for (const key of [A, B]) {
      const ts0 = probes.starts.filter((s) => s.key === key).map((s) => s.t);
      assert.ok(ts0[0]! < 100, `first probe of ${key} within interval × 0.1`);
      const gaps = ts0.slice(1).map((t, i) => t - ts0[i]!);
      assert.ok(gaps.length > 50);
      assert.ok(
        gaps.every((g) => g >= 900 && g < 1_100),
        `gaps ${gaps.join(',')}`,
      );
      assert.ok(new Set(gaps.map((g) => Math.round(g))).size > 10, 'not one fixed period');
    }
    const startsOf = (key: string) => new Set(probes.starts.filter((s) => s.key === key).map((s) => s.t));
    const both = [...startsOf(A)].filter((t) => startsOf(B).has(t));
    assert.equal(both.length, 0, 'the two hosts never probe on the same tick');
    assert.ok(events.every((e) => e.ok && e.health === 'passing'));
    group.close();
  });

  it('keeps at most one probe in flight per host; a probe past its timeout fails with TIMEOUT and is aborted', () => {
    const { ts, advanceTo } = virtual();
    const { group, events, a } = checkedGroup(ts, { interval: 1_000, timeout: 3_000 });
    // Every probe takes 4 s, longer than the interval and the timeout.
    const probes = scriptedProber(ts, { latencyMs: 4_000, answer: () => 200 });
    group.attachProber(probes.prober);
    advanceTo(30_000);
    assert.equal(probes.maxInFlight, 1);
    const ofA = probes.starts.filter((s) => s.key === A).map((s) => s.t);
    const gaps = ofA.slice(1).map((t, i) => t - ofA[i]!);
    // Timeout (3 s) + the next wait (0.9–1.1 s): never a probe on top of the one in flight.
    assert.ok(
      gaps.every((g) => g >= 3_900 && g < 4_100),
      `gaps ${gaps.join(',')}`,
    );
    assert.ok(
      events.length > 0 && events.every((e) => !e.ok && e.errorCode === 'TIMEOUT' && e.durationMs === 3_000),
    );
    assert.equal(probes.aborted, events.length, 'each timed-out probe was unsubscribed (aborted)');
    assert.equal(group.healthCheckStatus(a), 'failing');
    group.close();
  });

  it('stops every timer and probe on group.close(), and when the last prober detaches', () => {
    const { ts, advanceTo } = virtual();
    const { group, events, a } = checkedGroup(ts, { interval: 1_000 });
    const probes = scriptedProber(ts, { latencyMs: 500, answer: () => 503 });
    const detach = group.attachProber(probes.prober);
    advanceTo(10_000);
    assert.equal(group.healthCheckStatus(a), 'failing');
    detach(); // the client closed: nobody probes, verdicts are forgotten (the host is eligible again)
    assert.equal(group.healthCheckStatus(a), 'unknown');
    assert.equal(group.unhealthyHosts, 0);
    assert.equal(probes.open, 0, 'the probe in flight was aborted');
    const seen = probes.starts.length;
    advanceTo(20_000);
    assert.equal(probes.starts.length, seen, 'no probe without a prober');

    group.attachProber(probes.prober);
    advanceTo(25_000);
    assert.ok(probes.starts.length > seen, 'a new prober starts them again');
    group.close();
    assert.equal(probes.open, 0);
    const after = probes.starts.length;
    const emitted = events.length;
    advanceTo(100_000);
    assert.equal(probes.starts.length, after, 'no probe after close');
    assert.equal(events.length, emitted);
    assert.equal(ts.actions.length, 0, 'no timer left on the scheduler');
  });

  it('follows the address list: a new host is probed within interval × 0.1, a gone host stops', () => {
    const { ts, advanceTo } = virtual();
    const runner = new HealthCheckRunner(
      resolveHealthCheck({ path: '/health', interval: 1_000 }),
      'g',
      ts,
      seededRandom(1),
      () => undefined,
    );
    const probes = scriptedProber(ts, { latencyMs: 1, answer: () => 200 });
    runner.attach(probes.prober);
    const a: Address = { host: '10.0.0.1', port: 80 };
    const b: Address = { host: '10.0.0.2', port: 80 };
    runner.update([a]);
    advanceTo(5_000);
    assert.ok(probes.starts.every((s) => s.key === A));
    const joined = ts.now();
    runner.update([b]);
    advanceTo(10_000);
    const later = probes.starts.filter((s) => s.t > joined);
    assert.ok(later.length > 0 && later.every((s) => s.key === B), 'only the current host is probed');
    assert.ok(later[0]!.t - joined < 100, 'the new host is probed within interval × 0.1');
    assert.equal(runner.status(a), 'unknown');
    runner.close();
    assert.equal(ts.actions.length, 0);
  });

  it('without healthCheck: every host healthy, nothing probed (the feature off)', () => {
    const { ts, advanceTo } = virtual();
    const group = new AddressGroup(`static://${A}`, { scheduler: ts });
    const probes = scriptedProber(ts, { latencyMs: 1, answer: () => 503 });
    group.attachProber(probes.prober);
    advanceTo(60_000);
    assert.equal(probes.starts.length, 0);
    assert.equal(group.isHealthy(group.addresses[0]!), true);
    assert.equal(group.healthCheckStatus(group.addresses[0]!), undefined);
    group.close();
  });
});
