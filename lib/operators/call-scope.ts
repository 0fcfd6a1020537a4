import type { SchedulerLike } from 'rxjs';
import type { CallEvent } from '../events/events.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { Address, AttemptOutcome, PickContext } from '../types.js';
import type { PickTarget } from './pick.js';

/**
 * Where hand-composed calls send their events: a client's event stream (`client.eventSink`), or
 * anything else that takes {@link CallEvent}s. Given one, the operators emit exactly the events the
 * client's fused chain emits (call-start, attempt-start, attempt-end, retry-scheduled,
 * retry-refused, fail-fast, call-end), so its breakers, balancer statistics, retry budget, metrics,
 * traces and dashboard count calls composed by hand like their own.
 *
 * Only `emit`, `now` and `nextCallId` are needed; the rest lets the operators decide as the
 * client would (same random source, budget, pick context and latency statistics).
 *
 * @example
 * ```ts
 * const sink: EventSink = { emit: (e) => console.log(e.type), now: () => Date.now(), nextCallId: () => ++ids };
 * ```
 */
export interface EventSink {
  /** Takes one event (a client puts it on `events$`). */
  emit(event: CallEvent): void;
  /** The time events are stamped with, ms. */
  now(): number;
  /** A fresh call id (1, 2, … per client). */
  nextCallId(): number;
  /** The scheduler the client's timers run on (virtual time in specs). @defaultValue asyncScheduler */
  readonly scheduler?: SchedulerLike | undefined;
  /**
   * Runs `fn` after `ms` on the client's clock; returns a cancel function. Cheaper than a scheduler
   * action (one native timer); `deadline()` uses it for a call's deadline when given.
   */
  setTimer?(fn: () => void, ms: number): () => void;
  /** The client's random source: balancer draws and jitter share one sequence. @defaultValue Math.random */
  readonly random?: (() => number) | undefined;
  /** The client's retry budget (it deposits on each call-start of its stream). */
  readonly budget?: RetryBudget | undefined;
  /** The client's pick context (load statistics), reused by every pick. */
  readonly pickContext?: (PickContext & { now: number; attempt: number }) | undefined;
  /**
   * Recent latency of the fastest host among `addresses` a retry could go to (untried ones first),
   * ms; 0 when unknown. Lets a retry that cannot finish before the deadline be refused early.
   */
  expectedAttemptMs?(addresses: readonly Address[], tried: (key: string) => boolean, now: number): number;
}

/** What a call is, for its events: the group's name and addresses, method, path, deadline. */
export interface CallInfo {
  /** The group (or any `{ name, addresses }`) the call goes to. */
  readonly group: { readonly name: string; readonly addresses: readonly Address[] };
  /** Upper-case method, as events show it. @defaultValue 'GET' */
  readonly method?: string;
  /** Path without query, as events show it. @defaultValue '/' */
  readonly path?: string;
  /** The call's deadline, ms from subscribe: what `deadline()` and the retry decision use. @defaultValue Infinity */
  readonly timeout?: number;
}

/**
 * One call's shared state, made by {@link traced} per subscription and handed to the stages that
 * are given it (`pick`, `retryBackoff`, `deadline`, a client's attempt step): the call id, the
 * attempt count, the hosts tried, the target and outcome of the attempt in flight. The fused `Call`
 * keeps the same state in its fields; here each stage reads and writes it explicitly.
 */
export class CallScope {
  /** Identifies the call in its events. */
  readonly callId: number;
  /** When the call started (sink time), ms. */
  readonly startedAt: number;
  /** When its deadline passes (sink time), ms; Infinity for none. */
  readonly deadlineAt: number;
  readonly method: string;
  readonly path: string;
  /** Attempts begun so far (the pick of each counts, even one that failed fast). */
  attempts = 0;
  /** `addressKey`s of the hosts tried in this call: a retry prefers another. */
  readonly tried = new Set<string>();
  /** The host of the attempt in flight or last ended, as `pick` chose it. */
  target: PickTarget | undefined = undefined;
  /** True when the latest attempt never started (fail fast, no address): nothing to retry. */
  attemptRefused = false;
  /** The outcome of the last attempt that ended, as the attempt step saw it (for the retry decision). */
  outcome: AttemptOutcome | undefined = undefined;
  /** Set by `deadline()` just before it ends the work: the attempt in flight ends timed out, not cancelled. */
  timedOut = false;
  /**
   * True while an attempt whose transport watches the call's deadline itself is in flight (a
   * client's attempt step): `deadline()` then leaves the deadline to it — the fused chain's order of
   * events at a tie between the deadline and a response.
   */
  deadlineWatched = false;
  /** Called by the attempt step when it stops watching the deadline (its attempt ended): `deadline()` arms its timer. */
  onUnwatched: (() => void) | undefined = undefined;
  /** Set once call-end is out. */
  settled = false;
  /** The running call of `traced` (set while it runs): what {@link CallScope.abort} ends. */
  traced: { abort(error: unknown): void } | undefined = undefined;
  /** A request body that can be sent once; `started` once read (the retry decision reads it). */
  once: { readonly started: boolean } | undefined = undefined;

  constructor(
    readonly sink: EventSink,
    readonly info: CallInfo,
  ) {
    this.callId = sink.nextCallId();
    this.startedAt = sink.now();
    this.method = info.method ?? 'GET';
    this.path = info.path ?? '/';
    this.deadlineAt = this.startedAt + (info.timeout ?? Infinity);
  }

  /**
   * Ends the call now with `error` as a cancellation: the stages are unsubscribed first (an
   * attempt in flight ends cancelled), then call-end, then the error goes to the caller. A client's
   * `close()` and the caller's `signal` end its composed calls so. Nothing once the call has ended.
   */
  abort(error: unknown): void {
    this.traced?.abort(error);
  }

  /** Called once, when call-end is out: a subclass lets go of what it holds. */
  onEnd(): void {}

  /** The call's group name, as events show it. */
  get groupName(): string {
    return this.info.group.name;
  }

  /** The scheduler of the call's timers. */
  get scheduler(): SchedulerLike | undefined {
    return this.sink.scheduler;
  }

  /**
   * Emits a call-scoped event: `e` with `time`, `callId`, `group` and `method` added (the fused
   * chain's field order, so the two streams compare equal).
   */
  emit<E extends { readonly type: CallEvent['type'] }>(e: E, time = this.sink.now()): void {
    this.sink.emit({
      ...e,
      time,
      callId: this.callId,
      group: this.info.group.name,
      method: this.method,
    } as unknown as CallEvent);
  }
}
