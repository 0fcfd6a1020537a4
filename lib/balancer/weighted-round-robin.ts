import { addressKey } from '../events/events.js';
import type { Address, PickContext } from '../types.js';
import type { TierBalancer } from './eligible.js';
import { priorityOf, weightOf } from './srv.js';

/** Picks between sweeps for hosts no longer offered (a power of two). */
const FORGET_EVERY = 1024;

interface Entry {
  /** Virtual time at which this host is next due. */
  deadline: number;
  /** The weight the deadline was stepped with, to notice a changed weight. */
  weight: number;
  /** Pick counter when last a candidate, to forget hosts that left. */
  seen: number;
}

/**
 * `weighted-round-robin`: SRV-style weights and priorities, scheduled earliest-deadline-first as in
 * grpc-js `load-balancer-weighted-round-robin`.
 *
 * Each host is due every `1 / weight` units of virtual time; a pick takes the host with the earliest
 * deadline and pushes it on by `1 / weight`, so over any run shares follow the weights exactly and the
 * picks of a heavy host are spread out rather than bunched. Only the lowest `priority` value among the
 * candidates is used (through `selectAddress` the candidates are already one tier: the lowest with
 * an eligible host). A host that was not a candidate for a while (open
 * breaker, already tried) resumes at the present instead of its stale deadline, so it gets no burst.
 * First deadlines are offset at random so that many clients do not move in lock step. O(n) per pick,
 * no allocation once every host has been seen. One instance per group.
 *
 * @example
 * ```ts
 * new AddressGroup('dns+srv://_api._tcp.internal', { loadBalancer: 'weighted-round-robin' });
 * ```
 */
export class WeightedRoundRobinBalancer implements TierBalancer {
  /** Entries by address object (the group's snapshot objects are stable), then by key. */
  readonly #byAddress = new WeakMap<Address, Entry>();
  readonly #byKey = new Map<string, Entry>();
  /** Virtual time: the deadline of the last pick. */
  #now = 0;
  #picks = 0;

  pick(candidates: readonly Address[], ctx: PickContext): Address | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const picks = ++this.#picks;

    let tier = Infinity;
    for (let i = 0; i < n; i++) tier = Math.min(tier, priorityOf(candidates[i]!));

    let best: Address | undefined;
    let bestEntry: Entry | undefined;
    let bestDeadline = Infinity;
    for (let i = 0; i < n; i++) {
      const a = candidates[i]!;
      if (priorityOf(a) !== tier) continue;
      const entry = this.#entry(a, ctx);
      entry.seen = picks;
      const deadline = Math.max(entry.deadline, this.#now);
      if (deadline < bestDeadline) {
        bestDeadline = deadline;
        best = a;
        bestEntry = entry;
      }
    }
    if (best === undefined || bestEntry === undefined) return candidates[0];
    this.#now = bestDeadline;
    bestEntry.deadline = bestDeadline + 1 / bestEntry.weight;
    if ((picks & (FORGET_EVERY - 1)) === 0) this.#forget(picks);
    return best;
  }

  /** One SRV tier: the same earliest-deadline-first schedule (see `TierBalancer`). */
  pickTier(tier: readonly Address[], ctx: PickContext): Address | undefined {
    return this.pick(tier, ctx);
  }

  #entry(a: Address, ctx: PickContext): Entry {
    const weight = weightOf(a);
    let entry = this.#byAddress.get(a);
    if (entry === undefined) {
      const key = addressKey(a);
      entry = this.#byKey.get(key);
      if (entry === undefined) {
        entry = { deadline: this.#now + ctx.random() / weight, weight, seen: 0 };
        this.#byKey.set(key, entry);
      }
      this.#byAddress.set(a, entry);
    }
    if (entry.weight !== weight) {
      // A re-resolved weight takes effect from now on: rescale what is left of the current period.
      entry.deadline = this.#now + Math.max(0, entry.deadline - this.#now) * (entry.weight / weight);
      entry.weight = weight;
    }
    return entry;
  }

  /** Drops hosts not offered for a while, so churning address lists cannot grow the map. */
  #forget(picks: number): void {
    for (const [key, entry] of this.#byKey) {
      if (picks - entry.seen >= FORGET_EVERY) this.#byKey.delete(key);
    }
  }
}
