/**
 * One traced call's open spans, as {@link Tracing} keeps them between events: the parent of its
 * attempts, notes waiting for the next span, and the attempt spans still open.
 */

/** An attempt span still open: attempts of one call are few, so a small array beats a Map per call. */
export interface OpenAttempt<Id> {
  readonly attempt: number;
  readonly id: Id;
}

/** One call's spans: the parent of its attempts and what is waiting for the next span. */
export interface CallTrace<Id> {
  readonly callId: number;
  /** Start order, so spans left open are finished in the order their calls started. */
  readonly seq: number;
  readonly parent: Id;
  /** True when `parent` is a local root span we started (no context was current), finished at call-end. */
  readonly ownsParent: boolean;
  readonly method: string;
  /** The span name: the method in lower case. */
  readonly name: string;
  /** The path as the first event carried it, and its route template, so an attempt reuses it. */
  readonly rawPath: string;
  readonly path: string;
  readonly remoteServiceName: string;
  /** Retry notes for the next span (the previous attempt's is already finished). */
  pending: string[] | undefined;
  /** The child id made while reading the caller's context, kept for the first span under `parent`. */
  spare: Id | undefined;
  /** Open attempt spans in start order; usually one, so it is not allocated until it is. */
  attempts: OpenAttempt<Id> | OpenAttempt<Id>[] | undefined;
}

/** Queues a note for the call's next span. */
export function note(call: CallTrace<unknown>, value: string): void {
  if (call.pending === undefined) call.pending = [value];
  else call.pending.push(value);
}

export function findAttempt<Id>(open: CallTrace<Id>['attempts'], attempt: number): Id | undefined {
  if (open === undefined) return undefined;
  if (!Array.isArray(open)) return open.attempt === attempt ? open.id : undefined;
  for (const entry of open) if (entry.attempt === attempt) return entry.id;
  return undefined;
}

/** Removes the open span of `attempt` and returns its id, keeping the others in start order. */
export function takeAttempt<Id>(call: CallTrace<Id>, attempt: number): Id | undefined {
  const open = call.attempts;
  if (open === undefined) return undefined;
  if (!Array.isArray(open)) {
    if (open.attempt !== attempt) return undefined;
    call.attempts = undefined;
    return open.id;
  }
  const i = open.findIndex((entry) => entry.attempt === attempt);
  if (i === -1) return undefined;
  const [entry] = open.splice(i, 1);
  if (open.length === 0) call.attempts = undefined;
  return entry?.id;
}
