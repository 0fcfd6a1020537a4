import type { BreakerSnapshot } from '../types.js';
import {
  closedBreaker,
  reduceBreaker,
  shownCounts,
  type BreakerInput,
  type BreakerState,
  type BreakerStateName,
  type BreakerStep,
  type ReducerConfig,
} from './reducer.js';
import { failureRate } from './window.js';

/**
 * Manual control of a breaker (resilience4j's FORCED_OPEN and DISABLED), as pure functions over the
 * reducer's state and an override beside it. Shared by the standalone `CircuitBreaker` of
 * `rxhttp/operators` and the client's keyed `CircuitBreakers`, so both force, count and show alike:
 *
 * - forced open refuses every request; forced closed admits every one;
 * - results reported while forced are not counted (the window underneath stays as it was);
 * - `reset` drops the override and starts a fresh closed window with no trips remembered.
 *
 * The override is kept apart from {@link BreakerState} so the hot path (a result on a breaker that
 * nobody forced) reads one `undefined` field and allocates nothing more.
 */

/** A manual override: the state a breaker is forced to show and keep. */
export type ForcedState = 'open' | 'closed';

/** What a manual change was: the method that made it. */
export type ManualCause = 'forceOpen' | 'forceClose' | 'reset';

/** An override in force: what it forces and since when (the clock's ms). */
export interface Override {
  readonly to: ForcedState;
  /** When the override was set: the `since` a snapshot shows while it holds. */
  readonly since: number;
}

/** A breaker's state with its override, if any: what the manual functions read and return. */
export interface ManualState {
  readonly state: BreakerState;
  readonly override: Override | undefined;
}

/**
 * The fields a manual change adds to a `breaker-transition` event: the override in force after it
 * (absent: none) and the method that made it. The breaker's own transitions carry neither.
 */
export interface ManualTransition {
  readonly forced?: ForcedState;
  readonly cause?: ManualCause;
}

/** The state a breaker shows: the forced one while an override holds, else its own. */
export function shownState(state: BreakerState, override: Override | undefined): BreakerStateName {
  return override === undefined ? state.name : override.to;
}

/**
 * {@link reduceBreaker} under an override: forced, a request is admitted when forced closed and
 * refused when forced open, and a result changes nothing; unforced, the reducer decides.
 *
 * @example
 * ```ts
 * reduceManual(state, { to: 'open', since: 0 }, 'request', now, config).admitted; // false
 * ```
 */
export function reduceManual(
  state: BreakerState,
  override: Override | undefined,
  input: BreakerInput,
  now: number,
  config: ReducerConfig,
): BreakerStep {
  if (override === undefined) return reduceBreaker(state, input, now, config);
  return { state, admitted: input === 'request' && override.to === 'closed' };
}

/**
 * Applies a manual command at `now`: `forceOpen` and `forceClose` set the override over the
 * unchanged state; `reset` drops it and starts a fresh closed breaker (empty window, no trips).
 */
export function applyManual(state: BreakerState, cause: ManualCause, now: number): ManualState {
  switch (cause) {
    case 'forceOpen':
      return { state, override: { to: 'open', since: now } };
    case 'forceClose':
      return { state, override: { to: 'closed', since: now } };
    case 'reset':
      return { state: closedBreaker(now), override: undefined };
  }
}

/**
 * Until when a breaker rejects every request, from `now`: `now` when it admits one now; the end of
 * its open window or trial interval; `Infinity` while forced open (only a manual command ends that).
 */
export function rejectsUntil(state: BreakerState, override: Override | undefined, now: number): number {
  if (override !== undefined) return override.to === 'open' ? Infinity : now;
  if (state.name === 'closed') return now;
  return state.name === 'open' ? state.until : state.trialUntil;
}

/**
 * The public view of a breaker: the state it shows, the live counts with the decision's figures
 * beside them (while forced: those of the window underneath, frozen), and `forced` while an override
 * holds, its `since` then the time it was set.
 */
export function breakerSnapshot(state: BreakerState, override: Override | undefined): BreakerSnapshot {
  const { live, decision } = shownCounts(state);
  const snapshot = {
    state: shownState(state, override),
    failureRate: failureRate(live),
    total: live.success + live.failure,
    since: override === undefined ? state.since : override.since,
    decision: { failureRate: failureRate(decision), total: decision.success + decision.failure },
  };
  return override === undefined ? snapshot : { ...snapshot, forced: override.to };
}
