import { Observable, Subject, asyncScheduler, type SchedulerLike } from 'rxjs';
import {
  resolveBreakerConfig,
  type CircuitBreakerConfig,
  type ResolvedBreakerConfig,
} from '../breaker/config.js';
import {
  closedBreaker,
  reduceBreaker,
  shownCounts,
  type BreakerInput,
  type BreakerState,
} from '../breaker/reducer.js';
import { failureRate } from '../breaker/window.js';
import { invalidArgument } from '../errors.js';
import type { BreakerSnapshot } from '../types.js';

/** Settings of a standalone {@link CircuitBreaker}: the client's, less `key` and `isFailure`. */
export type StandaloneBreakerConfig = Omit<CircuitBreakerConfig, 'key' | 'isFailure'>;

/** A manual override set by {@link CircuitBreaker.forceOpen} or {@link CircuitBreaker.forceClose}. */
export type ForcedState = 'open' | 'closed';

/**
 * One breaker's public view. `state` is the effective state (a forced breaker shows the state it
 * was forced to); `forced` says it is manual. The counts are those of the underlying window.
 */
export interface CircuitBreakerSnapshot extends BreakerSnapshot {
  /** Set while a manual override holds; absent when the breaker decides for itself. */
  readonly forced?: ForcedState;
}

/** A state change of a {@link CircuitBreaker}: a transition of its own, or a manual one. */
export interface CircuitBreakerEvent {
  readonly type: 'breaker-transition';
  /** Scheduler time, ms. */
  readonly time: number;
  readonly from: BreakerSnapshot['state'];
  readonly to: BreakerSnapshot['state'];
  /** The override in force after the change; absent when none. */
  readonly forced?: ForcedState;
  /** `forceOpen`, `forceClose` or `reset` for manual changes; absent for the breaker's own. */
  readonly cause?: 'forceOpen' | 'forceClose' | 'reset';
}

/**
 * One circuit breaker with Armeria's semantics (the client's keyed breakers run the same pure
 * reducer), for use with the {@link circuitBreaker} operator on any Observable. No timers: OPEN
 * turns HALF_OPEN lazily, on the first request after `circuitOpenWindow`.
 *
 * Manual control (resilience4j's FORCED_OPEN and DISABLED): {@link forceOpen} refuses every
 * request, {@link forceClose} admits every one; results are not counted while forced.
 * {@link reset} drops the override and starts a fresh closed window (no trips remembered).
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ minimumRequestThreshold: 5, circuitOpenWindow: 5_000 });
 * breaker.snapshot$.subscribe((s) => console.log(s.state, s.forced ?? ''));
 * defer(() => fetch(url)).pipe(circuitBreaker(breaker)).subscribe();
 * ```
 */
export class CircuitBreaker {
  readonly #config: ResolvedBreakerConfig;
  readonly #scheduler: SchedulerLike;
  #state: BreakerState;
  #forced: ForcedState | undefined;
  #snapshot: CircuitBreakerSnapshot | undefined;
  readonly #snapshots = new Subject<CircuitBreakerSnapshot>();
  readonly #events = new Subject<CircuitBreakerEvent>();

  /**
   * @param config - as the client's `circuitBreaker`, without `key` and `isFailure` (the
   *   operator classifies). Throws `INVALID_ARGUMENT` naming the field on bad settings.
   * @param scheduler - the time source; a `TestScheduler` for virtual time. @defaultValue asyncScheduler
   */
  constructor(config?: StandaloneBreakerConfig, scheduler: SchedulerLike = asyncScheduler) {
    for (const k of ['key', 'isFailure'])
      if (config !== undefined && Object.hasOwn(config, k))
        throw invalidArgument(`circuitBreaker.${k}`, 'is not a setting of a standalone breaker');
    this.#config = resolveBreakerConfig(config);
    this.#scheduler = scheduler;
    this.#state = closedBreaker(scheduler.now());
  }

  /** The effective state now (a forced breaker shows the state it was forced to). */
  get state(): BreakerSnapshot['state'] {
    return this.#forced ?? this.#state.name;
  }

  /** The manual override in force, if any. */
  get forced(): ForcedState | undefined {
    return this.#forced;
  }

  /** The current snapshot (cached until the next change). */
  get snapshot(): CircuitBreakerSnapshot {
    return (this.#snapshot ??= this.#makeSnapshot());
  }

  /** The current snapshot at subscribe, then one after every change (results, transitions, overrides). */
  readonly snapshot$: Observable<CircuitBreakerSnapshot> = new Observable((subscriber) => {
    subscriber.next(this.snapshot);
    return this.#snapshots.subscribe(subscriber);
  });

  /** Every state transition, the manual ones included. Hot: only changes after subscribe. */
  readonly events$: Observable<CircuitBreakerEvent> = this.#events.asObservable();

  /**
   * Asks to send one request: true when admitted (the caller must then report
   * {@link onSuccess}, {@link onFailure} or {@link release}). Forced open: false; forced closed: true.
   */
  tryAcquire(): boolean {
    if (this.#forced !== undefined) return this.#forced === 'closed';
    return this.#apply('request');
  }

  /** Reports an admitted request's success. Ignored while forced. */
  onSuccess(): void {
    if (this.#forced === undefined) this.#apply('success');
  }

  /** Reports an admitted request's failure. Ignored while forced. */
  onFailure(): void {
    if (this.#forced === undefined) this.#apply('failure');
  }

  /**
   * Gives back a permit whose request ended with no verdict (cancelled): nothing is counted, and a
   * half-open breaker admits its next trial at once instead of after `trialRequestInterval`.
   */
  release(): void {
    const s = this.#state;
    if (this.#forced === undefined && s.name === 'half-open')
      this.#set({ ...s, trialUntil: this.#scheduler.now() });
  }

  /** Refuses every request (`FailFastError`) until {@link forceClose} or {@link reset}. */
  forceOpen(): void {
    this.#override('open', 'forceOpen');
  }

  /** Admits every request, counting nothing, until {@link forceOpen} or {@link reset}. */
  forceClose(): void {
    this.#override('closed', 'forceClose');
  }

  /** Drops any override and starts afresh: closed, empty window, no trips remembered. */
  reset(): void {
    const from = this.state;
    this.#forced = undefined;
    this.#state = closedBreaker(this.#scheduler.now());
    this.#changed(from, 'reset');
  }

  #override(forced: ForcedState, cause: 'forceOpen' | 'forceClose'): void {
    const from = this.state;
    this.#forced = forced;
    this.#changed(from, cause);
  }

  #apply(input: BreakerInput): boolean {
    const step = reduceBreaker(this.#state, input, this.#scheduler.now(), this.#config);
    if (step.state !== this.#state) this.#set(step.state);
    return step.admitted;
  }

  #set(state: BreakerState): void {
    const from = this.state;
    this.#state = state;
    this.#changed(from, undefined);
  }

  #changed(from: BreakerSnapshot['state'], cause: CircuitBreakerEvent['cause']): void {
    this.#snapshot = undefined;
    const to = this.state;
    if (from !== to || cause !== undefined)
      this.#events.next({
        type: 'breaker-transition',
        time: this.#scheduler.now(),
        from,
        to,
        ...(this.#forced === undefined ? {} : { forced: this.#forced }),
        ...(cause === undefined ? {} : { cause }),
      });
    if (this.#snapshots.observed) this.#snapshots.next(this.snapshot);
  }

  #makeSnapshot(): CircuitBreakerSnapshot {
    const { live, decision } = shownCounts(this.#state);
    return {
      state: this.state,
      failureRate: failureRate(live),
      total: live.success + live.failure,
      since: this.#state.since,
      decision: { failureRate: failureRate(decision), total: decision.success + decision.failure },
      ...(this.#forced === undefined ? {} : { forced: this.#forced }),
    };
  }
}
