import { BehaviorSubject, Observable, of, Subscription, type SchedulerLike } from 'rxjs';
import { Pool, type Dispatcher } from 'undici';
import { CircuitBreakers } from '../breaker/breakers.js';
import { resolveBreakerConfig } from '../breaker/config.js';
import { breakerControl, type BreakerControl } from '../breaker/control.js';
import { LoadStats } from '../balancer/load-stats.js';
import { invalidArgument } from '../errors.js';
import { EventBus } from '../events/bus.js';
import { addressKey, type CallEvent } from '../events/events.js';
import { AddressGroup } from '../group/address-group.js';
import { clockFromScheduler, systemClock, type Clock } from '../internal/clock.js';
import { attachMetrics } from '../observability/metrics.js';
import { Tracing } from '../observability/tracing.js';
import { attemptHeaders, openTelemetry } from '../observability/otel.js';
import { RetryBudget, resolveRetryBudget } from '../resilience/retry-budget.js';
import type {
  Address,
  BodyOptions,
  BreakerSnapshot,
  CallOptions,
  GroupLike,
  RequestBody,
  XRequest,
  XResponse,
} from '../types.js';
import { callPromise, SharedPickContext, startCall, type Call, type CallSink } from './call.js';
import {
  resolveConfig,
  DEFAULT_MAX_RESPONSE_BYTES,
  type ClientConfig,
  type ResolvedConfig,
} from './config.js';
import {
  fetchArgumentError,
  fetchCall,
  fetchError,
  fetchSignal,
  toFetchResponse,
  type FetchCall,
  type FetchInit,
} from './fetch.js';
import { LiveCalls } from './live-calls.js';
import { redirect$, redirectPromise } from './redirect.js';
import { buildCallSpec, checkPath, type CallDefaults, type CallSpec } from './request.js';
import type { Runtime } from './runtime.js';
import { healthViewFor, type ClientHealth, clientHealth$, type HostRowSources } from './health.js';
import { closeOwnedGroups } from './owned-groups.js';
import { HealthStats } from './health-stats.js';
import { Bulkhead } from './bulkhead.js';
import { probe$ } from './health-probe.js';
import { clientEventSink, composedCall$, type ComposedCall } from './composed-call.js';
import type { EventSink } from '../operators/call-scope.js';

const NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?$/;
/**
 * An absolute URL that the WHATWG parser would return unchanged: http(s), a bare host, a path and
 * query of unreserved and sub-delim characters only (no dots, percent escapes or backslashes, which
 * it would normalize), a non-empty query. Groups: host, path, query.
 */
const NAMED_URL =
  /^https?:\/\/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)(\/[A-Za-z0-9_~!$&'()*+,;=:@/-]*)?(\?[A-Za-z0-9_~!$&()*+,;=:@/?.%-]+)?$/;
/** A last host label the URL parser would read as an IPv4 number (`http://1/` is 0.0.0.1). */
const NUMERIC_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/i;
/**
 * Most origins (`client.fetch` or `request({ url })` to a URL that is not a registered group) a
 * client keeps a group, a pool, breaker and load state for. Past it, the least recently used origins
 * with no call in flight are released (pools closed gracefully), down to seven eighths of it;
 * calling one again starts afresh.
 * An LRU bound rather than an idle timer: no timer to keep or clear, and a client used against a
 * handful of origins never releases one.
 * @defaultValue 256
 */
export const MAX_ORIGINS = 256;
/** Past {@link MAX_ORIGINS}, idle origins are released down to this many in one pass (one prune, not one per origin). */
const ORIGINS_AFTER_RELEASE = MAX_ORIGINS - MAX_ORIGINS / 8;

/**
 * A resilient HTTP client: calls go to address groups, through load balancing, per-phase
 * timeouts, retries with back-off and budgets, and circuit breakers; every attempt is an event
 * on {@link Client.events$}.
 *
 * @example
 * ```ts
 * const client = new Client({ requestTimeout: 5_000 });
 * const users = new AddressGroup('static://127.0.0.1:8081,127.0.0.1:8082');
 * client.get$(users, '/users/42', { retry: { maxAttempts: 3 } }).subscribe((res) => console.log(res.status));
 * await client.close();
 * ```
 */
export class Client {
  /**
   * Every call start and end, attempt start and end, retry scheduled or refused, fail-fast, breaker
   * transition and resolver update, as they happen (hot: no replay). Never holds header values or
   * query strings. Completes on `close()`.
   *
   * @example
   * ```ts
   * client.events$.pipe(filter((e) => e.type === 'breaker-transition')).subscribe((e) => log(e.breakerKey, e.to));
   * ```
   */
  readonly events$: Observable<CallEvent>;
  /**
   * Breaker state per key (`host:port` by default); replays the current map and emits on each
   * change. An empty map, once, when breakers are turned off.
   */
  readonly breakers$: Observable<ReadonlyMap<string, BreakerSnapshot>>;
  /**
   * Manual control of the breakers, per key as `breakers$` names them: `forceOpen(key)`,
   * `forceClose(key)`, `reset(key)`, `snapshot(key)` (see {@link BreakerControl}).
   *
   * @example
   * ```ts
   * client.breakers.forceOpen('10.0.0.7:8080'); // drain a host; reset(key) brings it back
   * ```
   */
  readonly breakers: BreakerControl;
  /**
   * One current-value view of the whole client: every group and host, call rate, error %, latency
   * percentiles, retries and fail-fasts per second, kept for the client's life so that the first read
   * is true. Replays the present to a new subscriber, then
   * updates at most every 250 ms on traffic and every second while observed.
   */
  readonly health$: Observable<ClientHealth>;

  readonly #config: ResolvedConfig;
  readonly #clock: Clock;
  readonly #bus = new EventBus();
  readonly #runtime: Runtime;
  readonly #breakers: CircuitBreakers | undefined;
  readonly #loadStats: LoadStats;
  /** Kept for the client's life, so the first health view anyone reads is true. */
  readonly #healthStats: HealthStats;
  readonly #subscriptions = new Subscription();
  readonly #dispatchers = new Map<string, Pool>();
  readonly #byAddress = new WeakMap<Address, Pool>();
  readonly #groups = new Map<GroupLike, Subscription>();
  readonly #names = new Map<string, GroupLike>();
  /** Groups made for origins, least recently used first. */
  readonly #origins = new Map<string, AddressGroup>();
  /** Calls in flight per origin (absent: none), so releasing an origin never breaks one. */
  readonly #originCalls = new Map<string, number>();
  /** Counting starts with the first origin: a client of registered groups only pays nothing. */
  #countingOriginCalls = false;
  readonly #groupsChanged = new BehaviorSubject<readonly GroupLike[]>([]);
  /** Per group with `maxConcurrentCalls`: this client's calls through it. */
  readonly #bulkheads = new Map<GroupLike, Bulkhead>();
  readonly #scheduler: SchedulerLike | undefined;
  #callIds = 0;
  #eventSink: EventSink | undefined;
  #callDefaults: CallDefaults;
  #closed = false;

  constructor(config: ClientConfig = {}) {
    this.#config = resolveConfig(config);
    this.#scheduler = config.scheduler;
    this.#clock = config.scheduler ? clockFromScheduler(config.scheduler) : systemClock;
    const random = config.random ?? Math.random;
    const emit = (e: CallEvent) => this.#bus.emit(e);
    this.#breakers =
      config.circuitBreaker === false
        ? undefined
        : new CircuitBreakers(resolveBreakerConfig(config.circuitBreaker), this.#clock, emit);
    this.#breakers?.attach(this.#bus.events$);
    this.#loadStats = new LoadStats(this.#clock);
    this.#subscriptions.add(this.#loadStats.attach(this.#bus.events$));
    this.#healthStats = new HealthStats(this.#clock.now());
    this.#subscriptions.add(this.#healthStats.attach(this.#bus.events$));
    const budgetConfig = resolveRetryBudget(config.retryBudget);
    const budget = budgetConfig ? new RetryBudget(budgetConfig, this.#clock) : undefined;
    if (budget) this.#subscriptions.add(budget.attach(this.#bus.events$));
    if (config.metrics) {
      const breakers = this.#breakers;
      this.#subscriptions.add(
        attachMetrics(this.#bus.events$, config.metrics.registry, {
          breakerSnapshots: () => breakers?.snapshots() ?? new Map(),
          groupAddressCounts: () =>
            new Map([...this.#groups.keys()].map((g) => [g.name, g.addresses.length])),
        }),
      );
    }
    let tracing: Tracing | undefined;
    if (config.tracer) {
      tracing = new Tracing(config.tracer as never, {
        ...(config.remoteServiceName ? { remoteServiceName: config.remoteServiceName } : {}),
        ...(config.b3Single ? { b3Single: true } : {}),
        // Spans stamped from the times our events carry (no clock reads of their own): only on the
        // system clock, never with a virtual scheduler.
        ...(this.#clock === systemClock ? { eventsOnSystemClock: true } : {}),
      });
      this.#subscriptions.add(tracing.attach(this.#bus.events$));
    }
    const otel =
      config.openTelemetry === undefined
        ? undefined
        : openTelemetry(config.openTelemetry, this.#clock === systemClock);
    if (otel) this.#subscriptions.add(otel.attach(this.#bus.events$));
    const suppressing = otel?.dispatcher;
    this.#callDefaults = {
      requestTimeout: this.#config.requestTimeout,
      maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
      headers: this.#config.headers,
      redirect: 'manual',
      hedge: this.#config.hedge,
    };
    this.#runtime = {
      clock: this.#clock,
      bus: this.#bus,
      random,
      breakers: this.#breakers,
      loadStats: this.#loadStats,
      pickContext: new SharedPickContext(random, this.#loadStats),
      budget,
      timeouts: {
        connect: this.#config.connectTimeout,
        headers: this.#config.headersTimeout,
        body: this.#config.bodyTimeout,
        attempt: 0,
      },
      dispatcher: suppressing
        ? (group, address) => suppressing(this.#dispatcher(group, address))
        : (group, address) => this.#dispatcher(group, address),
      attemptHeaders: attemptHeaders(tracing, otel?.tracing),
      deadlineHeader: this.#config.deadlineHeader,
      nextCallId: () => ++this.#callIds,
      calls: new LiveCalls(),
      bulkheads: this.#bulkheads,
      hedging: undefined,
    };
    this.events$ = this.#bus.events$;
    this.breakers$ = this.#breakers ? this.#breakers.snapshots$ : of(new Map<string, BreakerSnapshot>());
    this.breakers = breakerControl(this.#breakers, () => this.#groups.keys(), () => this.#clock.now());
    this.health$ = clientHealth$({
      ...this.#hostRowSources(),
      events$: this.#bus.events$,
      groups$: this.#groupsChanged,
      bulkheads: this.#bulkheads,
    });
  }

  /**
   * Names a group, so `client.fetch('http://name/path')`, `request$({ url: 'http://name/path' })`
   * and `get(name, path)` go through it: existing fetch code changes one identifier. Names are
   * host-like (`[A-Za-z0-9_.-]`, case-insensitive); registering a name again replaces it.
   *
   * @example
   * ```ts
   * client.register('users', new AddressGroup('dns+srv://_http._tcp.users.svc.cluster.local'));
   * const res = await client.fetch('http://users/users/42');
   * ```
   */
  register(name: string, group: GroupLike): this {
    if (typeof name !== 'string' || !NAME.test(name))
      throw invalidArgument('name', 'must be a host-like name');
    if (!isGroup(group)) throw invalidArgument('group', 'must be an AddressGroup');
    this.#names.set(name.toLowerCase(), group);
    this.#use(group);
    return this;
  }

  /** The group registered under `name`. */
  group(name: string): GroupLike | undefined {
    return this.#names.get(name.toLowerCase());
  }

  /** Every group this client has called or registered. */
  get groups(): readonly GroupLike[] {
    return this.#groupsChanged.value;
  }

  /**
   * Sends `req`; emits one response (any status) and completes, or errors with an `XhttpError`.
   * Cold: nothing is sent until subscribed, and each subscription is a new call; unsubscribing
   * cancels it. Invalid arguments are an `INVALID_ARGUMENT` error notification.
   *
   * @example
   * ```ts
   * client.request$({ method: 'DELETE', group: users, path: '/users/42' }, { retry: { maxAttempts: 2 } })
   *   .subscribe({ next: (res) => console.log(res.status), error: (e: XhttpError) => console.error(e.code) });
   * ```
   */
  request$(req: XRequest, options?: CallOptions): Observable<XResponse> {
    return new Observable<XResponse>((subscriber) => {
      const spec = this.#spec(req, options);
      // The call itself is the teardown: no inner Observable and Subscriber per call.
      if (spec.redirect === 'manual') return startCall(this.#runtime, spec, subscriber);
      return this.#redirecting(spec).subscribe(subscriber);
    });
  }

  /**
   * This client's event sink, for calls composed by hand from `rxhttp/operators` (`traced`,
   * `pick`, `retryBackoff`, `deadline` given `events`): their events go onto {@link Client.events$}
   * with this client's call ids, clock, random source, retry budget and load statistics.
   */
  get eventSink(): EventSink {
    return (this.#eventSink ??= clientEventSink(this.#runtime, this.#scheduler));
  }

  /**
   * `request$` written out as operators: validates `req` and `options` as `request$` does, then per
   * subscription makes a {@link ComposedCall} (call id, `call-start` … `call-end`) and subscribes
   * what `build` composes from its stages. `client.request$(req, options)` is, event for event:
   *
   * ```ts
   * client.compose$(req, options, (call) =>
   *   pick(call.group, call.attempt$, { breakers: call.breakers, events: call })
   *     .pipe(retryBackoff(call.retry), deadline(call.timeout, { events: call })));
   * ```
   *
   * Insert your own stages between them (a cache, a hedge, a log, a fallback). Buffered responses
   * only; no redirects followed, no bulkhead queue.
   */
  compose$(
    req: XRequest,
    options: CallOptions | undefined,
    build: (call: ComposedCall) => Observable<XResponse>,
  ): Observable<XResponse> {
    return composedCall$(this.#runtime, () => this.#spec(req, options), this.eventSink, build);
  }

  /** Validates a request into a call spec (throws `INVALID_ARGUMENT`) and follows its group. */
  #spec(req: XRequest, options: CallOptions | undefined): CallSpec {
    if (this.#closed) throw invalidArgument('client', 'is closed');
    const { group, target } = this.#route(req);
    const spec = buildCallSpec(req, group, target, options, this.#callDefaults);
    this.#use(group);
    return spec;
  }

  #redirecting(spec: CallSpec): Observable<XResponse> {
    return redirect$(spec, this.#startHop, this.#routeUrl);
  }

  /** GET `path` (with its query, percent-encoded) from `group`, an AddressGroup or a registered name. See {@link Client.request$}. */
  get$(group: GroupLike | string, path: string, options?: CallOptions): Observable<XResponse> {
    return this.request$({ method: 'GET', group: this.#groupArg(group), path }, options);
  }

  /**
   * POST `body` with `contentType`. Not retried unless the failure proves it never reached a server,
   * or `retry.retryNonIdempotent` is true.
   *
   * Or, as `put$`, with the body in the options: `post$(group, path, { json })`.
   *
   * @example
   * ```ts
   * client.post$(orders, '/orders', 'application/json', JSON.stringify(order));
   * client.post$(orders, '/orders', { json: order });
   * ```
   */
  post$(
    group: GroupLike | string,
    path: string,
    contentType: string,
    body: RequestBody,
    options?: CallOptions,
  ): Observable<XResponse>;
  post$(group: GroupLike | string, path: string, options?: BodyOptions): Observable<XResponse>;
  post$(
    group: GroupLike | string,
    path: string,
    contentTypeOrOptions?: string | BodyOptions,
    body?: RequestBody,
    options?: CallOptions,
  ): Observable<XResponse> {
    if (typeof contentTypeOrOptions !== 'string' && body === undefined && options === undefined)
      return this.#send$('POST', group, path, contentTypeOrOptions);
    return this.request$(this.#postRequest(group, path, contentTypeOrOptions, body), options);
  }

  /** POST `data` as an `application/x-www-form-urlencoded` body (values must be strings). */
  postForm$(
    group: GroupLike | string,
    path: string,
    data: URLSearchParams | Record<string, string>,
    options?: CallOptions,
  ): Observable<XResponse> {
    return this.request$(this.#formRequest(group, path, data), options);
  }

  /** The call of the request `build` makes; a throw (bad arguments) becomes a rejection. */
  #requestOf(build: () => XRequest, options: CallOptions | undefined): Promise<XResponse> {
    let req: XRequest;
    try {
      req = build();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.request(req, options);
  }

  #postRequest(
    group: GroupLike | string,
    path: string,
    contentType: unknown,
    body: RequestBody | undefined,
  ): XRequest {
    if (typeof contentType !== 'string') throw invalidArgument('contentType', 'must be a string');
    return {
      method: 'POST',
      group: this.#groupArg(group),
      path,
      headers: { 'content-type': contentType },
      body: body ?? null,
    };
  }

  #formRequest(
    group: GroupLike | string,
    path: string,
    data: URLSearchParams | Record<string, string>,
  ): XRequest {
    let params: URLSearchParams;
    if (data instanceof URLSearchParams) params = data;
    else if (typeof data === 'object' && data !== null) {
      params = new URLSearchParams();
      for (const k of Object.keys(data)) {
        const v = data[k];
        if (typeof v !== 'string') throw invalidArgument(`data.${k}`, 'must be a string');
        params.append(k, v);
      }
    } else throw invalidArgument('data', 'must be URLSearchParams or a record of strings');
    return {
      method: 'POST',
      group: this.#groupArg(group),
      path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
    };
  }

  /** Promise twin of {@link Client.request$}: the same call, without an Observable around it. */
  request(req: XRequest, options?: CallOptions): Promise<XResponse> {
    let spec: CallSpec;
    try {
      spec = this.#spec(req, options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (spec.redirect === 'manual') return callPromise(this.#runtime, spec);
    return redirectPromise(spec, this.#startHop, this.#routeUrl, sameResponse);
  }

  /** Promise twin of {@link Client.get$}. */
  get(group: GroupLike | string, path: string, options?: CallOptions): Promise<XResponse> {
    return this.#requestOf(() => ({ method: 'GET', group: this.#groupArg(group), path }), options);
  }

  /** Promise twin of {@link Client.post$}: bad arguments reject, as for every Promise method. */
  post(
    group: GroupLike | string,
    path: string,
    contentType: string,
    body: RequestBody,
    options?: CallOptions,
  ): Promise<XResponse>;
  post(group: GroupLike | string, path: string, options?: BodyOptions): Promise<XResponse>;
  post(
    group: GroupLike | string,
    path: string,
    contentTypeOrOptions?: string | BodyOptions,
    body?: RequestBody,
    options?: CallOptions,
  ): Promise<XResponse> {
    if (typeof contentTypeOrOptions !== 'string' && body === undefined && options === undefined)
      return this.#send('POST', group, path, contentTypeOrOptions);
    return this.#requestOf(() => this.#postRequest(group, path, contentTypeOrOptions, body), options);
  }

  // ---- Conveniences: PUT, PATCH, DELETE, HEAD, shaped (group, path, options?). ----

  /** PUT to `path`, the body in `options.json` or `options.body`. See {@link Client.request$}. */
  put$(group: GroupLike | string, path: string, options?: BodyOptions): Observable<XResponse> {
    return this.#send$('PUT', group, path, options);
  }

  /**
   * Promise twin of {@link Client.put$}.
   *
   * @example
   * ```ts
   * const res = await client.put(users, '/users/42', { json: { name: 'Ada' } });
   * if (!res.ok) throw new Error(`PUT failed: ${res.status}`);
   * ```
   */
  put(group: GroupLike | string, path: string, options?: BodyOptions): Promise<XResponse> {
    return this.#send('PUT', group, path, options);
  }

  /** PATCH `path`, the body in `options.json` or `options.body`; not retried unless `retryNonIdempotent` (as POST). */
  patch$(group: GroupLike | string, path: string, options?: BodyOptions): Observable<XResponse> {
    return this.#send$('PATCH', group, path, options);
  }

  /** Promise twin of {@link Client.patch$}. */
  patch(group: GroupLike | string, path: string, options?: BodyOptions): Promise<XResponse> {
    return this.#send('PATCH', group, path, options);
  }

  /** DELETE `path` (a body, rarely wanted, in `options.json` or `options.body`). */
  delete$(group: GroupLike | string, path: string, options?: BodyOptions): Observable<XResponse> {
    return this.#send$('DELETE', group, path, options);
  }

  /** Promise twin of {@link Client.delete$}. */
  delete(group: GroupLike | string, path: string, options?: BodyOptions): Promise<XResponse> {
    return this.#send('DELETE', group, path, options);
  }

  /** HEAD `path`: status and headers, an empty body. */
  head$(group: GroupLike | string, path: string, options?: CallOptions): Observable<XResponse> {
    return this.#send$('HEAD', group, path, options);
  }

  /** Promise twin of {@link Client.head$}. */
  head(group: GroupLike | string, path: string, options?: CallOptions): Promise<XResponse> {
    return this.#send('HEAD', group, path, options);
  }

  #send$(
    method: string,
    group: GroupLike | string,
    path: string,
    options: BodyOptions | undefined,
  ): Observable<XResponse> {
    // Cold and lazy as request$: a bad group name is an error notification, not a throw.
    return new Observable<XResponse>((subscriber) =>
      this.request$({ method, group: this.#groupArg(group), path }, options).subscribe(subscriber),
    );
  }

  #send(
    method: string,
    group: GroupLike | string,
    path: string,
    options: BodyOptions | undefined,
  ): Promise<XResponse> {
    // The body options (json, body) are read by buildCallSpec, beside the other call options.
    return this.#requestOf(() => ({ method, group: this.#groupArg(group), path }), options);
  }

  /** Promise twin of {@link Client.postForm$}. */
  postForm(
    group: GroupLike | string,
    path: string,
    data: URLSearchParams | Record<string, string>,
    options?: CallOptions,
  ): Promise<XResponse> {
    return this.#requestOf(() => this.#formRequest(group, path, data), options);
  }

  /**
   * WHATWG fetch through rxhttp's chain: `http://name/path` goes through the group registered as
   * `name`; other URLs go to that origin. Follows redirects by default, as fetch does. `init` takes
   * everything fetch's `RequestInit` does (every `BodyInit`; browser-only options are ignored) and
   * the {@link CallOptions} (`retry`, `timeout`, `responseType`, …). A 4xx or 5xx resolves; as
   * fetch's, an abort rejects with the signal's `reason`, any other failure with
   * `TypeError('fetch failed')` whose `cause` is the `XhttpError`. See docs/api.md for the
   * intended differences from global fetch.
   *
   * @example
   * ```ts
   * const res = await client.fetch('http://users/users/42', { retry: { maxAttempts: 3 } });
   * const user = await res.json();
   * ```
   */
  fetch(input: RequestInfo | URL, init?: FetchInit): Promise<Response> {
    let call: FetchCall | Promise<FetchCall>;
    try {
      call = fetchCall(input, init);
    } catch (error) {
      return Promise.reject(fetchArgumentError(error) as Error);
    }
    const res =
      call instanceof Promise
        ? call.then(
            (c) => this.#fetch(c),
            (error: unknown) => Promise.reject(fetchArgumentError(error) as Error),
          )
        : this.#fetch(call);
    return res.then(undefined, (error: unknown) => {
      throw fetchError(error, fetchSignal(input, init));
    });
  }

  #fetch(call: FetchCall): Promise<Response> {
    let spec: CallSpec;
    try {
      spec = this.#spec(call.req, call.options);
    } catch (error) {
      return Promise.reject(fetchArgumentError(error) as Error);
    }
    return redirectPromise(spec, this.#startHop, this.#routeUrl, toFetchResponse, call.req.url);
  }

  /** Starts one hop of a Promise call: handed to the redirect sinks, built once per client. */
  readonly #startHop = (spec: CallSpec, sink: CallSink): Call => startCall(this.#runtime, spec, sink);

  readonly #routeUrl = (url: string): { group: GroupLike; target: string } => this.#route({ url });

  /**
   * Releases every connection, timer and subscription and completes `events$`, `breakers$` and
   * `health$`; in-flight calls (a streamed body still open included) end as cancelled, their callers
   * seeing `ABORTED`, and later calls fail with `INVALID_ARGUMENT`. Closes
   * the groups the client built itself (from URLs); an `AddressGroup` you built stays yours to
   * close. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // First, while every scan still listens: each call in flight, in back-off or waiting for
    // addresses ends now as cancelled (ABORTED to its caller), and none may send anything later.
    this.#runtime.calls.close();
    for (const sub of this.#groups.values()) sub.unsubscribe();
    this.#groups.clear();
    for (const g of this.#origins.values()) g.close();
    this.#origins.clear();
    closeOwnedGroups(this);
    this.#subscriptions.unsubscribe();
    this.#breakers?.close();
    this.#groupsChanged.complete();
    this.#bus.complete();
    const pools = [...this.#dispatchers.values()];
    this.#dispatchers.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }

  #groupArg(group: GroupLike | string): GroupLike {
    if (typeof group === 'string') {
      const g = this.#names.get(group.toLowerCase());
      if (!g) throw invalidArgument('group', 'no group registered under that name');
      return g;
    }
    if (!isGroup(group)) throw invalidArgument('group', 'must be an AddressGroup or a registered name');
    return group;
  }

  /** Finds the group and the path for a request: `group` + `path`, or an absolute `url`. */
  #route(req: XRequest): { group: GroupLike; target: string } {
    if (typeof req !== 'object' || req === null) throw invalidArgument('request', 'must be an object');
    if (req.group !== undefined) {
      if (req.url !== undefined) throw invalidArgument('url', 'give group + path, or url, not both');
      return { group: this.#groupArg(req.group), target: req.path ?? '/' };
    }
    if (typeof req.url !== 'string')
      throw invalidArgument('url', 'a request needs group + path, or an absolute url');
    if (req.path === undefined) {
      // `http://name/path` to a registered name, in the plain form WHATWG URL would leave as is: no
      // URL object (~0.8 µs a call). Anything else (ports, userinfo, dots, escapes) takes the full parse.
      const m = NAMED_URL.exec(req.url);
      const named =
        m === null || NUMERIC_LABEL.test(m[1]!) ? undefined : this.#names.get(m[1]!.toLowerCase());
      if (named !== undefined) return { group: named, target: (m![2] ?? '/') + (m![3] ?? '') };
    }
    let url: URL;
    try {
      url = new URL(req.url);
    } catch (cause) {
      throw invalidArgument('url', 'not an absolute URL', cause);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw invalidArgument('url', 'must be http: or https:');
    if (url.username || url.password)
      throw invalidArgument('url', 'credentials in URLs are not supported; use headers');
    if (req.path !== undefined) throw invalidArgument('path', 'give group + path, or url, not both');
    const target = checkPath(url.pathname + url.search, 'url');
    const named = url.port === '' ? this.#names.get(url.hostname.toLowerCase()) : undefined;
    if (named) return { group: named, target };
    return { group: this.#origin(`${url.protocol}//${url.host}`), target };
  }

  /** The group of an origin, made on first use and moved to the recent end of the LRU order. */
  #origin(origin: string): AddressGroup {
    let group = this.#origins.get(origin);
    if (group !== undefined) {
      this.#origins.delete(origin);
      this.#origins.set(origin, group);
      return group;
    }
    group = new AddressGroup(origin, {
      loadBalancer: 'round-robin',
      ...(this.#scheduler ? { scheduler: this.#scheduler } : {}),
    });
    if (!this.#countingOriginCalls) {
      this.#countingOriginCalls = true;
      this.#subscriptions.add(this.#bus.events$.subscribe((e) => this.#countOriginCalls(e)));
    }
    this.#origins.set(origin, group);
    if (this.#origins.size > MAX_ORIGINS) this.#releaseIdleOrigins(group);
    return group;
  }

  /**
   * Releases the least recently used origins with no call in flight, down to
   * {@link ORIGINS_AFTER_RELEASE} (fewer when too many are busy); never `keep`, the one being used.
   */
  #releaseIdleOrigins(keep: AddressGroup): void {
    const gone: string[] = [];
    let groupsChanged = false;
    // Deleting the entry being visited is safe while iterating a Map.
    for (const [origin, group] of this.#origins) {
      if (this.#origins.size <= ORIGINS_AFTER_RELEASE) break;
      if (group === keep || this.#originCalls.has(origin)) continue;
      this.#origins.delete(origin);
      const sub = this.#groups.get(group);
      if (sub !== undefined) {
        sub.unsubscribe();
        this.#groups.delete(group);
        groupsChanged = true;
      }
      for (const a of group.addresses) gone.push(`${group.protocol}://${addressKey(a)}`);
      group.close();
    }
    if (groupsChanged) this.#groupsChanged.next([...this.#groups.keys()]);
    // Their pools close gracefully unless another group lists the host; their breaker and load state go.
    if (gone.length > 0) this.#prune(gone);
  }

  /** Keeps {@link Client.#originCalls}: origin groups are named by their origin. */
  #countOriginCalls(e: CallEvent): void {
    if (e.type !== 'call-start' && e.type !== 'call-end') return;
    if (!this.#origins.has(e.group)) return;
    const n = (this.#originCalls.get(e.group) ?? 0) + (e.type === 'call-start' ? 1 : -1);
    if (n > 0) this.#originCalls.set(e.group, n);
    else this.#originCalls.delete(e.group);
  }

  #hostRowSources(): HostRowSources {
    return {
      clock: this.#clock,
      breakers: this.#breakers,
      loadStats: this.#loadStats,
      stats: this.#healthStats,
    };
  }

  /** Starts following a group: its resolver events, its host list (to drop stale pools), its health view. */
  #use(group: GroupLike): void {
    if (this.#groups.has(group) || this.#closed) return;
    const sub = new Subscription();
    const g = group as GroupLike &
      Partial<
        Pick<
          AddressGroup,
          'resolverEvents$' | 'setHealthView' | 'healthCheckEvents$' | 'attachProber' | 'bulkheadLimits'
        >
      >;
    if (g.resolverEvents$) sub.add(g.resolverEvents$.subscribe((e) => this.#bus.emit(e)));
    if (g.healthCheckEvents$ && g.attachProber) {
      sub.add(g.healthCheckEvents$.subscribe((e) => this.#bus.emit(e)));
      // This client sends the group's probes through its own pools (while it is the first attached).
      sub.add(
        g.attachProber((address, path) => probe$(() => this.#dispatcher(group, address), address, path)),
      );
    }
    const limits = g.bulkheadLimits;
    if (limits) this.#bulkheads.set(group, new Bulkhead(limits.maxConcurrentCalls, limits.maxQueued));
    g.setHealthView?.(healthViewFor(this.#hostRowSources(), this.#bus.events$));
    let previous: readonly Address[] = [];
    sub.add(
      group.addresses$.subscribe((list) => {
        const gone = previous.filter((a) => !list.some((b) => addressKey(b) === addressKey(a)));
        previous = list;
        if (gone.length > 0) this.#prune(gone.map((a) => `${group.protocol}://${addressKey(a)}`));
      }),
    );
    this.#groups.set(group, sub);
    this.#groupsChanged.next([...this.#groups.keys()]);
  }

  /** Closes pools (gracefully: in-flight requests finish) for hosts no group lists any more. */
  #prune(gone: readonly string[]): void {
    const live = new Set<string>();
    for (const g of this.#groups.keys())
      for (const a of g.addresses) live.add(`${g.protocol}://${addressKey(a)}`);
    for (const origin of gone) {
      if (live.has(origin)) continue;
      const pool = this.#dispatchers.get(origin);
      if (pool) {
        this.#dispatchers.delete(origin);
        void pool.close().catch(() => undefined);
      }
    }
    const keys = new Set<string>();
    for (const g of this.#groups.keys()) for (const a of g.addresses) keys.add(addressKey(a));
    this.#loadStats.retain(keys);
    this.#breakers?.retain(keys);
  }

  #dispatcher(group: GroupLike, address: Address): Dispatcher {
    // Address objects are frozen per resolved list, so they key the pool without building a string.
    const cached = this.#byAddress.get(address);
    if (cached && !cached.closed && !cached.destroyed) return cached;
    const pool = this.#pool(group, address);
    this.#byAddress.set(address, pool);
    return pool;
  }

  #pool(group: GroupLike, address: Address): Pool {
    const origin = `${group.protocol}://${addressKey(address)}`;
    let pool = this.#dispatchers.get(origin);
    if (!pool) {
      const tls = this.#config.tls;
      pool = new Pool(origin, {
        connections: this.#config.connections,
        keepAliveTimeout: this.#config.keepAliveTimeout,
        // Our own timers enforce headers and body deadlines precisely; undici's are coarse.
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: {
          timeout: this.#config.connectTimeout,
          rejectUnauthorized: true,
          ...(tls?.ca !== undefined ? { ca: tls.ca as string[] } : {}),
          ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
          ...(tls?.key !== undefined ? { key: tls.key } : {}),
          ...(tls?.servername !== undefined ? { servername: tls.servername } : {}),
          ...(tls?.checkServerIdentity !== undefined
            ? { checkServerIdentity: tls.checkServerIdentity as never }
            : {}),
        },
      });
      this.#dispatchers.set(origin, pool);
    }
    return pool;
  }
}

function isGroup(g: unknown): g is GroupLike {
  return typeof g === 'object' && g !== null && 'addresses$' in g && 'balancer' in g && 'name' in g;
}

function sameResponse(res: XResponse): XResponse {
  return res;
}
