import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectAddress } from '../../lib/balancer/eligible.js';
import { WeightedRoundRobinBalancer } from '../../lib/balancer/weighted-round-robin.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address, PickContext } from '../../lib/types.js';

const ctx = (seed = 1): PickContext => ({
  now: 0,
  random: seededRandom(seed),
  attempt: 1,
  load: () => ({ outstanding: 0, cost: 0, sampled: false }),
});

const addr = (n: number, more: Partial<Address> = {}): Address => ({
  host: `10.0.0.${n}`,
  port: 80,
  ...more,
});

function tally(
  b: WeightedRoundRobinBalancer,
  list: readonly Address[],
  n: number,
  c = ctx(),
): Map<string, number> {
  const counts = new Map<string, number>(list.map((a) => [a.host, 0]));
  for (let i = 0; i < n; i++) {
    const a = b.pick(list, c)!;
    counts.set(a.host, counts.get(a.host)! + 1);
  }
  return counts;
}

describe('weighted round robin (earliest deadline first)', () => {
  it('follows 1:2:3 weights within 2 % over 6 000 picks', () => {
    for (const seed of [1, 2, 3]) {
      const list = [addr(1, { weight: 1 }), addr(2, { weight: 2 }), addr(3, { weight: 3 })];
      const counts = tally(new WeightedRoundRobinBalancer(), list, 6_000, ctx(seed));
      const expected = [1_000, 2_000, 3_000];
      [...counts.values()].forEach((got, i) => {
        assert.ok(
          Math.abs(got - expected[i]!) <= 0.02 * expected[i]!,
          `seed ${seed}: ${[...counts.values()].join(':')}`,
        );
      });
    }
  });

  it("spreads a heavy host's picks instead of bunching them", () => {
    const list = [addr(1, { weight: 1 }), addr(2, { weight: 1 }), addr(3, { weight: 4 })];
    const b = new WeightedRoundRobinBalancer();
    const c = ctx(4);
    const seq = Array.from({ length: 600 }, () => b.pick(list, c)!.host);
    for (let i = 0; i + 6 <= seq.length; i++) {
      const heavy = seq.slice(i, i + 6).filter((h) => h === '10.0.0.3').length;
      assert.ok(heavy >= 3 && heavy <= 5, `window at ${i}: ${heavy} of 6`);
    }
  });

  it('treats a missing weight as 1 and SRV weight 0 as a very small share', () => {
    const equal = tally(new WeightedRoundRobinBalancer(), [addr(1), addr(2), addr(3)], 3_000);
    for (const n of equal.values()) assert.ok(Math.abs(n - 1_000) <= 1, `equal: ${[...equal.values()]}`);
    const zero = tally(
      new WeightedRoundRobinBalancer(),
      [addr(1, { weight: 0 }), addr(2, { weight: 10 })],
      10_000,
    );
    assert.ok(zero.get('10.0.0.1')! <= 10, `weight 0 got ${zero.get('10.0.0.1')}`);
    const allZero = tally(
      new WeightedRoundRobinBalancer(),
      [addr(1, { weight: 0 }), addr(2, { weight: 0 })],
      1_000,
    );
    assert.deepEqual([...allZero.values()], [500, 500]);
  });

  it('gives a host back after an absence no burst of catch-up picks', () => {
    const [a, b] = [addr(1), addr(2)];
    const balancer = new WeightedRoundRobinBalancer();
    const c = ctx(5);
    tally(balancer, [a, b], 10, c);
    tally(balancer, [b], 1_000, c); // a filtered out (open breaker, tried) for a while
    const seq = Array.from({ length: 10 }, () => balancer.pick([a, b], c)!.host);
    for (let i = 0; i + 2 < seq.length; i++)
      assert.ok(seq.slice(i, i + 3).includes('10.0.0.2'), seq.join(' '));
  });

  it('applies a re-resolved weight', () => {
    const balancer = new WeightedRoundRobinBalancer();
    const c = ctx(6);
    tally(balancer, [addr(1, { weight: 1 }), addr(2, { weight: 1 })], 100, c);
    const counts = tally(balancer, [addr(1, { weight: 1 }), addr(2, { weight: 3 })], 4_000, c);
    assert.ok(Math.abs(counts.get('10.0.0.2')! - 3_000) <= 10, `${[...counts.values()]}`);
  });

  it('returns undefined for no candidates and the only one for one', () => {
    assert.equal(new WeightedRoundRobinBalancer().pick([], ctx()), undefined);
    const one = addr(1, { weight: 5, priority: 3 });
    assert.equal(new WeightedRoundRobinBalancer().pick([one], ctx()), one);
  });
});

describe('weighted round robin priorities', () => {
  const a = addr(1, { priority: 0, weight: 1 });
  const b = addr(2, { priority: 0, weight: 1 });
  const c = addr(3, { priority: 1, weight: 100 });
  const all = [c, a, b];

  it('uses only the lowest priority value while it has a candidate', () => {
    const counts = tally(new WeightedRoundRobinBalancer(), all, 1_000);
    assert.deepEqual(Object.fromEntries(counts), { '10.0.0.3': 0, '10.0.0.1': 500, '10.0.0.2': 500 });
  });

  it('treats a missing priority as 0, the most preferred tier', () => {
    const plain = addr(4);
    const counts = tally(new WeightedRoundRobinBalancer(), [c, plain], 100);
    assert.equal(counts.get('10.0.0.4'), 100);
  });

  it('falls back to the next tier only when the preferred tier has no eligible host', () => {
    const balancer = new WeightedRoundRobinBalancer();
    const pc = ctx(7);
    const open = new Set<string>();
    const state = (x: Address) => (open.has(x.host) ? 'open' : 'closed');
    const pick = () => selectAddress(all, balancer, pc, state, new Set())!.host;

    open.add('10.0.0.1'); // one preferred host open: the other preferred host takes everything
    for (let i = 0; i < 50; i++) assert.equal(pick(), '10.0.0.2');

    open.add('10.0.0.2'); // the whole preferred tier open: the next tier serves
    for (let i = 0; i < 50; i++) assert.equal(pick(), '10.0.0.3');

    open.delete('10.0.0.1'); // a preferred host is eligible again (e.g. half-open counts): back to it
    for (let i = 0; i < 50; i++) assert.equal(pick(), '10.0.0.1');
  });
});
