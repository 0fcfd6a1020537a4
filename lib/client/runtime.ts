import type { Dispatcher } from 'undici';
import type { CircuitBreakers } from '../breaker/breakers.js';
import type { LoadStats } from '../balancer/load-stats.js';
import type { EventBus } from '../events/bus.js';
import type { AttemptStartEvent } from '../events/events.js';
import type { Clock } from '../internal/clock.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { AttemptTimeouts } from '../transport/undici.js';
import type { Address, GroupLike, PickContext } from '../types.js';
import type { Bulkhead } from './bulkhead.js';
import type { Hedging } from './hedging.js';
import type { LiveCalls } from './live-calls.js';

/** What the call chain needs from its client: the shared, long-lived parts. */
export interface Runtime {
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly random: () => number;
  readonly breakers: CircuitBreakers | undefined;
  readonly loadStats: LoadStats;
  /** One pick context for every pick of this client, its fields set just before each `pick()`. */
  readonly pickContext: PickContext & { now: number; attempt: number };
  readonly budget: RetryBudget | undefined;
  /** Phase timeouts for every attempt (`attempt` 0: none unless the call sets one). */
  readonly timeouts: AttemptTimeouts;
  /** The pooled dispatcher for an address of a group (one per origin, reused). */
  dispatcher(group: GroupLike, address: Address): Dispatcher;
  /** Extra headers for an attempt (B3 tracing), called right after its start event. */
  readonly attemptHeaders: ((event: AttemptStartEvent) => Record<string, string>) | undefined;
  /** The request header that carries each attempt's time left (lower case); undefined: none sent. */
  readonly deadlineHeader?: string | undefined;
  nextCallId(): number;
  /** The calls started and not settled, so `close()` can end them; `closed` once it has begun. */
  readonly calls: LiveCalls;
  /** The bulkheads of the groups that have one (`maxConcurrentCalls`); empty costs one size check. */
  readonly bulkheads: ReadonlyMap<GroupLike, Bulkhead>;
  /** Hedging's per-group latency windows and budgets: made by the first hedged call. */
  hedging?: Hedging | undefined;
}
