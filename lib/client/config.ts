import { resolveHedge, type HedgeOptions, type ResolvedHedge } from '../resilience/hedge.js';
import type { Registry, RegistryContentType } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import { invalidArgument } from '../errors.js';
import type { OpenTelemetryConfig } from '../observability/otel-config.js';
import type { CircuitBreakerConfig } from '../breaker/config.js';
import type { RetryBudgetConfig } from '../resilience/retry-budget.js';
import {
  checkOptions,
  optionalDuration,
  optionalPositiveDuration,
  optionalPositiveInt,
} from '../internal/validate.js';
import { DEFAULT_DEADLINE_HEADER } from '../resilience/deadline.js';
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

/**
 * TLS settings for `https` groups, passed to undici's connector. Certificate verification is always
 * on; there is no switch to turn it off.
 *
 * @example
 * ```ts
 * new Client({ tls: { ca: readFileSync('ca.pem'), cert: readFileSync('client.pem'), key: readFileSync('client.key') } });
 * ```
 */
export interface TlsOptions {
  /** Trusted CA certificates (PEM). @defaultValue Node's bundled root CAs */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate (PEM), for mutual TLS. */
  readonly cert?: string | Buffer;
  /** Private key of `cert` (PEM). */
  readonly key?: string | Buffer;
  /** SNI and verification name, when it differs from the address's host (as for IP addresses). */
  readonly servername?: string;
  /** Extra check of the server's certificate: return an `Error` to refuse it. @defaultValue Node's `tls.checkServerIdentity` */
  readonly checkServerIdentity?: (host: string, cert: unknown) => Error | undefined;
}

/**
 * Client-wide settings, all optional (the full table is in docs/api.md). Durations are in
 * milliseconds, at most 2147483647. Invalid settings throw `XhttpError` `INVALID_ARGUMENT` from
 * `new Client()`, with `field` naming the setting.
 *
 * @example
 * ```ts
 * const client = new Client({
 *   requestTimeout: 5_000,
 *   connectTimeout: 1_000,
 *   headers: { 'user-agent': 'orders/1.4' },
 *   circuitBreaker: { failureRateThreshold: 0.3 },
 *   metrics: { registry },
 * });
 * ```
 */
export interface ClientConfig {
  /**
   * Default deadline of a whole call, ms: every attempt, back-off delay and buffered body read
   * included; a positive number. A call's `timeout` option overrides it. @defaultValue 30_000
   */
  readonly requestTimeout?: number;
  /** Longest TCP + TLS connect, per attempt, ms; a positive number. @defaultValue 10_000 */
  readonly connectTimeout?: number;
  /**
   * Longest wait for the response headers once the request is sent, per attempt, ms. 0 means no
   * limit of its own (the call's deadline still applies). @defaultValue the `requestTimeout`
   */
  readonly headersTimeout?: number;
  /**
   * Longest silence between two body chunks, per attempt, ms. 0 means no limit of its own (the
   * call's deadline still applies to buffered bodies). @defaultValue 30_000
   */
  readonly bodyTimeout?: number;
  /** How long an idle pooled connection is kept open, ms; a positive number. @defaultValue 4_000 */
  readonly keepAliveTimeout?: number;
  /** Most connections per origin (host:port), an integer from 1 to 65536. @defaultValue 128 */
  readonly connections?: number;
  /**
   * Circuit-breaker settings (one breaker per `host:port` by default), or `false` to turn breakers
   * off. @defaultValue enabled, with the {@link CircuitBreakerConfig} defaults
   */
  readonly circuitBreaker?: CircuitBreakerConfig | false;
  /**
   * Limit on retries across the whole client, or `false` for none.
   * @defaultValue `{ ratio: 0.2, minRetriesPerSecond: 10, ttl: 10_000 }`
   */
  readonly retryBudget?: RetryBudgetConfig | false;
  /**
   * Prometheus metrics (OpenTelemetry HTTP client names) registered in the given prom-client
   * registry. No label holds a path, query or header value. @defaultValue none
   */
  readonly metrics?: { readonly registry: Registry<RegistryContentType> };
  /** A zipkin-js `Tracer`: one CLIENT span per attempt, B3 headers propagated. @defaultValue none */
  readonly tracer?: unknown;
  /** Zipkin remote service name for client spans. @defaultValue the group's name */
  readonly remoteServiceName?: string;
  /** Also write the single `b3` header besides the multi-header B3 form. @defaultValue false */
  readonly b3Single?: boolean;
  /**
   * OpenTelemetry through `@opentelemetry/api` (optional peer dependency): one CLIENT span per
   * attempt as the HTTP client conventions say, propagated by the propagator (W3C `traceparent` by
   * default), dispatched with tracing suppressed so `@opentelemetry/instrumentation-undici` does not
   * trace the attempt again; metrics through the meter. `true`: the global providers. May run beside
   * `tracer` (both headers are sent). @defaultValue none
   *
   * @example
   * ```ts
   * new Client({ openTelemetry: { tracerProvider, meterProvider } });
   * ```
   */
  readonly openTelemetry?: OpenTelemetryConfig | true;
  /**
   * Headers sent with every call; a call's own headers win. Names are case-insensitive; framing
   * headers (`content-length`, `connection`, …) are refused. @defaultValue none
   */
  readonly headers?: Record<string, string>;
  /** TLS settings for `https` groups. @defaultValue system CAs, verification on */
  readonly tls?: TlsOptions;
  /**
   * The request header in which every attempt tells the server the call's time left, in whole ms
   * (as gRPC's `grpc-timeout`); `false` sends none. A server made with rxhttp reads it back
   * (`rxhttp/nest`'s `RxHttpDeadlineInterceptor`, or `withDeadline`), so a chain of services shares
   * one deadline. Overrides a header of that name set by the call. @defaultValue 'x-rxhttp-deadline-ms'
   */
  readonly deadlineHeader?: string | false;
  /**
   * Hedged requests for every call that does not set its own `hedge` (a call's `hedge: false` turns
   * it off): see {@link HedgeOptions}. @defaultValue none: no call is hedged unless it asks
   */
  readonly hedge?: HedgeOptions;
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
  'openTelemetry',
  'headers',
  'tls',
  'scheduler',
  'random',
  'deadlineHeader',
  'hedge',
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
  /** Lower case; undefined when turned off. */
  readonly deadlineHeader: string | undefined;
  /** The client's default hedging; undefined: none. */
  readonly hedge: ResolvedHedge | undefined;
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
    for (const k of ['ca', 'cert', 'key'] as const) {
      const v: unknown = config.tls[k];
      if (v !== undefined && !isPem(v) && !(Array.isArray(v) && v.every(isPem)))
        throw invalidArgument(`tls.${k}`, 'must be a PEM string or Buffer, or an array of them');
    }
  }
  return {
    requestTimeout,
    connectTimeout:
      optionalPositiveDuration(config.connectTimeout, 'connectTimeout') ?? DEFAULT_CONNECT_TIMEOUT,
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
    deadlineHeader: resolveDeadlineHeader(config.deadlineHeader),
    hedge: resolveClientHedge(config.hedge),
  };
}

/** The client's `hedge`: an object of {@link HedgeOptions}; `false` is as good as leaving it out. */
function resolveClientHedge(value: unknown): ResolvedHedge | undefined {
  const h = resolveHedge(value, 'hedge');
  return h === false ? undefined : h;
}

/** `false` turns it off; a name must be a token the transport does not own. */
function resolveDeadlineHeader(name: unknown): string | undefined {
  if (name === undefined) return DEFAULT_DEADLINE_HEADER;
  if (name === false) return undefined;
  if (typeof name !== 'string') throw invalidArgument('deadlineHeader', 'must be a header name or false');
  // The same rules as any request header (token, not a framing header); the value is ours.
  const checked = Object.keys(normalizeHeaders({ [name]: '1' }, 'deadlineHeader'));
  return checked[0]!;
}

function isPem(v: unknown): boolean {
  return typeof v === 'string' || ArrayBuffer.isView(v);
}
