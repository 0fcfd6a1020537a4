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
 */

/** Breaker states, named as on `BreakerSnapshot.state`. */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** CLOSED: counting. */
export interface ClosedState {
  readonly name: 'closed';
  /** When the breaker entered this state, ms. */
  readonly since: number;
  readonly window: SlidingWindow;
}

/** OPEN: rejecting until `until`. */
export interface OpenState {
  readonly name: 'open';
  readonly since: number;
  /** First time a request is admitted as a trial. */
  readonly until: number;
  /** The window snapshot that opened the breaker, kept for display. */
  readonly tripped: WindowCount;
}

/** HALF_OPEN: one trial out, until `trialUntil`. */
export interface HalfOpenState {
  readonly name: 'half-open';
  readonly since: number;
  /** First time another trial is admitted if the current one has not reported. */
  readonly trialUntil: number;
  readonly tripped: WindowCount;
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

/** The settings the reducer reads. */
export type ReducerConfig = Pick<
  ResolvedBreakerConfig,
  | 'failureRateThreshold'
  | 'minimumRequestThreshold'
  | 'trialRequestInterval'
  | 'circuitOpenWindow'
  | 'counterSlidingWindow'
  | 'counterUpdateInterval'
>;

/** A closed breaker with an empty window starting at `now`. */
export function closedBreaker(now: number): ClosedState {
  return { name: 'closed', since: now, window: emptyWindow(now) };
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
      return { name: 'closed', since: state.since, window: recordEvent(state.window, false, now, config) };
    case 'half-open':
      return closedBreaker(now);
    case 'open':
      return state;
  }
}

function onFailure(state: BreakerState, now: number, config: ReducerConfig): BreakerState {
  switch (state.name) {
    case 'closed': {
      const window = recordEvent(state.window, true, now, config);
      if (window.snapshot !== state.window.snapshot && exceedsThreshold(window.snapshot, config))
        return opened(now, window.snapshot, config);
      return { name: 'closed', since: state.since, window };
    }
    case 'half-open':
      return opened(now, state.tripped, config);
    case 'open':
      return state;
  }
}

function opened(now: number, tripped: WindowCount, config: ReducerConfig): OpenState {
  return { name: 'open', since: now, until: now + config.circuitOpenWindow, tripped };
}
