/**
 * A call that {@link LiveCalls} can end: the links are fields of the call itself, so keeping a call
 * on the list allocates nothing (no Set entry, no node object per call).
 */
export interface LiveCall {
  /** @internal The neighbours on the client's list; undefined while off it. */
  prevLive: LiveCall | undefined;
  /** @internal */
  nextLive: LiveCall | undefined;
  /** Ends the call as cancelled: the client is closing. */
  closeByClient(): void;
}

/**
 * The calls of one client that have started and not settled, as an intrusive doubly linked list,
 * so `client.close()` can end every one of them — in flight, waiting in back-off, or waiting for a
 * group's first addresses — before it completes the event stream and destroys the pools. Without
 * it a call in back-off woke after `close()`, made a new pool and sent its retry.
 *
 * Adding and removing cost a few field writes: this sits on the hot path of every call.
 *
 * @example
 * ```ts
 * const calls = new LiveCalls();
 * if (calls.closed) fail(); else calls.add(call);
 * // … when the call settles:
 * calls.remove(call);
 * // client.close():
 * calls.close();
 * ```
 */
export class LiveCalls {
  #head: LiveCall | undefined;
  #closed = false;

  /** True once {@link LiveCalls.close} has started: no call may send anything after it. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Puts a starting call on the list. */
  add(call: LiveCall): void {
    const head = this.#head;
    call.nextLive = head;
    call.prevLive = undefined;
    if (head !== undefined) head.prevLive = call;
    this.#head = call;
  }

  /** Takes a settled call off the list; a call not on it is left alone. */
  remove(call: LiveCall): void {
    const prev = call.prevLive;
    const next = call.nextLive;
    if (prev !== undefined) prev.nextLive = next;
    else if (this.#head === call) this.#head = next;
    else return;
    if (next !== undefined) next.prevLive = prev;
    call.prevLive = call.nextLive = undefined;
  }

  /**
   * Marks the client closed and ends every live call as cancelled. A call's sink may start another
   * call (a redirect's next hop): it sees `closed` and ends at once, so the loop terminates.
   */
  close(): void {
    this.#closed = true;
    for (let call = this.#head; call !== undefined; call = this.#head) {
      this.remove(call);
      call.closeByClient();
    }
  }
}
