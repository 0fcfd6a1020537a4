/**
 * rxhttp: a resilient HTTP client for microservices on RxJS and undici.
 *
 * @example
 * ```ts
 * import { Client, AddressGroup } from 'rxhttp';
 * const client = new Client();
 * const users = new AddressGroup('static://127.0.0.1:8081,127.0.0.1:8082');
 * const res = await client.get(users, '/users/42', { retry: { maxAttempts: 3 } });
 * ```
 */
export { Client } from './client/client.js';
export type { ClientConfig, TlsOptions } from './client/config.js';
export type { OpenTelemetryConfig } from './observability/otel-config.js';
export type { FetchInit } from './client/fetch.js';
export type {
  ClientHealth,
  GroupHealth,
  HostHealthRow,
  TrafficHealth,
  LatencyPercentiles,
} from './client/health.js';
export { AddressGroup } from './group/address-group.js';
export type { AddressGroupOptions } from './group/address-group.js';
export type { HealthCheckConfig } from './group/health-check.js';
export type { BulkheadState } from './client/bulkhead.js';
export type { ComposedCall } from './client/composed-call.js';
export { registerResolver } from './resolver/index.js';
export { FinagleP2CEwmaBalancer, P2CEwmaBalancer } from './balancer/p2c-ewma.js';
export type { P2CEwmaOptions } from './balancer/p2c-ewma.js';
export type { HostHealthSource, HostPolicy, SlowStartOptions } from './balancer/host-policy.js';
export { XhttpError, FailFastError, TimeoutError, isXhttpError } from './errors.js';
export type { ErrorCode, TimeoutPhase } from './errors.js';
export type { CircuitBreakerConfig } from './breaker/config.js';
export type { BreakerControl } from './breaker/control.js';
export type { ForcedState, ManualCause, ManualTransition } from './breaker/manual.js';
export type { RetryBudgetConfig } from './resilience/retry-budget.js';
export type { HedgeOptions } from './resilience/hedge.js';
export type { CallEvent } from './events/events.js';
export type {
  Address,
  AttemptOutcome,
  BackoffOptions,
  BreakerSnapshot,
  BodyOptions,
  CallOptions,
  QueryParams,
  HostHealth,
  HostLoad,
  Jitter,
  LoadBalancer,
  LoadBalancerName,
  PickContext,
  RedirectMode,
  RequestBody,
  ResolveOptions,
  Resolver,
  ResponseBody,
  ResponseType,
  RetryOptions,
  XRequest,
  XResponse,
} from './types.js';
export type {
  CallTimeline,
  TimelineEntry,
  TimelineAttempt,
  TimelineRetry,
  TimelineRetryRefused,
  TimelineHedge,
  TimelineHedgeRefused,
  TimelineBreakerSkip,
  TimelineFailFast,
} from './timeline.js';
export { withDeadline, remainingDeadline } from './client/deadline.js';
export { parseDeadlineHeader, DEFAULT_DEADLINE_HEADER } from './resilience/deadline.js';
