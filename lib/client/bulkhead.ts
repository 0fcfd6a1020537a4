import { invalidArgument } from '../errors.js';
import { describeValue } from '../internal/validate.js';

/**
 * A group's bulkhead (`AddressGroupOptions.maxConcurrentCalls`, `maxQueued`), as the dashboard and
 * `health$` show it.
 */
export interface BulkheadState {
  /** Calls holding a slot: started and not settled. */
  readonly active: number;
  /** Calls waiting for a slot, oldest first served. */
  readonly queued: number;
  /** Slots. */
  readonly maxConcurrentCalls: number;
  /** Places in the queue. */
  readonly maxQueued: number;
  /** Calls failed with `OVERLOADED` since the client started using the group. */
  readonly overloaded: number;
}

/** Largest `maxConcurrentCalls` / `maxQueued` accepted: far past anything one process can hold. */
export const MAX_BULKHEAD_SIZE = 1_000_000;

/** A call waiting in a {@link Bulkhead}'s queue. */
export interface BulkheadWaiter {
  /** The slot is this call's now (already counted as active): go on, or release it if settled. */
  onBulkheadSlot(): void;
}

/**
 * A per-group semaphore with a FIFO queue: a call takes a slot before its first attempt and gives it
 * back when it settles; past `maxConcurrentCalls` it waits in line, past `maxQueued` it fails at once
 * with `OVERLOADED`, nothing sent. A slot is handed to the oldest waiter on a microtask, not inside
 * the releasing call's settling: a long queue of calls that fail at once would otherwise recurse.
 *
 * @example
 * ```ts
 * const b = new Bulkhead(100, 50);
 * if (b.tryAcquire()) send(); else if (!b.enqueue(call)) fail('OVERLOADED');
 * // when the call settles:
 * b.release();
 * ```
 */
export class Bulkhead {
  #active = 0;
  #overloaded = 0;
  readonly #queue: BulkheadWaiter[] = [];

  constructor(
    readonly maxConcurrentCalls: number,
    readonly maxQueued: number,
  ) {}

  /** Takes a slot if one is free and nobody waits (FIFO: a newcomer never jumps the queue). */
  tryAcquire(): boolean {
    if (this.#active >= this.maxConcurrentCalls || this.#queue.length > 0) return false;
    this.#active++;
    return true;
  }

  /** Queues a call for the next free slot; false when the queue is full (the caller fails it). */
  enqueue(waiter: BulkheadWaiter): boolean {
    if (this.#queue.length >= this.maxQueued) {
      this.#overloaded++;
      return false;
    }
    this.#queue.push(waiter);
    return true;
  }

  /** Takes a call out of the queue (cancelled, or past its deadline, while waiting). */
  dequeue(waiter: BulkheadWaiter): void {
    const i = this.#queue.indexOf(waiter);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  /** Gives a slot back; the oldest waiter, if any, gets it. */
  release(): void {
    const next = this.#queue.shift();
    if (next === undefined) {
      if (this.#active > 0) this.#active--;
      return;
    }
    // The slot passes to `next` as it is: the active count does not change.
    queueMicrotask(() => next.onBulkheadSlot());
  }

  /** The current figures. */
  state(): BulkheadState {
    return {
      active: this.#active,
      queued: this.#queue.length,
      maxConcurrentCalls: this.maxConcurrentCalls,
      maxQueued: this.maxQueued,
      overloaded: this.#overloaded,
    };
  }
}

/** Validated bulkhead limits of a group, or undefined when it has none. */
export interface BulkheadLimits {
  readonly maxConcurrentCalls: number;
  readonly maxQueued: number;
}

function count(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_BULKHEAD_SIZE)
    throw invalidArgument(
      field,
      `must be an integer from ${min} to ${MAX_BULKHEAD_SIZE} (got ${describeValue(value)})`,
    );
  return value;
}

/**
 * Validates a group's `maxConcurrentCalls` (an integer ≥ 1) and `maxQueued` (an integer ≥ 0, only
 * with `maxConcurrentCalls`; default 0: no queue, a call past the limit fails at once).
 */
export function resolveBulkhead(
  maxConcurrentCalls: unknown,
  maxQueued: unknown,
  prefix = 'options',
): BulkheadLimits | undefined {
  if (maxConcurrentCalls === undefined) {
    if (maxQueued !== undefined)
      throw invalidArgument(
        `${prefix}.maxQueued`,
        'needs maxConcurrentCalls (the queue is for calls past it)',
      );
    return undefined;
  }
  return {
    maxConcurrentCalls: count(maxConcurrentCalls, `${prefix}.maxConcurrentCalls`, 1),
    maxQueued: maxQueued === undefined ? 0 : count(maxQueued, `${prefix}.maxQueued`, 0),
  };
}
