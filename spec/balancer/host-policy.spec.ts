import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectAddress } from '../../lib/balancer/eligible.js';
import {
  DEFAULT_SLOW_START,
  parseSlowStart,
  slowStartFactor,
  type HostHealthSource,
  type HostPolicy,
} from '../../lib/balancer/host-policy.js';
import { LoadStats } from '../../lib/balancer/load-stats.js';
import { P2CEwmaBalancer } from '../../lib/balancer/p2c-ewma.js';
import { RandomBalancer } from '../../lib/balancer/random.js';
import { isXhttpError } from '../../lib/errors.js';
import { addressKey } from '../../lib/events/events.js';
import { AddressGroup } from '../../lib/group/address-group.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address, LoadBalancer, PickContext } from '../../lib/types.js';

const list: readonly Address[] = Array.from({ length: 5 }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 80 }));
const joiner = list[4]!;
const NONE: ReadonlySet<string> = new Set();

/** A virtual clock, a LoadStats on it, and a pick context reading both (seeded). */
function world(seed: number) {
  let t = 0;
  const stats = new LoadStats({ now: () => t, setTimer: () => assert.fail('no timers') });
  const ctx: PickContext & { now: number } = {
    now: 0,
    random: seededRandom(seed),
    attempt: 1,
    load: (a) => stats.load(a, ctx.now),
  };
  return {
    stats,
    ctx,
    at(ms: number) {
      t = ctx.now = ms;
    },
  };
}

const policy = (p: Partial<HostPolicy>): HostPolicy => ({
  slowStart: undefined,
  panicThreshold: 0.5,
  health: undefined,
  ...p,
});

/** Share of `picks` picks at time `t` that land on `target`. */
function share(
  w: ReturnType<typeof world>,
  balancer: LoadBalancer,
  pol: HostPolicy,
  t: number,
  target: Address,
  picks = 4_000,
): number {
  w.at(t);
  let n = 0;
  for (let i = 0; i < picks; i++)
    if (selectAddress(list, balancer, w.ctx, undefined, NONE, pol) === target) n++;
  return n / picks;
}

describe('slow start (seeded, virtual time)', () => {
  it("is Envoy's factor: max(minWeight, (t / window)^(1 / aggression)), 1 after the window", () => {
    assert.equal(slowStartFactor(0, DEFAULT_SLOW_START), 0.1);
    assert.equal(slowStartFactor(500, DEFAULT_SLOW_START), 0.1);
    assert.equal(slowStartFactor(5_000, DEFAULT_SLOW_START), 0.5);
    assert.equal(slowStartFactor(10_000, DEFAULT_SLOW_START), 1);
    assert.equal(slowStartFactor(Infinity, DEFAULT_SLOW_START), 1);
    assert.equal(slowStartFactor(2_500, { window: 10_000, aggression: 2, minWeight: 0.1 }), 0.5);
  });

  it("ramps a host that joins the list: its share follows weight × factor, as Envoy's weights give", () => {
    const w = world(1);
    const group = 'g';
    w.stats.update({ type: 'resolver-update', time: 0, group, addresses: list.slice(0, 4) });
    w.at(1_000);
    w.stats.update({ type: 'resolver-update', time: 1_000, group, addresses: list });
    const pol = policy({ slowStart: DEFAULT_SLOW_START });
    const balancer = new RandomBalancer();
    // Four hosts at weight 1 and the joiner at f: Envoy's share is f / (4 + f).
    const curve = [0, 2_500, 5_000, 7_500, 9_900, 12_000].map((s) => {
      const f = slowStartFactor(s, DEFAULT_SLOW_START);
      return { s, expected: f / (4 + f), got: share(w, balancer, pol, 1_000 + s, joiner) };
    });
    for (const { s, expected, got } of curve)
      assert.ok(Math.abs(got - expected) < 0.02, `${s} ms after joining: share ${got}, Envoy ${expected}`);
    for (let i = 1; i < curve.length; i++)
      assert.ok(curve[i]!.got > curve[i - 1]!.got - 0.01, 'it only rises');
    assert.ok(curve[0]!.got < 0.04, `starts near a tenth of its share: ${curve[0]!.got}`);
  });

  it('does not ramp the hosts of the first list, nor anyone without slowStart', () => {
    const w = world(2);
    w.stats.update({ type: 'resolver-update', time: 0, group: 'g', addresses: list });
    const on = share(w, new RandomBalancer(), policy({ slowStart: DEFAULT_SLOW_START }), 0, joiner);
    assert.ok(Math.abs(on - 0.2) < 0.02, `first list: ${on}`);
    w.stats.update({ type: 'resolver-update', time: 0, group: 'g', addresses: list.slice(0, 4) });
    w.stats.update({ type: 'resolver-update', time: 100, group: 'g', addresses: list });
    const off = share(w, new RandomBalancer(), policy({}), 200, joiner);
    assert.ok(Math.abs(off - 0.2) < 0.02, `slow start off: ${off}`);
  });

  it('ramps a host whose breaker has just closed, with the default balancer too', () => {
    const w = world(3);
    const key = addressKey(joiner);
    w.stats.startRamp(key, -1e9); // a host seen long ago (a record, as its attempts would make)
    w.stats.update({
      type: 'breaker-transition',
      time: 30_000,
      breakerKey: key,
      from: 'half-open',
      to: 'closed',
    });
    const pol = policy({ slowStart: DEFAULT_SLOW_START });
    const balancer = new P2CEwmaBalancer();
    const early = share(w, balancer, pol, 30_000, joiner);
    const late = share(w, balancer, pol, 45_000, joiner);
    assert.ok(early < 0.06, `just closed: ${early}`);
    assert.ok(Math.abs(late - 0.2) < 0.03, `after the window: ${late}`);
  });

  it('validates the option, naming the field', () => {
    assert.equal(parseSlowStart(true, 'f'), DEFAULT_SLOW_START);
    assert.equal(parseSlowStart(undefined, 'f'), undefined);
    assert.deepEqual(parseSlowStart({ window: 2_000 }, 'f'), {
      window: 2_000,
      aggression: 1,
      minWeight: 0.1,
    });
    for (const [value, field] of [
      [{ window: 0 }, 'options.slowStart.window'],
      [{ aggression: -1 }, 'options.slowStart.aggression'],
      [{ minWeight: 2 }, 'options.slowStart.minWeight'],
      [{ minWeight: 0 }, 'options.slowStart.minWeight'],
      [{ windw: 1 }, 'options.slowStart.windw'],
      ['fast', 'options.slowStart'],
    ] as const)
      assert.throws(
        () => new AddressGroup('static://127.0.0.1:1', { slowStart: value as never }),
        (e: unknown) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === field,
      );
    const g = new AddressGroup('static://127.0.0.1:1', { slowStart: true });
    assert.deepEqual(g.hostPolicy.slowStart, DEFAULT_SLOW_START);
    assert.equal(g.hostPolicy.panicThreshold, 0.5);
    g.close();
  });
});

/** A health source failing the hosts in `failing`. */
const failing = (down: readonly Address[]): HostHealthSource => ({
  allHealthy: down.length === 0,
  healthy: (a) => !down.includes(a),
});

describe('panic threshold (seeded)', () => {
  it('skips hosts failing their checks while at least half are healthy', () => {
    const w = world(4);
    const pol = policy({ health: failing(list.slice(0, 2)) }); // 3 of 5 healthy
    for (let i = 0; i < 500; i++) {
      const a = selectAddress(list, new P2CEwmaBalancer(), w.ctx, undefined, NONE, pol);
      assert.ok(a !== list[0] && a !== list[1], `picked ${a?.host}`);
    }
  });

  it('balances over every host when fewer than the threshold are healthy, instead of crushing the few', () => {
    const w = world(5);
    const pol = policy({ health: failing(list.slice(0, 3)) }); // 2 of 5 healthy: panic
    const counts = new Map<Address, number>();
    for (let i = 0; i < 5_000; i++) {
      const a = selectAddress(list, new RandomBalancer(), w.ctx, undefined, NONE, pol)!;
      counts.set(a, (counts.get(a) ?? 0) + 1);
    }
    for (const a of list)
      assert.ok(Math.abs(counts.get(a)! / 5_000 - 0.2) < 0.02, `${a.host}: ${counts.get(a)}`);
    // Threshold 0: never panic, the two healthy hosts take everything.
    const strict = policy({ health: failing(list.slice(0, 3)), panicThreshold: 0 });
    for (let i = 0; i < 200; i++) {
      const a = selectAddress(list, new RandomBalancer(), w.ctx, undefined, NONE, strict);
      assert.ok(a === list[3] || a === list[4], `picked ${a?.host}`);
    }
  });

  it('counts an open breaker as unhealthy, and keeps it out even in panic (its gate would refuse it)', () => {
    const w = world(6);
    // One open, one failing its check: 3 of 5 healthy, no panic; the failing one is skipped.
    const open = (a: Address) => (a === list[0] ? ('open' as const) : ('closed' as const));
    const one = policy({ health: failing([list[1]!]) });
    for (let i = 0; i < 300; i++) {
      const a = selectAddress(list, new RandomBalancer(), w.ctx, open, NONE, one);
      assert.ok(a !== list[0] && a !== list[1], `picked ${a?.host}`);
    }
    // One open, two failing: 2 of 5 healthy, panic: the failing ones are back, the open one is not.
    const two = policy({ health: failing([list[1]!, list[2]!]) });
    const seen = new Set<Address>();
    for (let i = 0; i < 300; i++)
      seen.add(selectAddress(list, new RandomBalancer(), w.ctx, open, NONE, two)!);
    assert.deepEqual(new Set(list.slice(1)), seen);
  });

  it('validates the option, naming the field', () => {
    for (const panicThreshold of [-0.1, 1.5, Number.NaN, '0.5' as unknown as number])
      assert.throws(
        () => new AddressGroup('static://127.0.0.1:1', { panicThreshold }),
        (e: unknown) =>
          isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'options.panicThreshold',
      );
  });
});
