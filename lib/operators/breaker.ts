import { Observable, Subject, asyncScheduler, type SchedulerLike } from 'rxjs';
import {
  resolveBreakerConfig,
  type CircuitBreakerConfig,
  type ResolvedBreakerConfig,
} from '../breaker/config.js';
import {
  applyManual,
  breakerSnapshot,
  reduceManual,
  shownState,
  type ForcedState,
  type ManualCause,
  type Override,
} from '../breaker/manual.js';
import { closedBreaker, type BreakerInput, type BreakerState } from '../breaker/reducer.js';
import { invalidArgument } from '../errors.js';
import type { BreakerSnapshot } from '../types.js';

export type { ForcedState } from '../breaker/manual.js';

/** Settings of a standalone {@link CircuitBreaker}: the client's, less `key` and `isFailure`. */
export type StandaloneBreakerConfig = Omit<CircuitBreakerConfig, 'key' | 'isFailure'>;

/**
 * One breaker's public view: a {@link BreakerSnapshot}, whose `forced` is set while a manual
 * override holds (`state` is then the forced one; the counts are the window's underneath).
 */
export type CircuitBreakerSnapshot = BreakerSnapshot;

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
  readonly cause?: ManualCause;
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
  #override: Override | undefined;
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
    return shownState(this.#state, this.#override);
  }

  /** The manual override in force, if any. */
  get forced(): ForcedState | undefined {
    return this.#override?.to;
  }

  /** The current snapshot (cached until the next change). */
  get snapshot(): CircuitBreakerSnapshot {
    return (this.#snapshot ??= breakerSnapshot(this.#state, this.#override));
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
    return this.#apply('request');
  }

  /** Reports an admitted request's success. Ignored while forced. */
  onSuccess(): void {
    this.#apply('success');
  }

  /** Reports an admitted request's failure. Ignored while forced. */
  onFailure(): void {
    this.#apply('failure');
  }

  /**
   * Gives back a permit whose request ended with no verdict (cancelled): nothing is counted, and a
   * half-open breaker admits its next trial at once instead of after `trialRequestInterval`.
   */
  release(): void {
    const s = this.#state;
    if (this.#override === undefined && s.name === 'half-open')
      this.#set({ ...s, trialUntil: this.#scheduler.now() });
  }

  /** Refuses every request (`FailFastError`) until {@link forceClose} or {@link reset}. */
  forceOpen(): void {
    this.#manual('forceOpen');
  }

  /** Admits every request, counting nothing, until {@link forceOpen} or {@link reset}. */
  forceClose(): void {
    this.#manual('forceClose');
  }

  /** Drops any override and starts afresh: closed, empty window, no trips remembered. */
  reset(): void {
    this.#manual('reset');
  }

  #manual(cause: ManualCause): void {
    const from = this.state;
    const next = applyManual(this.#state, cause, this.#scheduler.now());
    this.#state = next.state;
    this.#override = next.override;
    this.#changed(from, cause);
  }

  #apply(input: BreakerInput): boolean {
    const step = reduceManual(this.#state, this.#override, input, this.#scheduler.now(), this.#config);
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
        ...(this.#override === undefined ? {} : { forced: this.#override.to }),
        ...(cause === undefined ? {} : { cause }),
      });
    if (this.#snapshots.observed) this.#snapshots.next(this.snapshot);
  }
}
