import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createBalancer,
  DEFAULT_LOAD_BALANCER,
  P2CBalancer,
  P2CEwmaBalancer,
  RandomBalancer,
  RoundRobinBalancer,
  WeightedRoundRobinBalancer,
} from '../../lib/balancer/index.js';
import { isXhttpError } from '../../lib/errors.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address, LoadBalancer, LoadBalancerName, PickContext } from '../../lib/types.js';

describe('createBalancer', () => {
  it("defaults to p2c-ewma, the contract's default", () => {
    assert.equal(DEFAULT_LOAD_BALANCER, 'p2c-ewma');
    assert.ok(createBalancer(undefined) instanceof P2CEwmaBalancer);
  });

  it('builds each built-in by name, a fresh instance per call (per group)', () => {
    const byName: [LoadBalancerName, new () => LoadBalancer][] = [
      ['round-robin', RoundRobinBalancer],
      ['random', RandomBalancer],
      ['p2c', P2CBalancer],
      ['p2c-ewma', P2CEwmaBalancer],
      ['weighted-round-robin', WeightedRoundRobinBalancer],
    ];
    for (const [name, type] of byName) {
      const a = createBalancer(name);
      assert.ok(a instanceof type, name);
      assert.notEqual(createBalancer(name), a);
    }
  });

  it('keeps round-robin state per group', () => {
    const list: Address[] = [
      { host: 'a', port: 1 },
      { host: 'b', port: 1 },
    ];
    const ctx: PickContext = {
      now: 0,
      random: () => 0,
      attempt: 1,
      load: () => ({ outstanding: 0, cost: 0, sampled: false }),
    };
    const g1 = createBalancer('round-robin');
    const g2 = createBalancer('round-robin');
    assert.equal(g1.pick(list, ctx)?.host, 'a');
    assert.equal(g2.pick(list, ctx)?.host, 'a');
    assert.equal(g1.pick(list, ctx)?.host, 'b');
  });

  it('returns a user balancer as given', () => {
    const mine: LoadBalancer = { pick: (c) => c[0] };
    assert.equal(createBalancer(mine), mine);
  });

  it('rejects an unknown name or an object without pick with INVALID_ARGUMENT naming the field', () => {
    const bad: unknown[] = ['least-conn', 'toString', '', {}, { pick: 1 }, null, 42, () => undefined];
    for (const spec of bad) {
      assert.throws(
        () => createBalancer(spec as LoadBalancerName, 'options.loadBalancer'),
        (e: unknown) =>
          isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'options.loadBalancer',
        String(spec),
      );
    }
    assert.throws(() => createBalancer('nope' as LoadBalancerName), {
      code: 'INVALID_ARGUMENT',
      field: 'loadBalancer',
    });
  });

  it('names the choices in the message', () => {
    assert.throws(
      () => createBalancer('rr' as LoadBalancerName),
      /unknown load balancer 'rr'; expected one of round-robin, random, p2c, p2c-ewma, finagle-p2c-ewma, weighted-round-robin/,
    );
  });

  it('gives built-ins that work with a seeded context', () => {
    const list: Address[] = [
      { host: 'a', port: 1, weight: 1 },
      { host: 'b', port: 1, weight: 2 },
    ];
    const ctx: PickContext = {
      now: 0,
      random: seededRandom(1),
      attempt: 1,
      load: () => ({ outstanding: 0, cost: 0, sampled: false }),
    };
    for (const name of ['round-robin', 'random', 'p2c', 'p2c-ewma', 'weighted-round-robin'] as const) {
      const b = createBalancer(name);
      for (let i = 0; i < 10; i++) assert.ok(list.includes(b.pick(list, ctx)!), name);
    }
  });
});
