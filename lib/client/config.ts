import type { Registry, RegistryContentType } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import { invalidArgument } from '../errors.js';
import type { CircuitBreakerConfig } from '../breaker/config.js';
import type { RetryBudgetConfig } from '../resilience/retry-budget.js';
import {
  checkOptions,
  optionalDuration,
  optionalPositiveDuration,
  optionalPositiveInt,
} from '../internal/validate.js';
import { normalizeHeaders } from './headers.js';

/** Deadline for a whole call, retries and back-off included, ms. */
export const DEFAULT_REQUEST_TIMEOUT = 30_000;
/** TCP + TLS connect, per attempt, ms. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;
/** Longest silence between body chunks, ms. */
export const DEFAULT_BODY_TIMEOUT = 30_000;
/** Idle pooled connection lifetime, ms. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT = 4_000;
/** Max connections per origin. */
export const DEFAULT_CONNECTIONS = 128;
/** Largest buffered response body, bytes (64 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** TLS settings passed to undici's connector. Verification is always on. */
export interface TlsOptions {
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly servername?: string;
  readonly checkServerIdentity?: (host: string, cert: unknown) => Error | undefined;
}

/** Client-wide settings; see API.md for the contract. */
export interface ClientConfig {
  /** @defaultValue 30_000 */
  readonly requestTimeout?: number;
  /** @defaultValue 10_000 */
  readonly connectTimeout?: number;
  /** @defaultValue requestTimeout */
  readonly headersTimeout?: number;
  /** @defaultValue 30_000 */
  readonly bodyTimeout?: number;
  /** @defaultValue 4_000 */
  readonly keepAliveTimeout?: number;
  /** @defaultValue 128 */
  readonly connections?: number;
  /** Breaker settings, or `false` to remove the gate. @defaultValue enabled */
  readonly circuitBreaker?: CircuitBreakerConfig | false;
  /** @defaultValue `{ ratio: 0.2, minRetriesPerSecond: 10 }` */
  readonly retryBudget?: RetryBudgetConfig | false;
  /** Prometheus metrics into the user's registry. */
  readonly metrics?: { readonly registry: Registry<RegistryContentType> };
  /** A zipkin-js Tracer. */
  readonly tracer?: unknown;
  /** Zipkin remote service name for client spans. */
  readonly remoteServiceName?: string;
  /** Also write the single `b3` header. @defaultValue false */
  readonly b3Single?: boolean;
  /** Default request headers. */
  readonly headers?: Record<string, string>;
  readonly tls?: TlsOptions;
  /** Time source for every timer and time stamp (virtual in specs). @defaultValue native timers */
  readonly scheduler?: SchedulerLike;
  /** Uniform random in [0, 1) for jitter and balancers. @defaultValue Math.random */
  readonly random?: () => number;
}

const CONFIG_KEYS = [
  'requestTimeout',
  'connectTimeout',
  'headersTimeout',
  'bodyTimeout',
  'keepAliveTimeout',
  'connections',
  'circuitBreaker',
  'retryBudget',
  'metrics',
  'tracer',
  'remoteServiceName',
  'b3Single',
  'headers',
  'tls',
  'scheduler',
  'random',
];
/** What 0 means for `headersTimeout` and `bodyTimeout`, as validation messages say it. */
const NO_LIMIT = 'no limit';
const TLS_KEYS = ['ca', 'cert', 'key', 'servername', 'checkServerIdentity'];

/** Validated config with defaults applied (breaker and budget resolved by their modules). */
/** The header record of every call without headers of its own (shared, frozen, empty). */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze(
  Object.create(null) as Record<string, string>,
);

export interface ResolvedConfig {
  readonly requestTimeout: number;
  readonly connectTimeout: number;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly keepAliveTimeout: number;
  readonly connections: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly tls: TlsOptions | undefined;
}

/** Validates `config`; throws `INVALID_ARGUMENT` naming the field at fault. */
export function resolveConfig(config: ClientConfig): ResolvedConfig {
  checkOptions(config, CONFIG_KEYS, '');
  const requestTimeout =
    optionalPositiveDuration(config.requestTimeout, 'requestTimeout') ?? DEFAULT_REQUEST_TIMEOUT;
  if (config.metrics !== undefined) {
    checkOptions(config.metrics, ['registry'], 'metrics');
    const r = config.metrics.registry as unknown as Record<string, unknown> | undefined;
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r.metrics !== 'function' ||
      typeof r.getSingleMetric !== 'function' ||
      typeof r.registerMetric !== 'function'
    )
      throw invalidArgument('metrics.registry', 'must be a prom-client Registry');
  }
  if (config.tracer !== undefined && (typeof config.tracer !== 'object' || config.tracer === null))
    throw invalidArgument('tracer', 'must be a zipkin-js Tracer');
  if (config.remoteServiceName !== undefined && typeof config.remoteServiceName !== 'string')
    throw invalidArgument('remoteServiceName', 'must be a string');
  if (config.b3Single !== undefined && typeof config.b3Single !== 'boolean')
    throw invalidArgument('b3Single', 'must be a boolean');
  if (config.random !== undefined && typeof config.random !== 'function')
    throw invalidArgument('random', 'must be a function');
  if (config.scheduler !== undefined && typeof (config.scheduler as { now?: unknown })?.now !== 'function')
    throw invalidArgument('scheduler', 'must be an RxJS scheduler');
  if (config.tls !== undefined) {
    checkOptions(config.tls, TLS_KEYS, 'tls');
    if (config.tls.checkServerIdentity !== undefined && typeof config.tls.checkServerIdentity !== 'function')
      throw invalidArgument('tls.checkServerIdentity', 'must be a function');
    if (config.tls.servername !== undefined && typeof config.tls.servername !== 'string')
      throw invalidArgument('tls.servername', 'must be a string');
  }
  return {
    requestTimeout,
    connectTimeout: optionalPositiveDuration(config.connectTimeout, 'connectTimeout') ?? DEFAULT_CONNECT_TIMEOUT,
    // 0 turns these two phase limits off, as in undici; the call's deadline still applies.
    headersTimeout: optionalDuration(config.headersTimeout, 'headersTimeout', NO_LIMIT) ?? requestTimeout,
    bodyTimeout: optionalDuration(config.bodyTimeout, 'bodyTimeout', NO_LIMIT) ?? DEFAULT_BODY_TIMEOUT,
    keepAliveTimeout:
      optionalPositiveDuration(config.keepAliveTimeout, 'keepAliveTimeout') ?? DEFAULT_KEEP_ALIVE_TIMEOUT,
    connections: optionalPositiveInt(config.connections, 'connections', 65_536) ?? DEFAULT_CONNECTIONS,
    // Frozen: calls without headers of their own share this record.
    headers:
      config.headers === undefined ? NO_HEADERS : Object.freeze(normalizeHeaders(config.headers, 'headers')),
    tls: config.tls,
  };
}
