import { Observable, Subject, type Subscription } from 'rxjs';
import type { BreakerTransitionEvent, CallEvent } from '../events/events.js';
import type { Clock } from '../internal/clock.js';
import type { Address, AttemptOutcome, BreakerSnapshot, XRequest } from '../types.js';
import { defaultBreakerKey, type ResolvedBreakerConfig } from './config.js';
import {
  applyManual,
  breakerSnapshot,
  reduceManual,
  rejectsUntil,
  shownState,
  type ManualCause,
  type ManualTransition,
  type Override,
} from './manual.js';
import {
  reduceBreaker,
  closedBreaker,
  type BreakerInput,
  type BreakerState,
  type BreakerStateName,
} from './reducer.js';
import { onEvents } from '../events/bus.js';
import { invalidArgument } from '../errors.js';
import { callbackFailed } from '../internal/callback.js';

/** The `field` of the error a throwing breaker `key` callback fails a call with. */
export const KEY_FIELD = 'circuitBreaker.key';

/** One breaker: its state (changed only through the reducer) and what `retain` needs. */
interface Entry {
  state: BreakerState;
  /** A manual override (forceOpen / forceClose), kept until `reset`; undefined on the hot path. */
  override: Override | undefined;
  /** Address key (`host:port`) of the last attempt seen, so `retain` also works for custom keys. */
  address: string;
  /** Attempts started and not yet ended. */
  pending: number;
  /** Cached public view of `state`. */
  snapshot: BreakerSnapshot | undefined;
}

/**
 * The client's circuit breakers, one per key, as a scan over `events$`: `attempt-end` events
 * with a `success` or `failure` verdict feed the breaker named by their `breakerKey`; the call
 * chain asks {@link CircuitBreakers.tryAcquire} before each attempt.
 *
 * Idle breakers cost nothing: there are no timers; time is read from the clock only when an event
 * or a request arrives, and OPEN → HALF_OPEN happens lazily, in the breaker's pure reducer. An unknown key is a
 * closed breaker with an empty window; its entry is made by its first attempt.
 *
 * @example
 * ```ts
 * const breakers = new CircuitBreakers(resolveBreakerConfig(undefined), clock, (e) => bus.emit(e));
 * breakers.attach(bus.events$);
 * if (!breakers.tryAcquire(breakers.key(req, address))) throw new FailFastError();
 * ```
 */
export class CircuitBreakers {
  readonly #config: ResolvedBreakerConfig;
  readonly #clock: Clock;
  readonly #emit: (e: BreakerTransitionEvent & ManualTransition) => void;
  readonly #entries = new Map<string, Entry>();
  /** Breakers not closed: while 0, callers can skip the per-candidate eligibility scan. */
  #notClosed = 0;
  readonly #changes = new Subject<ReadonlyMap<string, BreakerSnapshot>>();
  #map: ReadonlyMap<string, BreakerSnapshot> | undefined;
  #subscription: Subscription | undefined;
  #closed = false;
  /** Bumped by every change to a breaker that is or was not closed, and by every drop. */
  #epoch = 0;
  /** Address lists whose every breaker was seen rejecting, with the epoch and the end of that. */
  readonly #allRejecting = new WeakMap<
    readonly Address[],
    { readonly epoch: number; readonly until: number }
  >();

  /**
   * Snapshot of every breaker by key. Replays the current map to each new subscriber, then emits a
   * new map on every visible change: a transition, a refreshed count, a breaker added or dropped.
   * Maps are built only while someone listens (or {@link CircuitBreakers.snapshots} is called).
   */
  readonly snapshots$: Observable<ReadonlyMap<string, BreakerSnapshot>>;

  constructor(
    config: ResolvedBreakerConfig,
    clock: Clock,
    emit: (e: BreakerTransitionEvent & ManualTransition) => void,
  ) {
    this.#config = config;
    this.#clock = clock;
    this.#emit = emit;
    this.snapshots$ = new Observable((subscriber) => {
      if (this.#closed) {
        subscriber.next(this.snapshots());
        subscriber.complete();
        return undefined;
      }
      // Subscribe before replaying, so a change made by the subscriber's own handler is not missed.
      const sub = this.#changes.subscribe(subscriber);
      subscriber.next(this.snapshots());
      return sub;
    });
  }

  /** Starts following a client's event stream. Call once; {@link CircuitBreakers.close} ends it. */
  attach(events$: Observable<CallEvent>): void {
    this.#subscription?.unsubscribe();
    this.#subscription = onEvents(events$, (e) => this.#onEvent(e));
  }

  /**
   * The breaker key of an attempt of `req` to `address` (config `key`, default `host:port`).
   *
   * @throws XhttpError `INVALID_ARGUMENT` with `field` {@link KEY_FIELD} when a user's `key` throws
   *   or returns no string (its `cause` the thrown value): the call fails with it at once.
   */
  key(req: XRequest, address: Address): string {
    const key = this.#config.key;
    if (key === defaultBreakerKey) return key(req, address);
    let k: unknown;
    try {
      k = key(req, address);
    } catch (error) {
      throw callbackFailed(KEY_FIELD, error);
    }
    if (typeof k !== 'string') throw invalidArgument(KEY_FIELD, 'must return a string');
    return k;
  }

  /**
   * The verdict on an attempt's outcome for `AttemptEndEvent.verdict`: config `isFailure`, except that
   * an `ABORTED` outcome (the caller gave up) is always `ignored`. Cancelled attempts should be
   * reported as `ignored` by the caller without asking.
   *
   * @throws XhttpError `INVALID_ARGUMENT` with `field` `circuitBreaker.isFailure` when a user's
   *   `isFailure` throws (its `cause` the thrown value).
   */
  classify(outcome: AttemptOutcome): 'success' | 'failure' | 'ignored' {
    if (outcome.error?.code === 'ABORTED') return 'ignored';
    let failed: boolean;
    try {
      failed = this.#config.isFailure(outcome);
    } catch (error) {
      throw callbackFailed('circuitBreaker.isFailure', error);
    }
    return failed ? 'failure' : 'success';
  }

  /** True while every breaker shows closed (O(1)): the pick can skip its eligibility scan. */
  get allClosed(): boolean {
    return this.#notClosed === 0;
  }

  /** True when breakers are keyed per host (`host:port`, the default key), not by a custom `key`. */
  get keyedByHost(): boolean {
    return this.#config.key === defaultBreakerKey;
  }

  /**
   * Current state of a breaker as shown (a forced breaker: the state it is forced to), without side
   * effects; `closed` for an unknown key.
   */
  state(key: string): BreakerStateName {
    const entry = this.#entries.get(key);
    return entry === undefined ? 'closed' : shownState(entry.state, entry.override);
  }

  /** True when a breaker named `key` exists (made by an attempt, or by a manual command). */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The snapshot of one breaker, `forced` set while overridden; undefined for an unknown key. */
  snapshot(key: string): BreakerSnapshot | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    return (entry.snapshot ??= breakerSnapshot(entry.state, entry.override));
  }

  /** Whether {@link CircuitBreakers.tryAcquire} would admit a request now, without side effects. */
  canAttempt(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return true;
    if (entry.override !== undefined) return entry.override.to === 'closed';
    if (entry.state.name === 'closed') return true;
    return reduceBreaker(entry.state, 'request', this.#clock.now(), this.#config).admitted;
  }

  /**
   * A manual command on breaker `key` (`forceOpen`, `forceClose`, `reset`; see `manual.ts`), made
   * now; makes the breaker when there is none yet. Emits a `breaker-transition` carrying the
   * `cause` (and `forced` while an override holds) even when the state shown stays the same, and
   * publishes the change. Callers check the key first (see `BreakerControl`).
   */
  manual(key: string, cause: ManualCause): BreakerSnapshot {
    const now = this.#clock.now();
    let entry = this.#entries.get(key);
    if (entry === undefined) this.#entries.set(key, (entry = newEntry(now, key)));
    const from = shownState(entry.state, entry.override);
    const next = applyManual(entry.state, cause, now);
    entry.state = next.state;
    entry.override = next.override;
    const to = shownState(entry.state, entry.override);
    if (from === 'closed' && to !== 'closed') this.#notClosed++;
    else if (from !== 'closed' && to === 'closed') this.#notClosed--;
    // Forgets every cached "all rejecting" verdict: the next call looks at the breakers afresh.
    this.#epoch++;
    entry.snapshot = undefined;
    this.#emit({
      type: 'breaker-transition',
      time: now,
      breakerKey: key,
      from,
      to,
      ...(next.override === undefined ? {} : { forced: next.override.to }),
      cause,
    });
    this.#changed();
    return this.snapshot(key)!;
  }

  /**
   * Asks to send one attempt under `key`: true when closed, or when this request becomes the
   * half-open trial (lazy OPEN → HALF_OPEN, emitting the transition); false to fail fast.
   */
  tryAcquire(key: string): boolean {
    const entry = this.#entries.get(key);
    // Closed admits without changing anything (the reducer returns the same state), so skip it.
    if (entry === undefined || (entry.state.name === 'closed' && entry.override === undefined)) return true;
    return this.#apply(key, entry, 'request');
  }

  /** The address key (`host:port`) of the last attempt under breaker `key`: a custom key's host. */
  addressOf(key: string): string | undefined {
    return this.#entries.get(key)?.address;
  }

  /** The current snapshot of every breaker by key. Cached until something visible changes. */
  snapshots(): ReadonlyMap<string, BreakerSnapshot> {
    if (this.#map === undefined) {
      const map = new Map<string, BreakerSnapshot>();
      for (const [key, entry] of this.#entries)
        map.set(key, (entry.snapshot ??= breakerSnapshot(entry.state, entry.override)));
      this.#map = map;
    }
    return this.#map;
  }

  /**
   * Drops the breakers of hosts gone from every group. `liveKeys` holds the address keys
   * (`host:port`) of every address still in use (breaker keys are accepted too). A breaker is kept
   * while its key or the address it last saw is live, while an attempt is in flight, or while it is
   * still rejecting (open within its window, or half-open with a trial out); otherwise it would admit
   * a request anyway, and a returning host simply starts closed. A breaker under a manual override
   * is kept too, until `reset`: the override is the user's word. Call it on every address-list change.
   */
  retain(liveKeys: ReadonlySet<string>): void {
    const now = this.#clock.now();
    let dropped = false;
    for (const [key, entry] of this.#entries) {
      if (liveKeys.has(key) || liveKeys.has(entry.address) || entry.pending > 0) continue;
      if (entry.override !== undefined) continue;
      if (entry.state.name !== 'closed' && !reduceBreaker(entry.state, 'request', now, this.#config).admitted)
        continue;
      if (entry.state.name !== 'closed') this.#notClosed--;
      this.#entries.delete(key);
      this.#epoch++;
      dropped = true;
    }
    if (dropped) this.#changed();
  }

  /** Stops following events and completes {@link CircuitBreakers.snapshots$}. */
  close(): void {
    this.#closed = true;
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    this.#changes.complete();
  }

  #onEvent(e: CallEvent): void {
    if (e.type === 'attempt-start') {
      this.#entry(e.breakerKey, e.key).pending++;
    } else if (e.type === 'attempt-end') {
      const entry = this.#entry(e.breakerKey, e.key);
      if (entry.pending > 0) entry.pending--;
      if (e.verdict !== 'ignored') this.#apply(e.breakerKey, entry, e.verdict, e.time);
    }
  }

  #entry(key: string, address: string): Entry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = newEntry(this.#clock.now(), address);
      this.#entries.set(key, entry);
      this.#changed();
    } else {
      entry.address = address;
    }
    return entry;
  }

  /**
   * Remembers, after a fail fast, that every address of `addresses` rejects requests like `req` until
   * the earliest open window or trial interval among them ends — under the default, per-host key only
   * (a custom key may differ per request). {@link CircuitBreakers.allRejecting} then answers the next
   * calls in O(1), until that time or until any of these breakers changes.
   */
  noteAllRejecting(req: XRequest, addresses: readonly Address[], now: number): void {
    if (this.#config.key !== defaultBreakerKey) return;
    let until = Infinity;
    for (const a of addresses) {
      const entry = this.#entries.get(this.#config.key(req, a));
      const end = entry === undefined ? now : rejectsUntil(entry.state, entry.override, now);
      if (end < until) until = end;
    }
    if (until > now) this.#allRejecting.set(addresses, { epoch: this.#epoch, until });
  }

  /** True when {@link CircuitBreakers.noteAllRejecting} still holds for `addresses` at `now`. */
  allRejecting(addresses: readonly Address[], now: number): boolean {
    const seen = this.#allRejecting.get(addresses);
    return seen !== undefined && seen.epoch === this.#epoch && now < seen.until;
  }

  /**
   * Runs the reducer on one breaker (under its override: forced, nothing changes); stores the
   * result, emits a transition, publishes changes.
   */
  #apply(key: string, entry: Entry, input: BreakerInput, now: number = this.#clock.now()): boolean {
    const prev = entry.state;
    const { state, admitted } = reduceManual(prev, entry.override, input, now, this.#config);
    if (state === prev) return admitted;
    if (prev.name !== 'closed' || state.name !== 'closed') this.#epoch++;
    entry.state = state;
    if (prev.name === 'closed' && state.name !== 'closed') this.#notClosed++;
    else if (prev.name !== 'closed' && state.name === 'closed') this.#notClosed--;
    if (!visiblyChanged(prev, state)) return admitted;
    entry.snapshot = undefined;
    if (state.name !== prev.name)
      this.#emit({ type: 'breaker-transition', time: now, breakerKey: key, from: prev.name, to: state.name });
    this.#changed();
    return admitted;
  }

  #changed(): void {
    this.#map = undefined;
    if (this.#changes.observed) this.#changes.next(this.snapshots());
  }
}

/** A change shows on `breakers$` when the state, its start or the window's counts change. */
function visiblyChanged(prev: BreakerState, next: BreakerState): boolean {
  if (prev.name !== next.name || prev.since !== next.since) return true;
  // Every counted result changes the live counts (see BreakerSnapshot), not only a roll-over.
  return prev.name === 'closed' && next.name === 'closed' && prev.window !== next.window;
}

/** A fresh, closed breaker for attempts to `address` (`host:port`). */
function newEntry(now: number, address: string): Entry {
  return { state: closedBreaker(now), override: undefined, address, pending: 0, snapshot: undefined };
}
