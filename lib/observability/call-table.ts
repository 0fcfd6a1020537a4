const RING_SIZE = 1024;
const RING_MASK = RING_SIZE - 1;

/**
 * Calls in flight by call id. A client numbers its calls 1, 2, 3…, so a ring indexed by the low bits
 * finds a call with no hashing and no allocation (a `Map` with calls coming and going rehashed every
 * few dozen calls); a call whose slot is still taken by a long one goes to a `Map` beside it.
 */
export class CallTable<T extends { readonly callId: number; readonly seq: number }> {
  readonly #ring: (T | undefined)[] = new Array<T | undefined>(RING_SIZE).fill(undefined);
  readonly #overflow = new Map<number, T>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(callId: number): T | undefined {
    const slot = this.#ring[callId & RING_MASK];
    if (slot?.callId === callId) return slot;
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(callId);
  }

  /** Adds a call not in the table. */
  add(call: T): void {
    const i = call.callId & RING_MASK;
    if (this.#ring[i] === undefined) this.#ring[i] = call;
    else this.#overflow.set(call.callId, call);
    this.#size++;
  }

  delete(call: T): void {
    const i = call.callId & RING_MASK;
    if (this.#ring[i] === call) this.#ring[i] = undefined;
    else if (!this.#overflow.delete(call.callId)) return;
    this.#size--;
  }

  /** Empties the table, returning its calls in start order. */
  drain(): T[] {
    const calls = [...this.#overflow.values()];
    for (const call of this.#ring) if (call !== undefined) calls.push(call);
    this.#ring.fill(undefined);
    this.#overflow.clear();
    this.#size = 0;
    return calls.sort((a, b) => a.seq - b.seq);
  }
}
