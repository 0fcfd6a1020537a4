import { emptyWindow, liveCount, recordEvent, type SlidingWindow, type WindowCount } from './window.js';
import type { ResolvedBreakerConfig } from './config.js';

/**
 * The circuit-breaker state machine of Armeria's `NonBlockingCircuitBreaker`, as a pure reducer:
 * `(state, input, now, config) → { state, admitted }`. No timers: time is the `now` passed in, and
 * OPEN → HALF_OPEN happens lazily on the first request after the open window.
 *
 * - CLOSED counts results in a {@link SlidingWindow}. Only a failure that rolled the window over
 *   (a fresh snapshot) may open it, when `total ≥ minimumRequestThreshold` and
 *   `failures / total > failureRateThreshold` — strictly greater, so exactly 50 % stays closed.
 * - OPEN rejects every request until `circuitOpenWindow` has passed; the first request after that
 *   turns it HALF_OPEN and is admitted as the trial. Results reported while OPEN (from requests
 *   admitted before it opened) change nothing.
 * - HALF_OPEN rejects every request while a trial is out. A success closes the breaker with a fresh
 *   window; a failure opens it anew. Like Armeria, any result reported in HALF_OPEN counts as the
 *   trial's, even one from a request admitted before the breaker opened. With no result within
 *   `trialRequestInterval`, the next request is admitted as another trial (state and `since` stay).
 * - Ejection that grows (Envoy's ejection time, gRPC's back-off): the n-th consecutive trip (a
 *   CLOSED → OPEN or a failed trial) opens for {@link openWindow}: `circuitOpenWindow × 2^(n−1)`,
 *   at most `maxCircuitOpenWindow`. n starts over at 1 when a breaker trips after staying closed at
 *   least as long as its last open window (`forgiveAt`): decided at the trip, lazily, with no timer.
 */

/** Breaker states, named as on `BreakerSnapshot.state`. */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** CLOSED: counting. */
export interface ClosedState {
  readonly name: 'closed';
  /** When the breaker entered this state, ms. */
  readonly since: number;
  readonly window: SlidingWindow;
  /** Consecutive trips so far (0 for a breaker that never tripped). */
  readonly trips: number;
  /** From this time on, the next trip counts as the first again (the quiet period is over). */
  readonly forgiveAt: number;
}

/** OPEN: rejecting until `until`. */
export interface OpenState {
  readonly name: 'open';
  readonly since: number;
  /** First time a request is admitted as a trial. */
  readonly until: number;
  /** The window snapshot that opened the breaker, kept for display. */
  readonly tripped: WindowCount;
  /** Consecutive trips, this one included (1 for a first trip). */
  readonly trips: number;
  /** Length of this open window, ms: the quiet period that forgives the trips once closed. */
  readonly openMs: number;
}

/** HALF_OPEN: one trial out, until `trialUntil`. */
export interface HalfOpenState {
  readonly name: 'half-open';
  readonly since: number;
  /** First time another trial is admitted if the current one has not reported. */
  readonly trialUntil: number;
  readonly tripped: WindowCount;
  readonly trips: number;
  readonly openMs: number;
}

/** State of one breaker. Immutable: every input yields a new value (or the same one, unchanged). */
export type BreakerState = ClosedState | OpenState | HalfOpenState;

/**
 * What happened: a result reported for an attempt (`success`, `failure`), or a request asking to be
 * admitted (`request`). Cancelled or ignored results are simply not fed in.
 */
export type BreakerInput = 'success' | 'failure' | 'request';

/** The reducer's answer. */
export interface BreakerStep {
  readonly state: BreakerState;
  /** For `request`: whether it may go on the wire. Always false for reported results. */
  readonly admitted: boolean;
}

/**
 * The settings the reducer reads. Without `maxCircuitOpenWindow` every trip opens for
 * `circuitOpenWindow` (the growth is off).
 */
export type ReducerConfig = Pick<
  ResolvedBreakerConfig,
  | 'failureRateThreshold'
  | 'minimumRequestThreshold'
  | 'trialRequestInterval'
  | 'circuitOpenWindow'
  | 'counterSlidingWindow'
  | 'counterUpdateInterval'
> &
  Partial<Pick<ResolvedBreakerConfig, 'maxCircuitOpenWindow'>>;

/**
 * A closed breaker with an empty window starting at `now`; `trips` consecutive trips behind it,
 * forgiven from `forgiveAt` on (a fresh breaker: none).
 */
export function closedBreaker(now: number, trips = 0, forgiveAt = now): ClosedState {
  return { name: 'closed', since: now, window: emptyWindow(now), trips, forgiveAt };
}

/**
 * How long the `trips`-th consecutive trip keeps the breaker open, ms:
 * `circuitOpenWindow × 2^(trips−1)`, capped at `maxCircuitOpenWindow` (absent: no growth).
 *
 * @example
 * ```ts
 * openWindow(3, { circuitOpenWindow: 10_000, maxCircuitOpenWindow: 300_000 }); // 40_000
 * ```
 */
export function openWindow(
  trips: number,
  config: Pick<ReducerConfig, 'circuitOpenWindow' | 'maxCircuitOpenWindow'>,
): number {
  const base = config.circuitOpenWindow;
  const max = config.maxCircuitOpenWindow ?? base;
  // 2^(n−1) overflows to Infinity past n ≈ 1024; min() keeps it at the cap.
  return Math.min(max, base * 2 ** Math.max(0, trips - 1));
}

/** The two sets of counts a breaker snapshot shows (see `BreakerSnapshot`). */
export interface ShownCounts {
  /** What the window holds now, the filling bucket included; the tripping counts when not closed. */
  readonly live: WindowCount;
  /** What the decision reads: closed buckets only; the tripping counts when not closed. */
  readonly decision: WindowCount;
}

/**
 * The counts to show for `state`. Closed: the live window beside the closed-bucket snapshot the
 * decision uses (they differ until the filling bucket closes). Open and half-open count nothing, so
 * both are the snapshot that opened the breaker.
 */
export function shownCounts(state: BreakerState): ShownCounts {
  if (state.name !== 'closed') return { live: state.tripped, decision: state.tripped };
  return { live: liveCount(state.window), decision: state.window.snapshot };
}

/** True when a snapshot should open the breaker (Armeria's `checkIfExceedingFailureThreshold`). */
export function exceedsThreshold(count: WindowCount, config: ReducerConfig): boolean {
  const total = count.success + count.failure;
  return (
    total > 0 &&
    total >= config.minimumRequestThreshold &&
    count.failure / total > config.failureRateThreshold
  );
}

/** Applies one input at time `now`. Pure: `state` is not changed. */
export function reduceBreaker(
  state: BreakerState,
  input: BreakerInput,
  now: number,
  config: ReducerConfig,
): BreakerStep {
  switch (input) {
    case 'request':
      return admit(state, now, config);
    case 'success':
      return { state: onSuccess(state, now, config), admitted: false };
    case 'failure':
      return { state: onFailure(state, now, config), admitted: false };
  }
}

function admit(state: BreakerState, now: number, config: ReducerConfig): BreakerStep {
  switch (state.name) {
    case 'closed':
      return { state, admitted: true };
    case 'open':
      if (now < state.until) return { state, admitted: false };
      return {
        state: {
          name: 'half-open',
          since: now,
          trialUntil: now + config.trialRequestInterval,
          tripped: state.tripped,
          trips: state.trips,
          openMs: state.openMs,
        },
        admitted: true,
      };
    case 'half-open':
      if (now < state.trialUntil) return { state, admitted: false };
      // The trial went silent (e.g. cancelled): let the next request try instead.
      return { state: { ...state, trialUntil: now + config.trialRequestInterval }, admitted: true };
  }
}

function onSuccess(state: BreakerState, now: number, config: ReducerConfig): BreakerState {
  switch (state.name) {
    case 'closed':
      // A literal, not a spread: this runs on every successful attempt.
      return {
        name: 'closed',
        since: state.since,
        window: recordEvent(state.window, false, now, config),
        trips: state.trips,
        forgiveAt: state.forgiveAt,
      };
    case 'half-open':
      // The trips are kept: a trip within the quiet period (the last open window) counts on from them.
      return closedBreaker(now, state.trips, now + state.openMs);
    case 'open':
      return state;
  }
}

function onFailure(state: BreakerState, now: number, config: ReducerConfig): BreakerState {
  switch (state.name) {
    case 'closed': {
      const window = recordEvent(state.window, true, now, config);
      if (window.snapshot !== state.window.snapshot && exceedsThreshold(window.snapshot, config))
        return opened(now, window.snapshot, config, now >= state.forgiveAt ? 1 : state.trips + 1);
      return { name: 'closed', since: state.since, window, trips: state.trips, forgiveAt: state.forgiveAt };
    }
    case 'half-open':
      return opened(now, state.tripped, config, state.trips + 1);
    case 'open':
      return state;
  }
}

function opened(now: number, tripped: WindowCount, config: ReducerConfig, trips: number): OpenState {
  const openMs = openWindow(trips, config);
  return { name: 'open', since: now, until: now + openMs, tripped, trips, openMs };
}
