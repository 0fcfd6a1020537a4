import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBalancer, selectAddress, type CandidateState } from '../../lib/balancer/index.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address, HostLoad, LoadBalancerName, PickContext } from '../../lib/types.js';

const BALANCERS: readonly LoadBalancerName[] = [
  'round-robin',
  'random',
  'p2c',
  'p2c-ewma',
  'weighted-round-robin',
];
const PICKS = 8_000;
/** Absolute tolerance on a share over 8 000 seeded picks (binomial σ ≤ 0.0055 for p ≤ 1/2). */
const TOLERANCE = 0.025;

const ctx = (seed: number, load: (a: Address) => HostLoad = () => IDLE): PickContext => ({
  now: 0,
  random: seededRandom(seed),
  attempt: 1,
  load,
});
const IDLE: HostLoad = { outstanding: 0, cost: 0, sampled: false };

/**
 * What dns+srv makes of two priority-10 targets with weights 3:1, the first behind two addresses
 * (3 / 2 each), and one priority-20 target: per-address shares 3/8, 3/8, 1/4, and 0 for the backup.
 */
const A1: Address = { host: '10.0.0.1', port: 80, priority: 10, weight: 1.5 };
const A2: Address = { host: '10.0.0.2', port: 80, priority: 10, weight: 1.5 };
const C: Address = { host: '10.0.0.3', port: 80, priority: 10, weight: 1 };
const D: Address = { host: '10.0.0.4', port: 80, priority: 20, weight: 1 };
const SRV = [D, A1, C, A2];
const NOTHING_TRIED: ReadonlySet<string> = new Set();

function shares(
  name: LoadBalancerName,
  list: readonly Address[],
  seed: number,
  options: {
    state?: (a: Address) => CandidateState;
    load?: (a: Address) => HostLoad;
    tried?: ReadonlySet<string>;
  } = {},
): Map<string, number> {
  const balancer = createBalancer(name);
  const c = ctx(seed, options.load);
  const counts = new Map<string, number>(list.map((a) => [a.host, 0]));
  for (let i = 0; i < PICKS; i++) {
    const a = selectAddress(list, balancer, c, options.state, options.tried ?? NOTHING_TRIED)!;
    counts.set(a.host, counts.get(a.host)! + 1);
  }
  return new Map([...counts].map(([host, n]) => [host, n / PICKS]));
}

function assertShares(got: Map<string, number>, want: Record<string, number>, label: string): void {
  for (const [host, share] of Object.entries(want)) {
    const actual = got.get(host) ?? 0;
    assert.ok(
      Math.abs(actual - share) <= (share === 0 ? 0 : TOLERANCE),
      `${label}: ${host} got ${actual.toFixed(3)}, want ${share.toFixed(3)} (${[...got.values()].map((x) => x.toFixed(3)).join(' / ')})`,
    );
  }
}

describe('SRV priority and weight under every balancer (selectAddress)', () => {
  for (const name of BALANCERS) {
    it(`${name}: shares follow the weights (3/8, 3/8, 1/4) and the priority-20 host gets nothing`, () => {
      for (const seed of [1, 2, 3]) {
        assertShares(
          shares(name, SRV, seed),
          { [A1.host]: 3 / 8, [A2.host]: 3 / 8, [C.host]: 1 / 4, [D.host]: 0 },
          `${name} seed ${seed}`,
        );
      }
    });

    it(`${name}: the next priority serves only when no host of the first is eligible`, () => {
      const open = (hosts: readonly Address[]) => (a: Address) => (hosts.includes(a) ? 'open' : 'closed');
      // C open: A1 and A2 share the tier; the backup still gets nothing.
      assertShares(
        shares(name, SRV, 4, { state: open([C]) }),
        { [A1.host]: 1 / 2, [A2.host]: 1 / 2, [C.host]: 0, [D.host]: 0 },
        `${name}, C open`,
      );
      // A half-open host is eligible: the tier stays where it is.
      const halfOpen = (a: Address): CandidateState => (a === D ? 'closed' : 'half-open');
      assert.equal(shares(name, SRV, 5, { state: halfOpen }).get(D.host), 0, `${name}, tier half-open`);
      // Every priority-10 host open: all traffic to the priority-20 host.
      assertShares(
        shares(name, SRV, 6, { state: open([A1, A2, C]) }),
        { [D.host]: 1 },
        `${name}, first tier open`,
      );
      // Every host open: the panic still returns a host (the breaker gate decides).
      const all = shares(name, SRV, 7, { state: open(SRV) });
      assert.equal(
        [...all.values()].reduce((x, y) => x + y, 0),
        1,
      );
    });

    it(`${name}: a retry stays in the tier, on an untried host`, () => {
      const got = shares(name, SRV, 8, { tried: new Set([`${A1.host}:80`]) });
      assert.equal(got.get(A1.host), 0);
      assert.equal(got.get(D.host), 0);
      assert.ok(got.get(A2.host)! > 0 && got.get(C.host)! > 0);
    });
  }

  it('p2c and p2c-ewma still steer by load among hosts of one weight; the weight share holds', () => {
    const busy = (a: Address): HostLoad =>
      a === A1 ? { outstanding: 5, cost: 50, sampled: true } : { outstanding: 0, cost: 5, sampled: true };
    for (const name of ['p2c', 'p2c-ewma'] as const) {
      assertShares(
        shares(name, SRV, 9, { load: busy }),
        { [A1.host]: 0, [A2.host]: 3 / 4, [C.host]: 1 / 4, [D.host]: 0 },
        `${name}, A1 busy`,
      );
    }
  });

  it('a balancer of your own: pick() sees one weight class of the tier; pickTier() the whole tier', () => {
    const seen: string[] = [];
    const own = {
      pick(candidates: readonly Address[]) {
        seen.push(candidates.map((a) => a.host).join(','));
        return candidates[0];
      },
    };
    const c = ctx(12);
    for (let i = 0; i < 400; i++) selectAddress(SRV, own, c, undefined, NOTHING_TRIED);
    const classes = new Set(seen);
    assert.deepEqual([...classes].sort(), [`${A1.host},${A2.host}`, C.host]);
    const cShare = seen.filter((x) => x === C.host).length / seen.length;
    assert.ok(Math.abs(cShare - 1 / 4) < 0.06, `class of C drawn ${cShare}`);

    const tiers: string[] = [];
    const ring = {
      pick: () => undefined,
      pickTier(tier: readonly Address[]) {
        tiers.push(tier.map((a) => a.host).join(','));
        return tier[0];
      },
    };
    selectAddress(SRV, ring, c, undefined, NOTHING_TRIED);
    assert.deepEqual(tiers, [`${A1.host},${C.host},${A2.host}`]);
  });

  it('weight 0 is a very small share next to weighted hosts (RFC 2782)', () => {
    const list = [
      { host: '10.0.0.1', port: 80, weight: 0 },
      { host: '10.0.0.2', port: 80, weight: 10 },
    ];
    for (const name of BALANCERS) assert.ok(shares(name, list, 10).get('10.0.0.1')! < 0.005, name);
  });

  it('a list without SRV metadata (or with one priority and one weight) picks exactly as before', () => {
    const plain: Address[] = [1, 2, 3, 4].map((i) => ({ host: `10.0.0.${i}`, port: 80 }));
    const flat: Address[] = plain.map((a) => ({ ...a, priority: 0, weight: 7 }));
    for (const name of BALANCERS) {
      // The balancer alone, as before SRV was honoured, against selectAddress on both lists.
      const direct = createBalancer(name);
      const c0 = ctx(11);
      const expected = Array.from({ length: 200 }, () => direct.pick(plain, c0)!.host);
      for (const list of [plain, flat]) {
        const balancer = createBalancer(name);
        const c = ctx(11);
        const got = Array.from(
          { length: 200 },
          () => selectAddress(list, balancer, c, undefined, NOTHING_TRIED)!.host,
        );
        assert.deepEqual(got, expected, name);
      }
    }
  });
});
