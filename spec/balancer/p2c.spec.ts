import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PANIC_REPICKS, type CandidateState } from '../../lib/balancer/eligible.js';
import { P2CBalancer } from '../../lib/balancer/p2c.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address, HostLoad, PickContext } from '../../lib/types.js';

const hosts = (n: number): Address[] =>
  Array.from({ length: n }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 80 }));

/** A context whose load() reports `outstanding[host]` and records which hosts were looked at. */
function ctx(outstanding: Record<string, number>, seed = 1, looked: Address[] = []): PickContext {
  return {
    now: 0,
    random: seededRandom(seed),
    attempt: 1,
    load(a): HostLoad {
      looked.push(a);
      return { outstanding: outstanding[a.host] ?? 0, cost: 0, sampled: false };
    },
  };
}

describe('p2c (least outstanding)', () => {
  it('compares two distinct hosts and picks the one with fewer outstanding', () => {
    const list = hosts(5);
    const outstanding = { '10.0.0.1': 5, '10.0.0.2': 1, '10.0.0.3': 9, '10.0.0.4': 3, '10.0.0.5': 7 };
    const b = new P2CBalancer();
    for (let seed = 1; seed <= 500; seed++) {
      const looked: Address[] = [];
      const pick = b.pick(list, ctx(outstanding, seed, looked));
      assert.equal(looked.length, 2, 'two loads read per pick');
      const [x, y] = looked as [Address, Address];
      assert.notEqual(x, y, 'the two choices are distinct hosts');
      const lower =
        outstanding[x.host as keyof typeof outstanding] <= outstanding[y.host as keyof typeof outstanding]
          ? x
          : y;
      assert.equal(pick, lower);
    }
  });

  it('draws every pair uniformly (Finagle P2CPick: b from n−1, shifted past a)', () => {
    const list = hosts(4);
    const pairs = new Map<string, number>();
    const c = ctx({}, 3);
    const looked: Address[] = [];
    const recording: PickContext = { ...c, load: (a) => (looked.push(a), c.load(a)) };
    for (let i = 0; i < 12_000; i++) {
      looked.length = 0;
      new P2CBalancer().pick(list, recording);
      const key = `${looked[0]!.host}>${looked[1]!.host}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    assert.equal(pairs.size, 12, 'all 4·3 ordered pairs occur');
    for (const n of pairs.values()) assert.ok(Math.abs(n - 1_000) < 120, `pair count ${n}`);
  });

  it('never picks the busiest of n hosts, and the idlest whenever it is drawn', () => {
    const list = hosts(3);
    const outstanding = { '10.0.0.1': 10, '10.0.0.2': 0, '10.0.0.3': 5 };
    const counts = new Map<string, number>();
    const c = ctx(outstanding, 5);
    for (let i = 0; i < 3_000; i++) {
      const a = new P2CBalancer().pick(list, c)!;
      counts.set(a.host, (counts.get(a.host) ?? 0) + 1);
    }
    assert.equal(counts.get('10.0.0.1'), undefined);
    // The idle host is in 2 of the 3 pairs: about 2/3 of picks.
    assert.ok(Math.abs(counts.get('10.0.0.2')! / 3_000 - 2 / 3) < 0.03);
  });

  it('handles zero and one candidates without drawing', () => {
    const one = hosts(1);
    const c: PickContext = { ...ctx({}), random: () => assert.fail('no draw needed') };
    assert.equal(new P2CBalancer().pick([], c), undefined);
    assert.equal(new P2CBalancer().pick(one, c), one[0]);
  });
});

describe('p2c past open breakers (pickEligible: P2C over the eligible hosts, in O(1))', () => {
  const list = hosts(5);
  const [h1, h2, h3, h4, h5] = list as [Address, Address, Address, Address, Address];
  const openSet =
    (open: readonly Address[]) =>
    (a: Address): CandidateState =>
      open.includes(a) ? 'open' : 'closed';

  it('never returns an open host, and an open host does not hand its share to a loaded one', () => {
    // h1, h2 open; h5 busy (a slow host carries requests). P2C over {h3, h4, h5} gives h5 only the
    // draws where it meets neither h3 nor h4 — none; "the other of an open draw" would give it ~1/5.
    const outstanding = { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 1, '10.0.0.4': 1, '10.0.0.5': 9 };
    const b = new P2CBalancer();
    const counts = new Map<Address, number>();
    const c = ctx(outstanding, 7);
    for (let i = 0; i < 6_000; i++) {
      const a = b.pickEligible(list, c, openSet([h1, h2]));
      if (a !== undefined) counts.set(a, (counts.get(a) ?? 0) + 1);
    }
    assert.equal((counts.get(h1) ?? 0) + (counts.get(h2) ?? 0), 0, 'no open host');
    assert.ok((counts.get(h5) ?? 0) / 6_000 < 0.01, `busy host share ${(counts.get(h5) ?? 0) / 6_000}`);
    assert.ok((counts.get(h3) ?? 0) > 2_500 && (counts.get(h4) ?? 0) > 2_500);
  });

  it('gives up (undefined) when its draws find no eligible host, so the caller filters and panics', () => {
    const looked: Address[] = [];
    const pick = new P2CBalancer().pickEligible(list, ctx({}, 3, looked), openSet(list));
    assert.equal(pick, undefined);
    assert.equal(looked.length, 0, 'no load read');
  });

  it('reads a bounded number of breaker states whatever the number of hosts (O(1))', () => {
    for (const n of [3, 30, 300]) {
      let reads = 0;
      const state = (): CandidateState => (reads++, 'closed');
      new P2CBalancer().pickEligible(hosts(n), ctx({}, n), state);
      assert.equal(reads, 2, `${n} hosts`);
    }
    let reads = 0;
    const allOpen = (): CandidateState => (reads++, 'open');
    new P2CBalancer().pickEligible(hosts(300), ctx({}, 1), allOpen);
    assert.equal(reads, 1 + PANIC_REPICKS);
  });
});
