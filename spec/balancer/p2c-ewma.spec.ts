import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoadStats } from '../../lib/balancer/load-stats.js';
import {
  FinagleP2CEwmaBalancer,
  P2CEwmaBalancer,
  UNSAMPLED_PENALTY,
  ewmaLoad,
} from '../../lib/balancer/p2c-ewma.js';
import { MARKED_DOWN, P2CBalancer } from '../../lib/balancer/p2c.js';
import { RoundRobinBalancer } from '../../lib/balancer/round-robin.js';
import { isXhttpError } from '../../lib/errors.js';
import { addressKey } from '../../lib/events/events.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address, HostLoad, LoadBalancer, PickContext } from '../../lib/types.js';

const hosts = (n: number): Address[] =>
  Array.from({ length: n }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 80 }));

describe('ewmaLoad', () => {
  it('is cost × (outstanding + 1) once sampled', () => {
    assert.equal(ewmaLoad({ outstanding: 0, cost: 20, sampled: true }), 20);
    assert.equal(ewmaLoad({ outstanding: 3, cost: 20, sampled: true }), 80);
  });

  it('gives an idle unmeasured host 0, so it is probed, and a busy one the penalty', () => {
    assert.equal(ewmaLoad({ outstanding: 0, cost: 0, sampled: false }), 0);
    assert.equal(ewmaLoad({ outstanding: 1, cost: 0, sampled: false }), UNSAMPLED_PENALTY + 1);
    assert.ok(
      ewmaLoad({ outstanding: 2, cost: 0, sampled: false }) >
        ewmaLoad({ outstanding: 1, cost: 0, sampled: false }),
    );
    assert.ok(UNSAMPLED_PENALTY > ewmaLoad({ outstanding: 10_000, cost: 60_000, sampled: true }));
  });
});

describe('ewmaLoad with a typical cap', () => {
  it('caps the peak at cap × typical, and leaves it alone without a cap or a typical', () => {
    const paused = { outstanding: 2, cost: 15, sampled: true, typical: 4 };
    assert.equal(ewmaLoad(paused), 45, "Finagle's formula without a cap");
    assert.equal(ewmaLoad(paused, 1.5), 18, 'min(15, 1.5 × 4) × 3');
    assert.equal(ewmaLoad({ outstanding: 2, cost: 5, sampled: true, typical: 4 }, 1.5), 15, 'below the cap');
    assert.equal(ewmaLoad({ outstanding: 2, cost: 15, sampled: true }, 1.5), 45, 'no typical: no cap');
    assert.equal(
      ewmaLoad({ outstanding: 1, cost: 0, sampled: false, typical: 0 }, 1.5),
      UNSAMPLED_PENALTY + 1,
    );
  });

  it('refuses a cap that is not 0 or a finite number ≥ 1, and a bad penalty, naming the field', () => {
    for (const typicalCap of [0.5, -1, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number])
      assert.throws(
        () => new P2CEwmaBalancer({ typicalCap }),
        (e: unknown) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'typicalCap',
      );
    for (const failurePenalty of [-1, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number])
      assert.throws(
        () => new P2CEwmaBalancer({ failurePenalty }),
        (e: unknown) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'failurePenalty',
      );
    assert.doesNotThrow(() => new P2CEwmaBalancer({ typicalCap: 1, failurePenalty: 0 }));
    assert.doesNotThrow(() => new P2CEwmaBalancer({ typicalCap: 0 }));
  });

  it("after a pause inflated a fast host, still prefers it to an idle slow host; Finagle's formula does not", () => {
    const [fast, slow] = hosts(2) as [Address, Address];
    let t = 0;
    const stats = new LoadStats({ now: () => t, setTimer: () => assert.fail('no timers') });
    const base = { group: 'g', method: 'GET', attempt: 1, path: '/' } as const;
    let callId = 0;
    const sample = (a: Address, ms: number) => {
      const key = addressKey(a);
      const id = ++callId;
      stats.update({ ...base, type: 'attempt-start', time: t, callId: id, address: a, key, breakerKey: key });
      t += ms;
      stats.update({
        ...base,
        type: 'attempt-end',
        time: t,
        callId: id,
        address: a,
        key,
        breakerKey: key,
        durationMs: ms,
        status: 200,
        cancelled: false,
        verdict: 'success',
      });
    };
    for (let i = 0; i < 20; i++) sample(fast, 3);
    for (let i = 0; i < 20; i++) sample(slow, 20);
    sample(fast, 15); // a machine pause: one response 12 ms late
    // Two calls in flight on the fast host, none on the slow one.
    for (let i = 0; i < 2; i++) {
      const key = addressKey(fast);
      stats.update({
        ...base,
        type: 'attempt-start',
        time: t,
        callId: ++callId,
        address: fast,
        key,
        breakerKey: key,
      });
    }
    const ctx: PickContext = { now: t, random: seededRandom(3), attempt: 1, load: (a) => stats.load(a, t) };
    // Finagle: 15 × 3 = 45 against 20 × 1; capped: min(15, 1.5 × 4.2) × 3 ≈ 18.9 against 20.
    assert.equal(new FinagleP2CEwmaBalancer().pick([fast, slow], ctx), slow);
    assert.equal(new P2CEwmaBalancer({ typicalCap: 0 }).pick([fast, slow], ctx), slow);
    assert.equal(new P2CEwmaBalancer().pick([fast, slow], ctx), fast, 'the default caps at 1.5');
    // A host that turns slow raises its typical within a few responses: after 10 at 20 ms the cap no
    // longer hides the peak.
    for (let i = 0; i < 10; i++) sample(fast, 20);
    const load = stats.load(fast, t);
    assert.equal(ewmaLoad(load, 1.5), load.cost * (load.outstanding + 1));
  });
});

describe('p2c-ewma pick', () => {
  it('of two hosts, picks the lower cost × (pending + 1)', () => {
    const [a, b] = hosts(2) as [Address, Address];
    const loads = new Map<Address, HostLoad>([
      [a, { outstanding: 1, cost: 10, sampled: true }], // 20
      [b, { outstanding: 0, cost: 15, sampled: true }], // 15
    ]);
    const ctx: PickContext = { now: 0, random: seededRandom(1), attempt: 1, load: (x) => loads.get(x)! };
    for (let i = 0; i < 20; i++) assert.equal(new P2CEwmaBalancer().pick([a, b], ctx), b);
  });

  it('sends first probes one at a time to unmeasured hosts', () => {
    const [a, b] = hosts(2) as [Address, Address];
    const loads = new Map<Address, HostLoad>([
      [a, { outstanding: 1, cost: 0, sampled: false }],
      [b, { outstanding: 4, cost: 50, sampled: true }],
    ]);
    const ctx: PickContext = { now: 0, random: seededRandom(2), attempt: 1, load: (x) => loads.get(x)! };
    assert.equal(new P2CEwmaBalancer().pick([a, b], ctx), b);
  });
});

/**
 * A closed-loop run in virtual time, Finagle-style: `concurrency` callers each send a request as soon
 * as the last returns, `calls` in all; each host answers after its latency ±20 % (seeded). Events go
 * through a real LoadStats, as on a client's events$.
 */
function simulate(
  balancer: LoadBalancer,
  latencyMs: readonly number[],
  opts: {
    calls: number;
    concurrency: number;
    seed: number;
    /** Host `index` answers this share of its calls with a 503 after `ms`. */
    flaky?: { index: number; ratio: number; ms: number };
  },
) {
  const list = hosts(latencyMs.length);
  let t = 0;
  const stats = new LoadStats({ now: () => t, setTimer: () => assert.fail('no timers') });
  const random = seededRandom(opts.seed);
  const picks = new Array<number>(list.length).fill(0);
  const inflight: { end: number; index: number; duration: number; status: number }[] = [];
  let started = 0;
  let callId = 0;
  const base = { group: 'g', method: 'GET', attempt: 1, path: '/' } as const;

  const send = () => {
    const ctx: PickContext = { now: t, random, attempt: 1, load: (a) => stats.load(a, t) };
    const address = balancer.pick(list, ctx)!;
    const index = list.indexOf(address);
    const key = addressKey(address);
    stats.update({
      type: 'attempt-start',
      time: t,
      callId: ++callId,
      address,
      key,
      breakerKey: key,
      ...base,
    });
    const fails = opts.flaky?.index === index && random() < opts.flaky.ratio;
    const duration = fails ? opts.flaky!.ms : latencyMs[index]! * (0.8 + 0.4 * random());
    inflight.push({ end: t + duration, index, duration, status: fails ? 503 : 200 });
    picks[index]!++;
    started++;
  };

  while (started < opts.concurrency) send();
  while (inflight.length > 0) {
    let next = 0;
    for (let i = 1; i < inflight.length; i++) if (inflight[i]!.end < inflight[next]!.end) next = i;
    const done = inflight.splice(next, 1)[0]!;
    t = done.end;
    const address = list[done.index]!;
    const key = addressKey(address);
    stats.update({
      type: 'attempt-end',
      time: t,
      callId,
      address,
      key,
      breakerKey: key,
      durationMs: done.duration,
      status: done.status,
      cancelled: false,
      verdict: done.status === 200 ? 'success' : 'failure',
      ...base,
    });
    if (started < opts.calls) send();
  }
  return { shares: picks.map((p) => p / opts.calls), elapsedMs: t };
}

describe('p2c-ewma under a slow host (statistical, seeded, virtual time)', () => {
  const slow = [20, 2, 2, 2, 2]; // host 0 is 10× slower
  const healthy = [2, 2, 2, 2, 2];
  const run = { calls: 6_000, concurrency: 16 };

  it('sends the slow host under 1.5 % of calls where round robin sends it 20 %', () => {
    for (const seed of [1, 2, 3]) {
      const ewma = simulate(new P2CEwmaBalancer(), slow, { ...run, seed });
      const rr = simulate(new RoundRobinBalancer(), slow, { ...run, seed });
      assert.ok(ewma.shares[0]! < 0.015, `seed ${seed}: p2c-ewma slow share ${ewma.shares[0]}`);
      assert.ok(Math.abs(rr.shares[0]! - 0.2) < 0.001, `round robin slow share ${rr.shares[0]}`);
      assert.ok(
        ewma.elapsedMs < 0.5 * rr.elapsedMs,
        `p2c-ewma ${ewma.elapsedMs} ms vs round robin ${rr.elapsedMs} ms`,
      );
    }
  });

  it('keeps throughput within 10 % of an all-healthy group', () => {
    const base = simulate(new P2CEwmaBalancer(), healthy, { ...run, seed: 4 });
    const withSlow = simulate(new P2CEwmaBalancer(), slow, { ...run, seed: 4 });
    assert.ok(withSlow.elapsedMs <= base.elapsedMs / 0.9, `${withSlow.elapsedMs} vs ${base.elapsedMs} ms`);
  });

  it('does better than least-outstanding p2c on the slow host', () => {
    const ewma = simulate(new P2CEwmaBalancer(), slow, { ...run, seed: 5 });
    const p2c = simulate(new P2CBalancer(), slow, { ...run, seed: 5 });
    assert.ok(ewma.shares[0]! < p2c.shares[0]!, `p2c-ewma ${ewma.shares[0]} vs p2c ${p2c.shares[0]}`);
  });

  it('spreads evenly over equal hosts (each within 3 points of 20 %)', () => {
    const { shares } = simulate(new P2CEwmaBalancer(), healthy, { ...run, seed: 6 });
    for (const s of shares) assert.ok(Math.abs(s - 0.2) < 0.03, `shares ${shares.join(' ')}`);
  });
});

describe('p2c-ewma under a host that fails fast (statistical, seeded, virtual time)', () => {
  // Host 0 answers 30 % of its calls with a 503 in 0.2 ms: by latency alone it looks the cheapest.
  const flaky = { index: 0, ratio: 0.3, ms: 0.2 };
  const latency = [2, 2, 2, 2, 2];

  it("sends it at most 5 % of attempts at 16 and 64 in flight; Finagle's formula sends it far more", () => {
    for (const concurrency of [16, 64]) {
      for (const seed of [1, 2, 3]) {
        const run = { calls: 200 * concurrency, concurrency, seed, flaky };
        const priced = simulate(new P2CEwmaBalancer(), latency, run).shares[0]!;
        const finagle = simulate(new FinagleP2CEwmaBalancer(), latency, run).shares[0]!;
        assert.ok(priced <= 0.05, `c = ${concurrency}, seed ${seed}: default share ${priced}`);
        assert.ok(finagle > 0.15, `c = ${concurrency}, seed ${seed}: Finagle share ${finagle}`);
      }
    }
  });

  it('does not hand its share to a slow host it is drawn with (the demo: it is marked down, P2C draws again)', () => {
    const mixed = [2, 20, 2, 2, 2]; // host 0 flaky, host 1 20 ms
    for (const seed of [1, 2, 3]) {
      const run = { calls: 3_200, concurrency: 4, seed, flaky };
      const { shares } = simulate(new P2CEwmaBalancer(), mixed, run);
      assert.ok(shares[0]! <= 0.05, `seed ${seed}: flaky share ${shares[0]}`);
      assert.ok(shares[1]! <= 0.015, `seed ${seed}: slow share ${shares[1]}`);
    }
  });

  it('prices failures as cost × (1 + penalty × failure ratio), and forgets them while idle', () => {
    const load = { outstanding: 1, cost: 2, sampled: true, typical: 2, failure: 0.3 };
    assert.equal(ewmaLoad(load), 4, "Finagle's formula ignores failures");
    assert.equal(ewmaLoad(load, 1.5, 30), 2 * 10 * 2, '2 ms × (1 + 30 × 0.3) × 2');
    assert.equal(ewmaLoad(load, 1.5, 30, 0.2), MARKED_DOWN + 1, 'from 0.2 on: marked down');
    let t = 0;
    const stats = new LoadStats({ now: () => t, setTimer: () => assert.fail('no timers') });
    const [a] = hosts(1) as [Address];
    const key = addressKey(a);
    const base = {
      group: 'g',
      method: 'GET',
      attempt: 1,
      path: '/',
      address: a,
      key,
      breakerKey: key,
    } as const;
    for (let i = 0; i < 10; i++) {
      stats.update({ ...base, type: 'attempt-start', time: t, callId: i });
      t += 1;
      stats.update({
        ...base,
        type: 'attempt-end',
        time: t,
        callId: i,
        durationMs: 1,
        status: 503,
        cancelled: false,
        verdict: 'failure',
      });
    }
    const failing = stats.load(a, t).failure!;
    assert.ok(Math.abs(failing - (1 - 0.9 ** 10)) < 0.01, `ten failures in a row: ${failing}`);
    const later = stats.load(a, t + 5_000).failure!;
    assert.ok(Math.abs(later - failing / Math.E) < 1e-9, `decays with τ = 5 s while idle: ${later}`);
  });
});
