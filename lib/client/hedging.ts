import type { Clock } from '../internal/clock.js';
import { LatencyWindow } from '../resilience/latency-window.js';
import type { ResolvedHedge } from '../resilience/hedge.js';
import { RetryBudget } from '../resilience/retry-budget.js';
import type { GroupLike } from '../types.js';

/** How long a latency window lasts, ms: the adaptive delay is refreshed this often. */
export const HEDGE_WINDOW_MS = 5_000;
/** How long a hedged call's deposit counts in the hedge budget, ms. */
export const HEDGE_BUDGET_TTL = 10_000;

/** A group's hedging state: its latency window and its hedge budgets (one per `maxExtraLoad`). */
class GroupHedging {
  readonly window: LatencyWindow;
  /** Most groups see one `maxExtraLoad`; a second one gets its own budget. */
  #ratio = -1;
  #budget: RetryBudget | undefined;
  #others: Map<number, RetryBudget> | undefined;

  constructor(
    readonly clock: Clock,
    now: number,
  ) {
    this.window = new LatencyWindow(HEDGE_WINDOW_MS, now);
  }

  budget(ratio: number): RetryBudget {
    if (ratio === this.#ratio) return this.#budget!;
    if (this.#budget === undefined) {
      this.#ratio = ratio;
      return (this.#budget = newBudget(ratio, this.clock));
    }
    const others = (this.#others ??= new Map());
    let b = others.get(ratio);
    if (b === undefined) others.set(ratio, (b = newBudget(ratio, this.clock)));
    return b;
  }
}

/** Finagle's hedge budget: `maxExtraLoad` hedges per recent call, no floor, so it holds at any rate. */
function newBudget(ratio: number, clock: Clock): RetryBudget {
  return new RetryBudget({ ratio, minRetriesPerSecond: 0, ttl: HEDGE_BUDGET_TTL }, clock);
}

/**
 * The client's hedging state, made on its first hedged call: per group, the live latency window
 * the adaptive delay reads (fed by the first attempt of every round of the group's calls, hedged
 * or not: see `Call`'s attempt-end) and the hedge budgets. Groups are held weakly: a group dropped by the user takes its
 * state with it.
 */
export class Hedging {
  readonly #groups = new WeakMap<GroupLike, GroupHedging>();

  constructor(readonly clock: Clock) {}

  #of(group: GroupLike, now: number): GroupHedging {
    let g = this.#groups.get(group);
    if (g === undefined) this.#groups.set(group, (g = new GroupHedging(this.clock, now)));
    return g;
  }

  /** A hedged call starts: its deposit in the group's hedge budget. */
  deposit(group: GroupLike, hedge: ResolvedHedge, now: number): void {
    this.#of(group, now).budget(hedge.maxExtraLoad).deposit(now);
  }

  /** A hedge asks to go: true when the group's hedge budget grants it. */
  tryWithdraw(group: GroupLike, hedge: ResolvedHedge, now: number): boolean {
    return this.#of(group, now).budget(hedge.maxExtraLoad).tryWithdraw();
  }

  /**
   * The delay before the next hedge, ms: the fixed one, or the group's live percentile; undefined
   * while the window holds too few latencies to hedge on.
   */
  delay(group: GroupLike, hedge: ResolvedHedge, now: number): number | undefined {
    if (hedge.delayMs !== undefined) return hedge.delayMs;
    return this.#of(group, now).window.percentile(hedge.percentile, hedge.minSamples, now);
  }

  /**
   * A round's first attempt of `group` took `ms` (answered, or cancelled by a hedge that won): a
   * latency sample, kept only for groups hedged on.
   */
  record(group: GroupLike, ms: number, now: number): void {
    const g = this.#groups.get(group);
    if (g !== undefined) g.window.record(ms, now);
  }
}
