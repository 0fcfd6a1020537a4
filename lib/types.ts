import type { Observable } from 'rxjs';
import type { XhttpError } from './errors.js';

/** One server of a group. `weight` and `priority` come from SRV records or the user. */
export interface Address {
  readonly host: string;
  readonly port: number;
  readonly weight?: number;
  readonly priority?: number;
}

/** `host:port` (IPv6 hosts in brackets): the identity of an address in maps, events and breaker keys. */
export type AddressKey = string;

/** Produces address lists for a target URL; see `registerResolver`. */
export interface Resolver {
  readonly scheme: string;
  /**
   * A long-lived stream of address lists: emits on each (re-)resolution, errors on failure. The group
   * keeps the last good list, re-subscribes with back-off on error, and drops unchanged lists.
   */
  resolve(target: URL, options?: ResolveOptions): Observable<readonly Address[]>;
}

/** Per-host load statistics a balancer may read, kept as a scan over `client.events$`. */
export interface HostLoad {
  /** Requests sent and not yet finished. */
  readonly outstanding: number;
  /** Peak-EWMA latency cost in ms, decayed to `now`; 0 when no sample yet. */
  readonly cost: number;
  /** True once a latency sample exists. */
  readonly sampled: boolean;
  /**
   * Typical latency in ms: an EWMA over samples (each weighs 0.1), not over time, so one peak moves it
   * a tenth of the way and a host that turns slow moves it within a few responses; 0 before the
   * first sample. Set by the client's statistics; optional for loads built elsewhere.
   */
  readonly typical?: number;
}

/** What a balancer learns for one pick. */
export interface PickContext {
  /** Current time in ms from the client's clock. */
  readonly now: number;
  /** Uniform random in [0, 1); seedable through `ClientConfig.random`. */
  readonly random: () => number;
  /** Load of a candidate, never undefined (zeroes for unknown hosts). */
  load(address: Address): HostLoad;
  /** Attempt number within the call, 1-based. */
  readonly attempt: number;
}

/** Picks one address among candidates already filtered for eligibility. */
export interface LoadBalancer {
  pick(candidates: readonly Address[], ctx: PickContext): Address | undefined;
}

/** Names of the built-in balancers. */
export type LoadBalancerName = 'round-robin' | 'random' | 'p2c' | 'p2c-ewma' | 'weighted-round-robin';

/** The result of one attempt, as given to `retryOn` and `isFailure`. */
export interface AttemptOutcome {
  readonly attempt: number;
  readonly address: Address;
  readonly response?: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string | string[]>>;
  };
  readonly error?: XhttpError;
  readonly elapsedMs: number;
  /** HTTP method of the request, upper case. */
  readonly method: string;
}

/** Jitter kinds, after the AWS Architecture Blog's "Exponential Backoff And Jitter". */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

/** Exponential back-off between attempts. */
export interface BackoffOptions {
  /** @defaultValue 100 */
  readonly initialDelay?: number;
  /** @defaultValue 10_000 */
  readonly maxDelay?: number;
  /** @defaultValue 2 */
  readonly multiplier?: number;
  /** @defaultValue 'full' */
  readonly jitter?: Jitter;
}

/** Per-call retry policy. */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly retryOn?: (outcome: AttemptOutcome) => boolean;
  readonly timeoutPerAttempt?: number;
  readonly backoff?: BackoffOptions;
  /** @defaultValue false */
  readonly retryNonIdempotent?: boolean;
  /** @defaultValue true */
  readonly respectRetryAfter?: boolean;
}

export type RedirectMode = 'manual' | 'follow' | 'error';
export type ResponseType = 'buffered' | 'stream';

/** Options of one call. */
export interface CallOptions {
  readonly retry?: RetryOptions;
  readonly timeout?: number;
  readonly signal?: AbortSignal;
  readonly headers?: HeadersInit | Record<string, string>;
  readonly responseType?: ResponseType;
  readonly maxResponseBytes?: number;
  readonly redirect?: RedirectMode;
}

/** Body types accepted by a request. */
export type RequestBody = string | Uint8Array | URLSearchParams | null;

/** A group as the call layer sees it (implemented by `AddressGroup`). */
export interface GroupLike {
  readonly name: string;
  readonly protocol: 'http' | 'https';
  readonly addresses: readonly Address[];
  readonly addresses$: Observable<readonly Address[]>;
  readonly ready: Promise<void>;
  readonly balancer: LoadBalancer;
  readonly closed: boolean;
}

/** A request; `group` + `path`, or an absolute `url`. */
export interface XRequest {
  readonly method?: string;
  readonly group?: GroupLike;
  readonly url?: string;
  readonly path?: string;
  readonly query?:
    URLSearchParams | Record<string, string | number | boolean | readonly (string | number | boolean)[]>;
  readonly headers?: HeadersInit | Record<string, string>;
  readonly body?: RequestBody;
}

/** A response body: buffered by default (read inside the chain), or a stream. */
export interface ResponseBody extends AsyncIterable<Uint8Array> {
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  bytes(): Promise<Uint8Array>;
  /** Releases the connection without reading (a no-op when buffered). */
  dump(): Promise<void>;
  readonly bodyUsed: boolean;
}

export interface XResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly address: Address;
  readonly attempts: number;
  readonly body: ResponseBody;
}

/** Health of one host, as on `group.health$` and the dashboard. */
export interface HostHealth {
  readonly address: Address;
  readonly key: AddressKey;
  /** Worst state of the host's breakers; `'off'` when the client has `circuitBreaker: false`. */
  readonly breaker: 'closed' | 'open' | 'half-open' | 'off';
  readonly breakerSince: number;
  readonly failureRate: number;
  readonly total: number;
  readonly inFlight: number;
  readonly latencyMs: number;
  readonly ok: number;
  readonly errors: number;
  readonly timeouts: number;
}

/** Options a group passes to its resolver. Built-in DNS resolvers read them; others may ignore them. */
export interface ResolveOptions {
  /** DNS servers, `host:port` or `host`; system servers when empty. */
  readonly dnsServers?: readonly string[];
  /** Clamp on the TTL-driven refresh period, ms. */
  readonly minTtl: number;
  readonly maxTtl: number;
  /** The client's scheduler (virtual in specs). */
  readonly scheduler: import('rxjs').SchedulerLike;
  /** Uniform random in [0, 1) for jitter. */
  readonly random: () => number;
}

/** Breaker state of one key, as on `client.breakers$`. */
export interface BreakerSnapshot {
  readonly state: 'closed' | 'open' | 'half-open';
  /** failures / total over the closed buckets of the window; 0 when total is 0. */
  readonly failureRate: number;
  readonly total: number;
  /** Clock time (ms) of the last transition. */
  readonly since: number;
}
