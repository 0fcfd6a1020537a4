/**
 * `rxhttp/operators`: rxhttp's resilience stages as RxJS operators for any Observable — a fetch,
 * an Angular `HttpClient` call, a WebSocket handshake. Imports no Node built-in and no undici, so
 * it bundles for browsers, Deno and Node alike.
 *
 * @example
 * ```ts
 * import { CircuitBreaker, circuitBreaker, retryBackoff, attemptTimeout, deadline } from 'rxhttp/operators';
 * const breaker = new CircuitBreaker();
 * defer(() => fetch(url)).pipe(
 *   attemptTimeout(1_000), circuitBreaker(breaker), retryBackoff({ maxAttempts: 3 }), deadline(5_000),
 * );
 * ```
 *
 * @packageDocumentation
 */
export {
  CircuitBreaker,
  type CircuitBreakerSnapshot,
  type CircuitBreakerEvent,
  type ForcedState,
  type StandaloneBreakerConfig,
} from './breaker.js';
export {
  circuitBreaker,
  isServerErrorValue,
  isFailureError,
  type CircuitBreakerOperatorOptions,
} from './circuit-breaker.js';
export {
  retryBackoff,
  defaultRetryOutcome,
  type RetryBackoffOptions,
  type RetryOutcome,
} from './retry-backoff.js';
export { retryBudget } from './retry-budget.js';
export { attemptTimeout, deadline, type DeadlineOptions } from './timeouts.js';
export { pick, type PickGroup, type PickOptions, type PickTarget, type HostBreakers } from './pick.js';
export { CallScope, type CallInfo, type EventSink } from './call-scope.js';
export { traced } from './traced.js';
export { hedge, type HedgeOperatorOptions } from './hedge.js';
export {
  XhttpError,
  FailFastError,
  TimeoutError,
  isXhttpError,
  type ErrorCode,
  type TimeoutPhase,
} from '../errors.js';
export type { RetryBudget, RetryBudgetConfig } from '../resilience/retry-budget.js';
export type { BackoffOptions, Jitter, BreakerSnapshot } from '../types.js';
export type { CircuitBreakerConfig } from '../breaker/config.js';
