import { isIP } from 'node:net';
import {
  BehaviorSubject,
  filter,
  map,
  Subject,
  switchMap,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { invalidArgument, XhttpError } from '../errors.js';
import {
  addressKey,
  type HealthCheckEvent,
  type ResolverErrorEvent,
  type ResolverUpdateEvent,
} from '../events/events.js';
import { createBalancer } from '../balancer/index.js';
import {
  DEFAULT_PANIC_THRESHOLD,
  parseSlowStart,
  type HostPolicy,
  type SlowStartOptions,
} from '../balancer/host-policy.js';
import { callbackFailed, RESOLVE_FIELD } from '../internal/callback.js';
import { checkOptions, optionalDuration, optionalRatio } from '../internal/validate.js';
import { findResolver } from '../resolver/index.js';
import '../resolver/builtin.js';
import { watchAddresses } from '../resolver/refresh.js';
import { DEFAULT_MAX_TTL, DEFAULT_MIN_TTL } from '../resolver/ttl.js';
import type { Address, GroupLike, HostHealth, LoadBalancer, LoadBalancerName } from '../types.js';
import { parseHostPort } from './address.js';
// Leaf modules (they import errors alone): a group validates its options as calls do.
import { normalizeHeaders } from '../client/headers.js';
import { checkBasePath } from '../client/path.js';
import { parseTarget } from './target.js';
import { backgroundScheduler } from '../internal/background.js';
import { resolveBulkhead, type BulkheadLimits } from '../client/bulkhead.js';
import { resolveHealthCheck, type HealthCheckConfig, type HealthCheckStatus } from './health-check.js';
import { HealthCheckRunner, type Prober } from './health-check-runner.js';

// One TTL default for groups and resolvers alike, defined beside the refresh loop that clamps.
export { DEFAULT_MAX_TTL, DEFAULT_MIN_TTL };

/**
 * Options of {@link AddressGroup}, all optional. Invalid options throw `INVALID_ARGUMENT` naming
 * `options.<name>`.
 *
 * @example
 * ```ts
 * new AddressGroup('dns://users.internal:8080', {
 *   loadBalancer: 'round-robin',
 *   dnsServers: ['127.0.0.1:5353'],
 *   minTtl: 5_000,
 *   name: 'users',
 * });
 * ```
 */
export interface AddressGroupOptions {
  /**
   * How each attempt picks an address: a built-in name or your own {@link LoadBalancer}.
   * @defaultValue 'p2c-ewma'
   */
  readonly loadBalancer?: LoadBalancerName | LoadBalancer;
  /** Protocol for resolved addresses. @defaultValue 'http' (or the target's, for http(s):// targets) */
  readonly protocol?: 'http' | 'https';
  /** DNS servers for `dns://` and `dns+srv://` targets: IP addresses with an optional `:port`, such as `['127.0.0.1:5353']`. @defaultValue the system's */
  readonly dnsServers?: readonly string[];
  /**
   * Shortest time between two DNS lookups, ms, whatever the records' TTL says; from 0 (follow the
   * TTL, never more often than every 50 ms). @defaultValue 1_000
   */
  readonly minTtl?: number;
  /**
   * Longest time between two DNS lookups, ms, however long the TTL; records without a TTL (TXT,
   * SRV) are re-read every 30 s clamped to `[minTtl, maxTtl]`. At least `minTtl`. @defaultValue 300_000
   */
  readonly maxTtl?: number;
  /** Label in metrics, traces and the dashboard. @defaultValue the target */
  readonly name?: string;
  /** Scheduler for refresh timers (virtual in specs). @defaultValue backgroundScheduler (unref'd timers) */
  readonly scheduler?: SchedulerLike;
  /** Uniform random in [0, 1) for the jitter of resolver retries and health checks. @defaultValue Math.random */
  readonly random?: () => number;
  /**
   * Active health checks: each client using the group probes every host with `GET path` every
   * `interval`; a host failing `unhealthyThreshold` probes in a row takes no calls while another host
   * is not failing (see {@link HealthCheckConfig}). @defaultValue none
   * @example
   * ```ts
   * new AddressGroup('dns://users:8080', { healthCheck: { path: '/health', interval: 5_000, unhealthyThreshold: 3 } });
   * ```
   */
  readonly healthCheck?: HealthCheckConfig;
  /**
   * Bulkhead: calls of one client through this group in progress at once (an integer ≥ 1); a call
   * past it waits in a FIFO queue of `maxQueued` places, within its deadline, and past both fails at
   * once with `OVERLOADED`, nothing sent. Retries stay within their call's slot. @defaultValue no limit
   */
  readonly maxConcurrentCalls?: number;
  /** Calls that may wait for a slot when `maxConcurrentCalls` are in progress (needs it). @defaultValue 0 */
  readonly maxQueued?: number;
  /**
   * Prefix of every `path` called on the group (`'/api/v2'` turns `get(g, '/users')` into
   * `/api/v2/users`); never applied to a `url` or a redirect's location. A trailing slash is dropped.
   * @defaultValue none
   */
  readonly basePath?: string;
  /**
   * Headers every call to the group sends: over the client's `headers`, under the request's and the
   * call's. Validated as call headers are (framing headers and CR/LF refused). @defaultValue none
   */
  readonly headers?: HeadersInit | Record<string, string>;
  /**
   * Slow start: a host that joins the list after the first resolution, or whose breaker has just
   * closed, gets its share ramped over `window` ms as Envoy does: weight × max(minWeight,
   * (time since / window)^(1 / aggression)). `true` for `{ window: 10_000, aggression: 1, minWeight:
   * 0.1 }`. Off by default, as in Envoy: it holds a recovered host's share down for the window, which
   * only pays where a host needs warming (a JVM, an empty cache). @defaultValue undefined (off)
   */
  readonly slowStart?: SlowStartOptions | boolean;
  /**
   * When fewer than this share of the hosts are healthy (breaker not open and health check passing),
   * failing health checks are ignored and calls spread over every host instead of crushing the few
   * (Envoy's panic threshold). A ratio from 0 (never) to 1. @defaultValue 0.5
   */
  readonly panicThreshold?: number;
}

const OPTION_KEYS = [
  'loadBalancer',
  'protocol',
  'dnsServers',
  'minTtl',
  'maxTtl',
  'name',
  'scheduler',
  'random',
  'healthCheck',
  'maxConcurrentCalls',
  'maxQueued',
  'basePath',
  'headers',
  'slowStart',
  'panicThreshold',
];

/** Turns a group's addresses and a client's statistics into host health rows. */
export type HealthView = (group: AddressGroup) => Observable<readonly HostHealth[]>;

/**
 * A server group: the addresses behind one target, kept current by a resolver.
 *
 * @example
 * ```ts
 * const users = new AddressGroup('static://127.0.0.1:8081,127.0.0.1:8082');
 * const res = await client.get(users, '/users/42');
 * ```
 */
export class AddressGroup implements GroupLike {
  /** Label in events, metrics, traces and the dashboard: the `name` option, or the target. */
  readonly name: string;
  /** The target string as given. */
  readonly target: string;
  /** Protocol of every address of the group. */
  readonly protocol: 'http' | 'https';
  /** Prefix of every path called on the group (`basePath`), or undefined. */
  readonly basePath: string | undefined;
  /** The group's default headers (validated, lower-case names, frozen), or undefined. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** This group's balancer instance (a fresh one per group for a built-in name). */
  readonly balancer: LoadBalancer;
  /** Replays the current list (once resolved) and emits on change only. */
  readonly addresses$: Observable<readonly Address[]>;
  /**
   * Resolves at the first non-empty resolution (at once for `static://` and `http(s)://`); rejects
   * with `NO_ADDRESS` if the group is closed first. Calls wait for it on their own, within their deadline.
   */
  readonly ready: Promise<void>;
  /** Health of each host, as the clients using this group see it. */
  readonly health$: Observable<readonly HostHealth[]>;
  /** Resolver updates and failures, forwarded onto each using client's `events$`. */
  readonly resolverEvents$: Observable<ResolverUpdateEvent | ResolverErrorEvent>;
  /** Health-check probes, forwarded onto each using client's `events$`; never emits without `healthCheck`. */
  readonly healthCheckEvents$: Observable<HealthCheckEvent>;
  /** The validated `maxConcurrentCalls` and `maxQueued`; undefined without a bulkhead. */
  readonly bulkheadLimits: BulkheadLimits | undefined;
  /**
   * Slow start and panic threshold as given, and `health`: the hook a health checker assigns so that
   * picks skip hosts failing their checks (undefined: every host passes).
   */
  readonly hostPolicy: HostPolicy;

  readonly #list = new BehaviorSubject<readonly Address[]>([]);
  readonly #resolverEvents = new Subject<ResolverUpdateEvent | ResolverErrorEvent>();
  readonly #healthView = new BehaviorSubject<HealthView>(defaultHealthView);
  readonly #failures = new BehaviorSubject<number>(0);
  readonly #scheduler: SchedulerLike;
  readonly #healthChecks: HealthCheckRunner | undefined;
  readonly #healthCheckEvents = new Subject<HealthCheckEvent>();
  #subscription: Subscription | undefined;
  #closed = false;
  #lastFailure: unknown;

  constructor(target: string, options: AddressGroupOptions = {}) {
    checkOptions(options, OPTION_KEYS, 'options');
    const parsed = parseTarget(target);
    this.target = target;
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
      throw invalidArgument('options.name', 'must be a non-empty string');
    this.name = options.name ?? target;
    if (options.protocol !== undefined && options.protocol !== 'http' && options.protocol !== 'https')
      throw invalidArgument('options.protocol', "must be 'http' or 'https'");
    const minTtl = optionalDuration(options.minTtl, 'options.minTtl') ?? DEFAULT_MIN_TTL;
    const maxTtl = optionalDuration(options.maxTtl, 'options.maxTtl') ?? DEFAULT_MAX_TTL;
    if (minTtl > maxTtl) throw invalidArgument('options.minTtl', 'must not exceed maxTtl');
    if (
      options.dnsServers !== undefined &&
      (!Array.isArray(options.dnsServers) || options.dnsServers.some((s) => typeof s !== 'string'))
    )
      throw invalidArgument('options.dnsServers', 'must be an array of host:port strings');
    for (const server of options.dnsServers ?? []) {
      if (!isIP(parseHostPort(server, 'options.dnsServers', 53).host))
        throw invalidArgument(
          'options.dnsServers',
          'each entry must be an IP address, with an optional :port',
        );
    }
    if (options.random !== undefined && typeof options.random !== 'function')
      throw invalidArgument('options.random', 'must be a function');
    const scheduler: unknown = options.scheduler;
    if (
      scheduler !== undefined &&
      scheduler !== null &&
      (typeof scheduler !== 'object' ||
        typeof (scheduler as SchedulerLike).now !== 'function' ||
        typeof (scheduler as SchedulerLike).schedule !== 'function')
    )
      throw invalidArgument('options.scheduler', 'must be an RxJS SchedulerLike (now() and schedule())');
    this.#scheduler = options.scheduler ?? backgroundScheduler;
    this.basePath = checkBasePath(options.basePath, 'options.basePath') || undefined;
    this.headers =
      options.headers === undefined
        ? undefined
        : Object.freeze(normalizeHeaders(options.headers, 'options.headers'));
    const random = options.random ?? Math.random;
    this.balancer = createBalancer(options.loadBalancer, 'options.loadBalancer');
    this.bulkheadLimits = resolveBulkhead(options.maxConcurrentCalls, options.maxQueued);
    this.#healthChecks =
      options.healthCheck === undefined
        ? undefined
        : new HealthCheckRunner(
            resolveHealthCheck(options.healthCheck),
            this.name,
            this.#scheduler,
            random,
            (e) => this.#healthCheckEvents.next(e),
          );
    this.healthCheckEvents$ = this.#healthCheckEvents.asObservable();
    this.hostPolicy = {
      slowStart: parseSlowStart(options.slowStart, 'options.slowStart'),
      panicThreshold:
        optionalRatio(options.panicThreshold, 'options.panicThreshold') ?? DEFAULT_PANIC_THRESHOLD,
      health: undefined,
    };
    // The health checks feed the pick's host policy, which applies the panic threshold to them.
    const checks = this.#healthChecks;
    if (checks !== undefined) {
      this.hostPolicy.health = {
        get allHealthy() {
          return checks.failing === 0;
        },
        healthy: (a) => checks.isHealthy(a),
      };
    }
    this.protocol = options.protocol ?? (parsed.kind === 'static' ? (parsed.protocol ?? 'http') : 'http');

    this.addresses$ = this.#list.pipe(filter((l) => l.length > 0));
    this.resolverEvents$ = this.#resolverEvents.asObservable();
    this.health$ = this.#healthView.pipe(switchMap((view) => view(this)));
    this.ready = new Promise<void>((resolve, reject) => {
      const sub = this.#list.subscribe({
        next: (l) => {
          if (l.length > 0) {
            resolve();
            queueMicrotask(() => sub.unsubscribe());
          }
        },
        complete: () => reject(new XhttpError('NO_ADDRESS', `group ${this.name} closed before it resolved`)),
      });
    });
    this.ready.catch(() => undefined); // a group closed early must not raise an unhandled rejection

    if (parsed.kind === 'static') {
      this.#publish(parsed.addresses);
      return;
    }
    const resolver = findResolver(parsed.scheme);
    if (!resolver) throw invalidArgument('target', `no resolver registered for scheme '${parsed.scheme}'`);
    const resolveOptions = {
      ...(options.dnsServers ? { dnsServers: options.dnsServers } : {}),
      minTtl,
      maxTtl,
      scheduler: this.#scheduler,
      random,
    };
    // A resolver that throws is a bug to name, not a DNS failure: INVALID_ARGUMENT naming it, kept as
    // the last failure (calls waiting for addresses fail with it), retried like any resolver error.
    const resolve = (): Observable<readonly Address[]> => {
      try {
        return resolver.resolve(parsed.url, resolveOptions);
      } catch (error) {
        throw callbackFailed(RESOLVE_FIELD, error);
      }
    };
    this.#subscription = watchAddresses(resolve, {
      scheduler: this.#scheduler,
      random,
      onError: (e) => this.#reportError(e),
    }).subscribe((list) => this.#publish(list));
  }

  /** The current list (empty before the first resolution); a failed or empty re-resolution keeps the last good list. */
  get addresses(): readonly Address[] {
    return this.#list.value;
  }

  /** True once `close()` was called: calls through the group then fail. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Emits each time the resolver fails; lets waiting calls give up with `NO_ADDRESS`. */
  get failures$(): Observable<number> {
    return this.#failures.pipe(filter((n) => n > 0));
  }

  /** @internal The resolver's latest failure (what {@link AddressGroup.failures$} counted last). */
  get lastFailure(): unknown {
    return this.#lastFailure;
  }

  /**
   * False only for a host whose active health checks are failing (`healthCheck`); true without health
   * checks, for a host not checked yet, and while no client is probing. What the pick's eligibility
   * reads.
   */
  isHealthy(address: Address): boolean {
    return this.#healthChecks === undefined || this.#healthChecks.isHealthy(address);
  }

  /** How many current hosts have failing health checks (O(1)); 0 without health checks. */
  get unhealthyHosts(): number {
    return this.#healthChecks?.failing ?? 0;
  }

  /** A host's health-check status; undefined when the group has no `healthCheck`. */
  healthCheckStatus(address: Address): HealthCheckStatus | undefined {
    return this.#healthChecks?.status(address);
  }

  /**
   * @internal A client offers to send the probes (the group has no transport). The first attached
   * prober is used; the returned function detaches it (`client.close()` does).
   */
  attachProber(prober: Prober): () => void {
    if (this.#healthChecks === undefined || this.#closed) return noop;
    return this.#healthChecks.attach(prober);
  }

  /** Installs how host health is computed (the client that uses this group does this). */
  setHealthView(view: HealthView): void {
    if (!this.#closed) this.#healthView.next(view);
  }

  /**
   * Stops resolving and completes every stream. A group you built is yours to close (after the
   * clients using it); groups a client built itself from URLs are closed by `client.close()`.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscription?.unsubscribe();
    this.#healthChecks?.close();
    this.#healthCheckEvents.complete();
    this.#list.complete();
    this.#resolverEvents.complete();
    this.#healthView.complete();
    this.#failures.complete();
  }

  #publish(list: readonly Address[]): void {
    if (this.#closed) return;
    const frozen = Object.freeze(list.map((a) => Object.freeze({ ...a })));
    this.#healthChecks?.update(frozen);
    this.#list.next(frozen);
    this.#resolverEvents.next({
      type: 'resolver-update',
      time: this.#scheduler.now(),
      group: this.name,
      addresses: frozen,
    });
  }

  #reportError(error: unknown): void {
    if (this.#closed) return;
    const code =
      error instanceof XhttpError ? error.code : String((error as { code?: unknown })?.code ?? 'ERROR');
    const message = error instanceof Error ? error.message : 'resolver failed';
    this.#lastFailure = error;
    this.#failures.next(this.#failures.value + 1);
    this.#resolverEvents.next({
      type: 'resolver-error',
      time: this.#scheduler.now(),
      group: this.name,
      errorCode: code,
      message,
    });
  }
}

function noop(): void {}

function defaultHealthView(group: AddressGroup): Observable<readonly HostHealth[]> {
  return group.addresses$.pipe(
    map((list) =>
      list.map((address) => ({
        address,
        key: addressKey(address),
        breaker: 'closed' as const,
        breakerSince: 0,
        failureRate: 0,
        total: 0,
        inFlight: 0,
        latencyMs: 0,
        ok: 0,
        errors: 0,
        timeouts: 0,
      })),
    ),
  );
}
