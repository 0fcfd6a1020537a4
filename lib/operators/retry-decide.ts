import { XhttpError, isXhttpError } from '../errors.js';
import { callbackFailed } from '../internal/callback.js';
import { decideRetry, type DecideContext, type RetryState } from '../resilience/decide.js';
import type { ResolvedBackoff } from '../resilience/backoff.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { ResolvedRetry } from '../resilience/retry-policy.js';
import type { AttemptOutcome } from '../types.js';
import type { CallScope } from './call-scope.js';
import { retryAfterHeaderOf, statusOf } from './outcome.js';
import type { RetryOutcome } from './retry-backoff.js';

/** What {@link scopedDecider} needs of `retryBackoff`'s resolved options. */
export interface ScopedRetrySettings<T> {
  readonly maxAttempts: number;
  readonly backoff: ResolvedBackoff;
  readonly respectRetryAfter: boolean;
  readonly retryNonIdempotent: boolean;
  readonly retryOn: (outcome: RetryOutcome<T>) => boolean;
  readonly budget: RetryBudget | undefined;
  readonly random: (() => number) | undefined;
  /** Ms from subscribe (the operator's own `deadline`), capping the call's. */
  readonly deadlineMs: number | undefined;
}

/**
 * The retry decision of `retryBackoff` inside a call ({@link CallScope}): the fused chain's own
 * {@link decideRetry} — policy and idempotency, Retry-After or back-off with jitter, the deadline
 * (and `deadline-insufficient`), the budget, one transparent retry for a failure that reached no
 * server — with its `retry-scheduled` / `retry-refused` events into the call. One decider per
 * subscription (it holds the back-off's previous delay). Returns the delay, or undefined for none.
 */
export function scopedDecider<T>(
  s: ScopedRetrySettings<T>,
  scope: CallScope,
  start: number,
): (outcome: RetryOutcome<T>) => number | undefined {
  let current: RetryOutcome<T> | undefined;
  const policy: ResolvedRetry = {
    maxAttempts: s.maxAttempts,
    retryOn: () => s.retryOn(current!),
    timeoutPerAttempt: undefined,
    backoff: s.backoff,
    retryNonIdempotent: s.retryNonIdempotent,
    respectRetryAfter: s.respectRetryAfter,
  };
  const deadlineAt =
    s.deadlineMs === undefined ? scope.deadlineAt : Math.min(scope.deadlineAt, start + s.deadlineMs);
  const state: RetryState = {
    retry: policy,
    deadlineAt,
    group: scope.info.group,
    previousDelay: s.backoff.initialDelay,
    transparentUsed: false,
    get once() {
      return scope.once;
    },
  };
  const sink = scope.sink;
  const expected = sink.expectedAttemptMs;
  const ctx: DecideContext & { now: number } = {
    now: 0,
    random: s.random ?? sink.random ?? Math.random,
    budget: s.budget ?? sink.budget,
    ...(expected === undefined
      ? {}
      : {
          expectedAttemptMs: () =>
            expected.call(sink, scope.info.group.addresses, (k) => scope.tried.has(k), ctx.now),
        }),
    emit: (e) => scope.emit(e, ctx.now),
  };
  return (outcome) => {
    // An attempt that never started (fail fast, no address, a throwing balancer) is not retried.
    if (scope.attemptRefused || scope.timedOut) return undefined;
    current = outcome;
    ctx.now = sink.now();
    const attempt = scope.outcome?.attempt === outcome.attempt ? scope.outcome : synthesized(outcome, scope);
    return decideRetry(attempt, state, ctx)?.delayMs;
  };
}

/**
 * True when `outcome` is certainly not retried, decided without building a decider: a value (no
 * error, so no transparent retry either) that the attempts left or `retryOn` rule out — the order
 * `decideRetry` asks them in. Most calls end here, on their first response.
 */
export function surelyNoRetry<T>(
  s: ScopedRetrySettings<T>,
  scope: CallScope,
  outcome: RetryOutcome<T>,
): boolean {
  if (scope.attemptRefused || scope.timedOut) return true;
  if (outcome.error !== undefined || !('value' in outcome)) return false;
  if (outcome.attempt >= s.maxAttempts) return true;
  try {
    return !s.retryOn(outcome);
  } catch (thrown) {
    throw callbackFailed('retry.retryOn', thrown);
  }
}

/** The outcome of a source that is not a client's attempt step: status and Retry-After read off it. */
function synthesized<T>(outcome: RetryOutcome<T>, scope: CallScope): AttemptOutcome {
  const failed = outcome.error !== undefined || !('value' in outcome);
  const subject: unknown = failed ? outcome.error : outcome.value;
  const status = statusOf(subject);
  const retryAfter = retryAfterHeaderOf(subject);
  return {
    attempt: outcome.attempt,
    address: scope.target?.address ?? NO_ADDRESS,
    method: scope.method,
    response:
      status === undefined
        ? undefined
        : {
            status,
            headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter as string | string[] },
          },
    error: failed ? asXhttpError(outcome.error) : undefined,
    elapsedMs: 0,
  };
}

const NO_ADDRESS = Object.freeze({ host: '', port: 0 });

function asXhttpError(error: unknown): XhttpError {
  return isXhttpError(error) ? error : new XhttpError('PROTOCOL', 'the source failed', { cause: error });
}
