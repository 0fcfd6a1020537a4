import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundRobinBalancer } from '../../lib/balancer/round-robin.js';
import { RandomBalancer } from '../../lib/balancer/random.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address, PickContext } from '../../lib/types.js';

const hosts = (n: number): Address[] =>
  Array.from({ length: n }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 80 }));

function ctx(seed = 1): PickContext {
  return {
    now: 0,
    random: seededRandom(seed),
    attempt: 1,
    load: () => ({ outstanding: 0, cost: 0, sampled: false }),
  };
}

function tally(pick: () => Address | undefined, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = pick();
    assert.ok(a);
    counts.set(a.host, (counts.get(a.host) ?? 0) + 1);
  }
  return counts;
}

describe('round robin', () => {
  it('spreads picks evenly over 3 hosts, in list order', () => {
    const b = new RoundRobinBalancer();
    const list = hosts(3);
    const c = ctx();
    const first = list.indexOf(b.pick(list, c)!);
    for (let i = 1; i < 6; i++) assert.equal(b.pick(list, c), list[(first + i) % 3]);
    const counts = tally(() => b.pick(list, c), 3_000);
    assert.deepEqual([...counts.values()], [1_000, 1_000, 1_000]);
  });

  it('starts at a random host, so clients started together do not all hit the first', () => {
    const starts = new Set<string>();
    for (let seed = 1; seed <= 20; seed++)
      starts.add(new RoundRobinBalancer().pick(hosts(5), ctx(seed))!.host);
    assert.ok(starts.size >= 3, `starts: ${[...starts].join(' ')}`);
  });

  it('keeps rotating when the list shrinks, grows or is filtered', () => {
    const b = new RoundRobinBalancer();
    const c = ctx();
    const list = hosts(5);
    for (let i = 0; i < 7; i++) b.pick(list, c);
    const two = list.slice(0, 2);
    const counts = tally(() => b.pick(two, c), 100);
    assert.deepEqual([...counts.values()], [50, 50]);
    const seen = tally(() => b.pick(list, c), 500);
    assert.deepEqual([...seen.values()], [100, 100, 100, 100, 100]);
  });

  it('keeps a cursor per instance (one per group)', () => {
    const list = hosts(3);
    const a = new RoundRobinBalancer();
    const b = new RoundRobinBalancer();
    const c = ctx();
    const a1 = a.pick(list, c);
    b.pick(list, c);
    b.pick(list, c);
    assert.equal(a.pick(list, c), list[(list.indexOf(a1!) + 1) % 3]);
  });

  it('returns undefined for no candidates and the only one for one', () => {
    const b = new RoundRobinBalancer();
    assert.equal(b.pick([], ctx()), undefined);
    const one = hosts(1);
    assert.equal(b.pick(one, ctx()), one[0]);
  });
});

describe('random', () => {
  it('picks uniformly from the seeded source, repeatably', () => {
    const list = hosts(4);
    const c = ctx(1);
    const counts = tally(() => new RandomBalancer().pick(list, c), 40_000);
    for (const n of counts.values()) assert.ok(Math.abs(n - 10_000) < 400, `count ${n}`);
    const again = ctx(9);
    const once = ctx(9);
    const b = new RandomBalancer();
    for (let i = 0; i < 50; i++) assert.equal(b.pick(list, again), b.pick(list, once));
  });

  it('returns undefined for no candidates', () => {
    assert.equal(new RandomBalancer().pick([], ctx()), undefined);
  });
});
