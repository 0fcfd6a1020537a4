import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { clockFromScheduler } from '../internal/clock.js';
import { RetryBudget, resolveRetryBudget, type RetryBudgetConfig } from '../resilience/retry-budget.js';

/**
 * A retry budget (Finagle's, as the client's `retryBudget`) to share between the calls that
 * {@link retryBackoff} guards: each subscription deposits, each retry withdraws, and a retry the
 * budget cannot pay is not made (the call ends with its last outcome). Throws `INVALID_ARGUMENT`
 * naming the field (`retryBudget.ratio`, …) on bad settings.
 *
 * @param scheduler - the time source; a `TestScheduler` for virtual time. @defaultValue asyncScheduler
 * @example
 * ```ts
 * const budget = retryBudget({ ratio: 0.1, minRetriesPerSecond: 5 });
 * defer(() => fetch(url)).pipe(retryBackoff({ maxAttempts: 3, budget }));
 * ```
 */
export function retryBudget(
  config?: RetryBudgetConfig,
  scheduler: SchedulerLike = asyncScheduler,
): RetryBudget {
  return new RetryBudget(resolveRetryBudget(config)!, clockFromScheduler(scheduler));
}
