import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PANIC_REPICKS, selectAddress, type CandidateState } from '../../lib/balancer/eligible.js';
import { P2CEwmaBalancer } from '../../lib/balancer/p2c-ewma.js';
import { RoundRobinBalancer } from '../../lib/balancer/round-robin.js';
import { addressKey } from '../../lib/events/events.js';
import { seededRandom } from '../../lib/internal/random.js';
import type { Address, LoadBalancer, PickContext } from '../../lib/types.js';

const list: readonly Address[] = Array.from({ length: 4 }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 80 }));
const [h1, h2, h3, h4] = list as [Address, Address, Address, Address];

const ctx = (seed = 1): PickContext => ({
  now: 0,
  random: seededRandom(seed),
  attempt: 1,
  load: () => ({ outstanding: 0, cost: 0, sampled: false }),
});

/** Records the candidate lists a balancer was offered, and picks from them with round robin. */
class Spy implements LoadBalancer {
  readonly offered: (readonly Address[])[] = [];
  readonly #inner = new RoundRobinBalancer();
  pick(candidates: readonly Address[], c: PickContext): Address | undefined {
    this.offered.push(candidates);
    return this.#inner.pick(candidates, c);
  }
}

const states =
  (open: readonly Address[], halfOpen: readonly Address[] = []) =>
  (a: Address): CandidateState =>
    open.includes(a) ? 'open' : halfOpen.includes(a) ? 'half-open' : 'closed';

const NONE: ReadonlySet<string> = new Set();

describe('selectAddress', () => {
  it("hands the balancer the group's own list when nothing is filtered (no copy)", () => {
    const spy = new Spy();
    selectAddress(list, spy, ctx(), states([]), NONE);
    selectAddress(list, spy, ctx(), undefined, NONE);
    assert.equal(spy.offered[0], list);
    assert.equal(spy.offered[1], list);
  });

  it('skips hosts whose breaker is open while a closed or half-open host remains', () => {
    const spy = new Spy();
    const c = ctx();
    for (let i = 0; i < 100; i++) {
      const a = selectAddress(list, spy, c, states([h1, h3], [h4]), NONE);
      assert.ok(a === h2 || a === h4, `picked ${a?.host}`);
    }
    assert.deepEqual(spy.offered[0], [h2, h4]);
    const onlyHalfOpen = selectAddress(list, spy, c, states([h1, h2, h3], [h4]), NONE);
    assert.equal(onlyHalfOpen, h4);
  });

  it('avoids hosts already tried in this call while an untried one remains', () => {
    const c = ctx(2);
    for (let i = 0; i < 100; i++) {
      const a = selectAddress(
        list,
        new P2CEwmaBalancer(),
        c,
        states([]),
        new Set([addressKey(h1), addressKey(h2)]),
      );
      assert.ok(a === h3 || a === h4, `picked ${a?.host}`);
    }
    // Every eligible host tried: pick among them all again rather than among open ones.
    const spy = new Spy();
    const tried = new Set(list.map(addressKey));
    selectAddress(list, spy, c, states([h1]), tried);
    assert.deepEqual(spy.offered[0], [h2, h3, h4]);
    // Untried preference applies after the breaker filter: an open untried host is still skipped.
    const a = selectAddress(list, new Spy(), c, states([h4]), new Set([h1, h2].map(addressKey)));
    assert.equal(a, h3);
  });

  it('panics when every candidate is open: picks from all, re-picks at most 4 times, returns the last', () => {
    const spy = new Spy();
    const a = selectAddress(list, spy, ctx(3), states(list), NONE);
    assert.ok(a !== undefined && list.includes(a));
    assert.equal(spy.offered.length, 1 + PANIC_REPICKS);
    assert.ok(spy.offered.every((o) => o === list));
  });

  it('stops re-picking in panic as soon as a pick is no longer open', () => {
    let calls = 0;
    // The breaker view changes under us (e.g. an open window elapsed): the second look finds h2 closed.
    const state = (x: Address): CandidateState => (calls >= 1 && x === h2 ? 'closed' : 'open');
    const balancer: LoadBalancer = { pick: () => (++calls === 1 ? h1 : h2) };
    assert.equal(selectAddress(list, balancer, ctx(), state, NONE), h2);
    assert.equal(calls, 2);
  });

  it('prefers untried hosts in panic too, so a retry still moves', () => {
    const spy = new Spy();
    selectAddress(list, spy, ctx(), states(list), new Set([addressKey(h1)]));
    assert.deepEqual(spy.offered[0], [h2, h3, h4]);
  });

  it('returns undefined for no candidates without asking the balancer', () => {
    const spy = new Spy();
    assert.equal(selectAddress([], spy, ctx(), states([]), NONE), undefined);
    assert.equal(spy.offered.length, 0);
  });
});
