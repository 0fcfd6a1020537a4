import type { XhttpError } from '../errors.js';
import type { RetryRefusedEvent, RetryScheduledEvent } from '../events/events.js';
import type { AttemptOutcome } from '../types.js';
import { callbackFailed } from '../internal/callback.js';
import { backoffDelay } from './backoff.js';
import { parseRetryAfter } from './retry-after.js';
import type { RetryBudget } from './retry-budget.js';
import { neverReachedServer, shouldRetry, type ResolvedRetry } from './retry-policy.js';
import { RetryDecision } from './retry.js';

/** Per-call retry state the decision reads and updates. */
export interface RetryState {
  readonly retry: ResolvedRetry | undefined;
  readonly deadlineAt: number;
  /** The call's group: a transparent retry needs another address in it. */
  readonly group: { readonly addresses: readonly unknown[] };
  previousDelay: number;
  transparentUsed: boolean;
  /** A request body that can be read once (a stream); `started` once the transport read from it. */
  readonly once: { readonly started: boolean } | undefined;
  /**
   * Rounds of attempts so far, when attempts and rounds differ (hedging: a round is a first attempt
   * and its hedges): what `maxAttempts` and the back-off count. Absent: each attempt is a round.
   */
  readonly rounds?: number;
  /** Attempts made so far, hedges included: the next attempt's number is one more. */
  readonly attempts?: number;
}

/** What the decision may tell the world. */
export interface DecideContext {
  readonly now: number;
  readonly random: () => number;
  readonly budget: RetryBudget | undefined;
  /**
   * How long the next attempt is likely to take, ms: the recent latency of the fastest host it could
   * go to; 0 when unknown (nothing is refused on an unknown). Absent: no such check.
   */
  readonly expectedAttemptMs?: () => number;
  readonly emit: (
    e: Omit<RetryScheduledEvent, keyof CallFields> | Omit<RetryRefusedEvent, keyof CallFields>,
  ) => void;
}

type CallFields = { time: number; callId: number; group: string; method: string };

function reasonOf(outcome: AttemptOutcome): string {
  if (outcome.error) return outcome.error.code.toLowerCase();
  return String(outcome.response?.status ?? 'unknown');
}

/**
 * Decides whether the call makes another attempt, and after what delay. Order: the policy
 * (`retryOn`, idempotency), then the delay (Retry-After or back-off with jitter), then the
 * deadline (a retry that cannot start in time is not scheduled, nor one that could start but whose
 * fastest candidate host is slower than the time it would have: `deadline-insufficient`), then the
 * budget (a refusal never waits, and a retry refused for the deadline draws nothing from it). A
 * connect failure that reached no server gets one transparent retry on another address, outside the
 * policy and the budget. A streamed request body that the transport has begun to read is never
 * retried (`retry-refused`, reason `body-not-replayable`); one it never read (a connect failure) may
 * be, since not a byte of it has gone.
 *
 * @throws XhttpError `INVALID_ARGUMENT` with `field` `retry.retryOn` when the user's `retryOn` throws.
 */
export function decideRetry(
  outcome: AttemptOutcome,
  state: RetryState,
  ctx: DecideContext,
): RetryDecision | undefined {
  const retry = state.retry;
  const tries = state.rounds ?? outcome.attempt;
  const next = nextAttempt(outcome, state);
  if (retry && tries < retry.maxAttempts && safeShouldRetry(outcome, retry)) {
    // A stream already (partly) sent cannot be sent again: say so rather than send a truncated body.
    if (state.once?.started === true) {
      ctx.emit({ type: 'retry-refused', attempt: next, reason: 'body-not-replayable' });
      return undefined;
    }
    let delay: number | undefined;
    let delayReason: 'backoff' | 'retry-after' = 'backoff';
    const status = outcome.response?.status;
    if (retry.respectRetryAfter && (status === 429 || status === 503)) {
      delay = parseRetryAfter(outcome.response?.headers['retry-after'], ctx.now);
      if (delay !== undefined) delayReason = 'retry-after';
    }
    if (delay === undefined) {
      delay = backoffDelay(tries - 1, state.previousDelay, retry.backoff, ctx.random);
      state.previousDelay = delay;
    }
    if (ctx.now + delay >= state.deadlineAt) {
      ctx.emit({ type: 'retry-refused', attempt: next, reason: 'deadline' });
      return transparentRetry(outcome, state, ctx);
    }
    // Deadline-aware: the call ends now with this outcome rather than at its deadline. No
    // transparent retry either: it would go to the same hosts.
    if (cannotFinish(next, state, ctx, delay)) return undefined;
    if (ctx.budget && !ctx.budget.tryWithdraw()) {
      ctx.emit({ type: 'retry-refused', attempt: next, reason: 'budget' });
      // A connect failure keeps its free retry: transparent retries never draw on the budget.
      return transparentRetry(outcome, state, ctx);
    }
    ctx.emit({
      type: 'retry-scheduled',
      attempt: next,
      delayMs: delay,
      delayReason,
      reason: reasonOf(outcome),
    });
    return new RetryDecision(delay, delayReason);
  }
  return transparentRetry(outcome, state, ctx);
}

/**
 * A user's `retryOn` that throws is a bug to surface, not a "no": the call fails with
 * `INVALID_ARGUMENT` naming `retry.retryOn` (the caller catches it; see `Call`).
 */
function safeShouldRetry(outcome: AttemptOutcome, retry: ResolvedRetry): boolean {
  try {
    return shouldRetry(outcome, retry);
  } catch (error) {
    throw callbackFailed('retry.retryOn', error);
  }
}

/** One free retry, on another address, for a failure that provably reached no server. */
function transparentRetry(
  outcome: AttemptOutcome,
  state: RetryState,
  ctx: DecideContext,
): RetryDecision | undefined {
  if (
    outcome.error !== undefined &&
    !state.transparentUsed &&
    state.once?.started !== true &&
    state.group.addresses.length > 1 &&
    neverReachedServer(outcome.error as XhttpError) &&
    ctx.now < state.deadlineAt &&
    !cannotFinish(nextAttempt(outcome, state), state, ctx, 0)
  ) {
    state.transparentUsed = true;
    ctx.emit({
      type: 'retry-scheduled',
      attempt: nextAttempt(outcome, state),
      delayMs: 0,
      delayReason: 'transparent',
      reason: reasonOf(outcome),
    });
    return new RetryDecision(0, 'transparent');
  }
  return undefined;
}

/**
 * True (and a `retry-refused` event, reason `deadline-insufficient`) when the retry, starting after
 * `delay`, would have less time than the fastest host it could go to recently took.
 */
function cannotFinish(
  next: number,
  state: RetryState,
  ctx: DecideContext,
  delay: number,
): boolean {
  const expected = ctx.expectedAttemptMs?.() ?? 0;
  if (!(expected > 0)) return false;
  const remaining = state.deadlineAt - ctx.now - delay;
  if (remaining >= expected) return false;
  ctx.emit({
    type: 'retry-refused',
    attempt: next,
    reason: 'deadline-insufficient',
    expectedMs: Math.round(expected),
    remainingMs: Math.max(0, Math.round(remaining)),
  });
  return true;
}

/** The number the next attempt gets: one more than every attempt so far, hedges included. */
function nextAttempt(outcome: AttemptOutcome, state: RetryState): number {
  return (state.attempts ?? outcome.attempt) + 1;
}
