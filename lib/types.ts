import type { Observable } from 'rxjs';
import type { HostPolicy } from './balancer/host-policy.js';
import type { XhttpError } from './errors.js';
import type { CallTimeline } from './timeline.js';
import type { HedgeOptions } from './resilience/hedge.js';

/**
 * One server of a group. `weight` and `priority` come from SRV records or the user.
 *
 * @example
 * ```ts
 * const a: Address = { host: '10.0.0.1', port: 8080, weight: 2 };
 * ```
 */
export interface Address {
  /** Host name, IPv4 or IPv6 literal (without brackets), lower case. */
  readonly host: string;
  /** TCP port, 1–65535. */
  readonly port: number;
  /** Relative share for `weighted-round-robin` (SRV weight). @defaultValue 1 when absent */
  readonly weight?: number;
  /** SRV priority, lower preferred: `weighted-round-robin` sends traffic to the lowest tier present only. @defaultValue 0 when absent */
  readonly priority?: number;
}

/** `host:port` (IPv6 hosts in brackets): the identity of an address in maps, events and breaker keys. */
export type AddressKey = string;

/**
 * Produces address lists for a target URL; install one with `registerResolver`.
 *
 * @example
 * ```ts
 * registerResolver({ scheme: 'consul', resolve: (url) => of([{ host: '127.0.0.1', port: 8080 }]) });
 * ```
 */
export interface Resolver {
  /** URL scheme this resolver serves, lower case (`'consul'` for `consul://…` targets). */
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
  /**
   * Recent failure ratio in [0, 1]: an EWMA over attempts (each weighs 0.1; a failure is an error or
   * a status ≥ 500) that also decays toward 0 with time while the host gets none (τ = 5 s). Set by
   * the client's statistics; optional for loads built elsewhere.
   */
  readonly failure?: number;
  /**
   * Client time (ms) the host joined a group's list after the group's first resolution, or its
   * breaker last closed: the start of its slow-start ramp. -Infinity (or absent) when neither.
   */
  readonly since?: number;
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

/**
 * Picks one address among candidates already filtered for eligibility: hosts whose breaker is open
 * are left out while a closed or half-open one remains, and an address tried earlier in the same
 * call is avoided when another exists. Give an instance as `AddressGroupOptions.loadBalancer`; it
 * is used by that group only.
 *
 * @example
 * ```ts
 * const firstFree: LoadBalancer = {
 *   pick: (candidates, ctx) => candidates.find((a) => ctx.load(a).outstanding === 0) ?? candidates[0],
 * };
 * new AddressGroup('static://10.0.0.1:80,10.0.0.2:80', { loadBalancer: firstFree });
 * ```
 */
export interface LoadBalancer {
  /**
   * Returns one of `candidates` (never empty when called); `undefined` falls back to the first
   * candidate, and a throw fails the call with it. Called once per attempt on the hot path: keep it
   * O(1) or O(candidates), without I/O.
   */
  pick(candidates: readonly Address[], ctx: PickContext): Address | undefined;
}

/**
 * Names of the built-in balancers: `round-robin` (in turn), `random` (uniform), `p2c` (power of two
 * choices on requests in flight), `p2c-ewma` (the default: two choices on peak-EWMA latency ×
 * in-flight, after Finagle, with the peak capped at 1.5× typical latency and failures priced in),
 * `finagle-p2c-ewma` (Finagle's formula exactly), `weighted-round-robin` (smooth, by `Address.weight`).
 */
export type LoadBalancerName =
  'round-robin' | 'random' | 'p2c' | 'p2c-ewma' | 'finagle-p2c-ewma' | 'weighted-round-robin';

/**
 * The result of one attempt, as given to `RetryOptions.retryOn` and `CircuitBreakerConfig.isFailure`.
 * Exactly one of `response` and `error` is set, except when the body failed after the headers
 * arrived: then both are, and the error decides.
 */
export interface AttemptOutcome {
  /** 1-based attempt number within the call. */
  readonly attempt: number;
  /** The server this attempt went to. */
  readonly address: Address;
  /** Status and headers (names lower case; repeated headers as arrays), when they arrived. */
  readonly response?:
    | {
        readonly status: number;
        readonly headers: Readonly<Record<string, string | string[]>>;
      }
    | undefined;
  /** Why the attempt failed (code `CONNECT`, `RESET`, `TIMEOUT`, `PROTOCOL`, …). */
  readonly error?: XhttpError | undefined;
  /** Time the attempt took, ms. */
  readonly elapsedMs: number;
  /** HTTP method of the request, upper case. */
  readonly method: string;
}

/** Jitter kinds, after the AWS Architecture Blog's "Exponential Backoff And Jitter". */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

/**
 * Exponential back-off between attempts: before jitter, retry n waits
 * `min(maxDelay, initialDelay × multiplier^(n-1))` ms. When only one of `initialDelay` and
 * `maxDelay` is given, the other's default bends to it (`{ maxDelay: 50 }` starts at 50).
 *
 * @example
 * ```ts
 * { maxAttempts: 4, backoff: { initialDelay: 50, maxDelay: 1_000, jitter: 'equal' } }
 * ```
 */
export interface BackoffOptions {
  /** Delay before the first retry, ms, from 0 (retry at once). @defaultValue 100 */
  readonly initialDelay?: number;
  /** Cap on any one delay, ms, from 0. @defaultValue 10_000 */
  readonly maxDelay?: number;
  /** Growth factor per retry, ≥ 1. @defaultValue 2 */
  readonly multiplier?: number;
  /**
   * `'full'`: uniform in [0, t]; `'equal'`: t/2 plus uniform in [0, t/2]; `'decorrelated'`:
   * uniform in [initialDelay, 3 × previous delay], capped; `'none'`: exactly t.
   * @defaultValue 'full'
   */
  readonly jitter?: Jitter;
}

/**
 * Per-call retry policy (`CallOptions.retry`). Without it a call makes one attempt, plus at most one
 * transparent retry on another address when a connect failure proves nothing reached a server.
 * Every retry goes to another address when the group has one, carries the request header
 * `x-rxhttp-attempt: N` (N = 2, 3, …), must start before the call's `timeout`, and draws on the
 * client's retry budget; a refused retry ends the call with the last outcome (a response or an error).
 *
 * @example
 * ```ts
 * await client.get(users, '/users/42', {
 *   timeout: 2_000,
 *   retry: { maxAttempts: 3, timeoutPerAttempt: 500, backoff: { initialDelay: 50 } },
 * });
 * ```
 */
export interface RetryOptions {
  /** Attempts in all, the first included: an integer from 1 to 100 (1 means no retry). Required. */
  readonly maxAttempts: number;
  /**
   * Says whether an attempt's outcome is worth another attempt. A throw counts as `false`.
   * Whatever it says, POST, PATCH and other non-idempotent methods are retried only when
   * `retryNonIdempotent` is true or the failure proves the request never reached a server.
   *
   * @defaultValue retries connect errors (`CONNECT`), connection resets (`RESET`), timeouts of one
   * attempt (`TIMEOUT` in phase `attempt`, `connect`, `headers` or `body`; never the call's own
   * deadline, phase `call`), and responses with status 502, 503 or 504. Other statuses (500, 429, …)
   * are answers, not retried unless your `retryOn` says so.
   * @example
   * ```ts
   * retryOn: (o) => o.error !== undefined || o.response?.status === 429 || (o.response?.status ?? 0) >= 502
   * ```
   */
  readonly retryOn?: (outcome: AttemptOutcome) => boolean;
  /**
   * Deadline of each attempt, ms, from sending to the last body byte (buffered) or to the headers
   * (`responseType: 'stream'`); a positive number. An attempt that runs out fails with
   * `TimeoutError` phase `attempt`, which the default `retryOn` retries. The call's `timeout` still
   * bounds the whole call. @defaultValue none: only the phase timeouts and the call's deadline
   */
  readonly timeoutPerAttempt?: number;
  /** Delays between attempts. @defaultValue `{ initialDelay: 100, maxDelay: 10_000, multiplier: 2, jitter: 'full' }` */
  readonly backoff?: BackoffOptions;
  /**
   * Retry POST, PATCH and other non-idempotent methods on any outcome `retryOn` accepts, not only
   * when the request provably never reached a server. Only for endpoints that are safe to repeat.
   * @defaultValue false
   */
  readonly retryNonIdempotent?: boolean;
  /**
   * On 429 and 503, wait what the response's `Retry-After` asks (seconds or an HTTP date, at most a
   * day) instead of the back-off delay; a retry that could not start before the call's deadline is
   * not made. @defaultValue true
   */
  readonly respectRetryAfter?: boolean;
}

/**
 * What a call does with a 3xx response: `'manual'` returns it as the response; `'follow'` follows
 * up to 20 hops (dropping `Authorization`, `Cookie` and `Proxy-Authorization` when the origin
 * changes; 303, and 301/302 after POST, become GET); `'error'` fails with `PROTOCOL`.
 */
export type RedirectMode = 'manual' | 'follow' | 'error';
/**
 * `'buffered'`: the body is read in full inside the call (failures there are retried, the
 * connection is always returned). `'stream'`: the response is emitted at its headers and the body
 * is read by the caller, who must read it or call `dump()`.
 */
export type ResponseType = 'buffered' | 'stream';

/**
 * Options of one call: the last argument of `request$`, `get$`, `post$`, `postForm$`, their
 * Promise twins, and (merged into `init`) `client.fetch`.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * const res = await client.get(users, '/users/42', {
 *   timeout: 2_000,
 *   retry: { maxAttempts: 3 },
 *   headers: { 'x-request-id': id },
 *   signal: ac.signal,
 * });
 * ```
 */
export interface CallOptions {
  /** Retry policy for this call. @defaultValue none: one attempt (plus the transparent retry of a connect failure) */
  readonly retry?: RetryOptions;
  /**
   * Deadline of the whole call, ms: every attempt, back-off delay and (buffered) body read included;
   * a positive number, at most 2147483647. Past it the call fails with `TimeoutError` phase `call`.
   * @defaultValue the client's `requestTimeout` (30_000)
   */
  readonly timeout?: number;
  /** Aborting it cancels the call, as unsubscribing does: the call fails with `ABORTED`. */
  readonly signal?: AbortSignal;
  /**
   * Request headers, merged over the client's `headers` and the request's own (later wins; names
   * are case-insensitive). Framing headers (`content-length`, `transfer-encoding`, `connection`, …)
   * are refused. @defaultValue none
   */
  readonly headers?: HeadersInit | Record<string, string>;
  /** Read the body inside the call, or hand it over as a stream. @defaultValue 'buffered' */
  readonly responseType?: ResponseType;
  /**
   * Largest body a call reads, bytes, streamed bodies included; past it the call fails with
   * `RESPONSE_TOO_LARGE` (a larger `content-length` is refused at the headers). An integer ≥ 1.
   * @defaultValue 67_108_864 (64 MiB)
   */
  readonly maxResponseBytes?: number;
  /** What to do with a 3xx response. @defaultValue 'manual' (`'follow'` for `client.fetch`) */
  readonly redirect?: RedirectMode;
  /**
   * With `responseType: 'stream'`: whether the call's deadline (`timeout`) keeps running while the
   * body streams, so a body still unfinished at the deadline fails with `TIMEOUT` (phase `call`).
   * `false` stops it at the headers, for long-lived streams (server-sent events, large downloads);
   * the body-idle timeout (`bodyTimeout`) applies either way. Either way the attempt, and the call,
   * end when the body does: that is when `events$`, metrics, spans and the breaker see the outcome.
   * @defaultValue true
   */
  readonly deadlineCoversBody?: boolean;
  /**
   * Query parameters appended to the path (after any query already in it, and the request's own
   * `query`): an object, whose array values repeat the key, or `URLSearchParams`. Values are
   * percent-encoded. @defaultValue none
   * @example
   * ```ts
   * await client.get(users, '/users', { query: { role: ['admin', 'ops'], limit: 10 } }); // ?role=admin&role=ops&limit=10
   * ```
   */
  readonly query?: QueryParams;
  /**
   * Undo the response's `content-encoding` (gzip, x-gzip, deflate, br, zstd where the runtime has
   * it; several in order) as fetch does, and send fetch's `accept-encoding` unless one is set.
   * `maxResponseBytes` then counts decoded bytes, and decoding stops at it. `false` keeps the bytes
   * as sent and sends no `accept-encoding` of its own. Headers are left as the server sent them.
   * @defaultValue true
   */
  readonly decompress?: boolean;
  /**
   * Hedged requests for this call (see {@link HedgeOptions}); `false` turns the client's default off.
   * @defaultValue the client's `hedge`, else none
   */
  readonly hedge?: HedgeOptions | false;
}

/** Query parameters: an object (arrays repeat the key) or `URLSearchParams`. */
export type QueryParams =
  URLSearchParams | Record<string, string | number | boolean | readonly (string | number | boolean)[]>;

/**
 * Options of the methods that send a body (`put`, `patch`, `delete`, the options form of `post`):
 * the {@link CallOptions} plus the body, given once as `json` or `body`.
 *
 * @example
 * ```ts
 * await client.put(users, '/users/42', { json: { name: 'Ada' }, query: { notify: true } });
 * ```
 */
export interface BodyOptions extends CallOptions {
  /**
   * A value sent as JSON (`JSON.stringify`); sets `content-type: application/json` unless a header
   * gives one. A value JSON cannot hold (a cycle, a BigInt, `undefined`) is `INVALID_ARGUMENT`.
   */
  readonly json?: unknown;
  /** The body, of any {@link RequestBody} kind. Give `json` or `body`, not both. */
  readonly body?: RequestBody;
}

/**
 * Body types accepted by a request. `URLSearchParams` is sent as a form (its content type set
 * unless given); a `FormData` as `multipart/form-data` (undici encodes it, boundary included); a
 * `Blob` with its `type` as the content type unless given. Those and the bytes are re-sent on a
 * retry. A `ReadableStream` or an `AsyncIterable<Uint8Array>` is read once, as it is sent
 * (chunked): it is never sent twice — only the transparent retry of a connect failure, which read
 * nothing of it, may send it — and a retry that would need it is refused (`retry-refused`, reason
 * `body-not-replayable`), the call ending with that attempt's outcome.
 */
export type RequestBody =
  | string
  | Uint8Array
  | URLSearchParams
  | Blob
  | FormData
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | null;

/** A group as the call layer sees it (implemented by `AddressGroup`). */
export interface GroupLike {
  readonly name: string;
  readonly protocol: 'http' | 'https';
  readonly addresses: readonly Address[];
  readonly addresses$: Observable<readonly Address[]>;
  readonly ready: Promise<void>;
  readonly balancer: LoadBalancer;
  readonly closed: boolean;
  /** Hosts whose active health checks fail now (O(1)); absent or 0: no host is kept out for it. */
  readonly unhealthyHosts?: number;
  /** False for a host whose active health checks fail (`AddressGroupOptions.healthCheck`). */
  isHealthy?(address: Address): boolean;
  /** Prefix of every `path` called on the group (never of a `url`): `/seg…`, no trailing slash. */
  readonly basePath?: string | undefined;
  /** Headers every call to the group sends, over the client's and under the call's. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Slow start, panic threshold and the health-check hook for picks (an `AddressGroup` has one). */
  readonly hostPolicy?: HostPolicy;
}

/**
 * A request: `group` + `path`, or an absolute `url` (`http://name/path` goes through the group
 * registered as `name` with `client.register`; any other URL goes to that origin).
 *
 * @example
 * ```ts
 * client.request$({ method: 'PUT', group: users, path: '/users/42', query: { v: 2 }, body: JSON.stringify(u),
 *   headers: { 'content-type': 'application/json' } });
 * client.request$({ url: 'http://users/users/42' });
 * ```
 */
export interface XRequest {
  /** An HTTP token; standard methods are upper-cased. CONNECT is refused. @defaultValue 'GET' */
  readonly method?: string;
  /** The group to call (an `AddressGroup`). Give `group` or `url`, not both. */
  readonly group?: GroupLike;
  /** An absolute http(s) URL, without credentials. */
  readonly url?: string;
  /**
   * Path and optional query, starting with `/`; spaces and non-ASCII characters are percent-encoded
   * (UTF-8), anything else must be already. Refused: control characters, `#`, a leading `//`, a
   * backslash in the path. @defaultValue '/'
   */
  readonly path?: string;
  /** Query parameters appended to the path; arrays repeat the key. */
  readonly query?: QueryParams;
  /** Request headers; the call's `options.headers` are merged over them. */
  readonly headers?: HeadersInit | Record<string, string>;
  /** Request body; GET and HEAD take none. */
  readonly body?: RequestBody;
}

/**
 * A response body: buffered by default (read inside the chain, readable any number of times), or a
 * stream (`responseType: 'stream'`: read once, by one of the methods or by `for await`).
 *
 * @example
 * ```ts
 * const user = await (await client.get(users, '/users/42')).body.json<User>();
 * ```
 */
export interface ResponseBody extends AsyncIterable<Uint8Array> {
  /** The body as UTF-8 text (a leading BOM dropped, bad bytes replaced). */
  text(): Promise<string>;
  /** The body parsed as JSON; rejects with a `SyntaxError` on malformed JSON. */
  json<T = unknown>(): Promise<T>;
  /** The body's bytes. */
  bytes(): Promise<Uint8Array>;
  /** Releases the connection without reading (a no-op when buffered). */
  dump(): Promise<void>;
  /** True once a read method or iteration has started. */
  readonly bodyUsed: boolean;
}

/**
 * What a call emits: the response of its last attempt, whatever the status. A 4xx or 5xx is a
 * response, not an error; transport failures are `XhttpError`s.
 *
 * @example
 * ```ts
 * const res = await client.get(users, '/users/42', { retry: { maxAttempts: 3 } });
 * if (res.status === 200) console.log(await res.body.json(), 'from', res.address.host, 'after', res.attempts, 'attempts');
 * ```
 */
export interface XResponse {
  /** HTTP status code. */
  readonly status: number;
  /** True for a status from 200 to 299, as fetch's `Response.ok`. */
  readonly ok: boolean;
  /** Reason phrase as the server sent it (may be empty). */
  readonly statusText: string;
  /** Response headers: names lower case, a repeated header (such as `set-cookie`) as an array. */
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** The server that answered. */
  readonly address: Address;
  /** Attempts the call made, this one included (1 when the first attempt answered). */
  readonly attempts: number;
  /** The body; already read in full unless `responseType: 'stream'`. */
  readonly body: ResponseBody;
  /**
   * What the call did: every attempt (address, start, end, outcome) and every decision between them
   * (retry and its delay, Retry-After honoured, refusals and why, breaker skips). Folded on first
   * read; a response that followed redirects carries its last hop's.
   */
  readonly timeline: CallTimeline;
}

/** Health of one host, as on `group.health$` and the dashboard. */
export interface HostHealth {
  /** The host. */
  readonly address: Address;
  /** `host:port`, IPv6 in brackets. */
  readonly key: AddressKey;
  /** Worst state of the host's breakers; `'off'` when the client has `circuitBreaker: false`. */
  readonly breaker: 'closed' | 'open' | 'half-open' | 'off';
  /** Client clock time (ms) the breaker entered its state; 0 without a breaker. */
  readonly breakerSince: number;
  /** Failures / results in the breaker's window (or the rolling counts without a breaker), 0 to 1. */
  readonly failureRate: number;
  /** Results behind `failureRate`. */
  readonly total: number;
  /** Requests sent to the host and not yet finished. */
  readonly inFlight: number;
  /** Recent latency of the host, ms. */
  readonly latencyMs: number;
  /** Recent successful attempts. */
  readonly ok: number;
  /** Recent failed attempts: errors (timeouts included) and 5xx responses. */
  readonly errors: number;
  /** Recent attempts that timed out. */
  readonly timeouts: number;
}

/** Options a group passes to its resolver. Built-in DNS resolvers read them; others may ignore them. */
export interface ResolveOptions {
  /** DNS servers, `host:port` or `host`; system servers when empty. */
  readonly dnsServers?: readonly string[];
  /** Lower clamp on the TTL-driven refresh period, ms. */
  readonly minTtl: number;
  /** Upper clamp on the TTL-driven refresh period, ms. */
  readonly maxTtl: number;
  /** The client's scheduler (virtual in specs). */
  readonly scheduler: import('rxjs').SchedulerLike;
  /** Uniform random in [0, 1) for jitter. */
  readonly random: () => number;
}

/**
 * Breaker state of one key, as on `client.breakers$`.
 *
 * `failureRate` and `total` say what the window holds now: the closed buckets and the bucket still
 * filling, so a host failing 54 % shows about 0.54 from its first results. The breaker itself
 * decides on closed buckets only (Armeria: a failure that closes a bucket may open it), and
 * `decision` gives the figures it last decided on; they trail the live ones by up to one
 * `counterUpdateInterval`. Open and half-open breakers count nothing: both show the window that
 * opened them.
 *
 * @example
 * ```ts
 * client.breakers$.subscribe((m) => console.log(m.get('10.0.0.1:80')));
 * // { state: 'closed', failureRate: 0.54, total: 24, since: 0, decision: { failureRate: 0, total: 0 } }
 * ```
 */
export interface BreakerSnapshot {
  /** `closed`: traffic flows; `open`: rejected (`FAIL_FAST`); `half-open`: one trial at a time. */
  readonly state: 'closed' | 'open' | 'half-open';
  /** failures / total over the window now (closed buckets and the filling one); 0 when total is 0. */
  readonly failureRate: number;
  /** Results counted in the window now, the filling bucket included. */
  readonly total: number;
  /** Clock time (ms) of the last transition. */
  readonly since: number;
  /**
   * The figures the open decision reads: closed buckets as of the last roll-over (Armeria's
   * snapshot). Always set by rxhttp's breakers; optional so that snapshots built elsewhere (a
   * metrics source in a spec, say) need not invent it.
   */
  readonly decision?: {
    /** failures / total over the closed buckets; 0 when total is 0. */
    readonly failureRate: number;
    /** Results in the closed buckets. */
    readonly total: number;
  };
  /**
   * Set while a manual override holds (`client.breakers.forceOpen(key)`, `forceClose(key)`, or a
   * standalone breaker's): `state` is then the forced one, and the counts are the window's as it was.
   * Absent while the breaker decides for itself.
   */
  readonly forced?: 'open' | 'closed';
}
