import {
  audit,
  combineLatest,
  defer,
  filter,
  ignoreElements,
  map,
  merge,
  Observable,
  repeat,
  shareReplay,
  startWith,
  takeUntil,
  endWith,
  share,
} from 'rxjs';
import type { CircuitBreakers } from '../breaker/breakers.js';
import type { LoadStats } from '../balancer/load-stats.js';
import { addressKey, type CallEvent } from '../events/events.js';
import type { HealthView } from '../group/address-group.js';
import { setBackgroundTimer } from '../internal/background.js';
import type { Clock } from '../internal/clock.js';
import type { Address, GroupLike, HostHealth } from '../types.js';
import { breakersByHost } from './health-breakers.js';
import type { HealthStats } from './health-stats.js';
import type { LatencyPercentiles, WindowStats } from './health-window.js';
import type { Bulkhead, BulkheadState } from './bulkhead.js';

export { DEFAULT_WINDOW_MS, type LatencyPercentiles } from './health-window.js';

/** Traffic figures over the sliding window, for the whole client or one group. */
export interface TrafficHealth {
  /** Calls ended per second (cancelled calls are not counted). */
  readonly callsPerSecond: number;
  /** Failed calls (an error, or a 5xx response) as a percentage of calls ended. */
  readonly errorPercent: number;
  /** Call latency percentiles, ms, retries and back-off included. */
  readonly latencyMs: LatencyPercentiles;
  /** Retries scheduled per second. */
  readonly retriesPerSecond: number;
  /** Calls failed fast (every breaker open) per second. */
  readonly failFastPerSecond: number;
}

/** One host of a group on `client.health$`: {@link HostHealth} plus its weight, latency and breakers. */
export interface HostHealthRow extends HostHealth {
  /** `address.weight`, 1 when the address has none. */
  readonly weight: number;
  /** What the host measured: attempt latency percentiles over the window, ms (0 before any). */
  readonly attemptLatencyMs: LatencyPercentiles;
  /**
   * The balancer's peak-EWMA cost of the host, ms (also in `latencyMs`): a load score that grows with
   * requests in flight, not a latency; it is what `p2c-ewma` compares.
   */
  readonly balancerCostMs: number;
  /** Breakers whose attempts go to this host (one per custom key); 0 with breakers off or none yet. */
  readonly breakerKeys: number;
  /** How many of {@link HostHealthRow.breakerKeys} are open. */
  readonly openBreakers: number;
  /** Set when the breaker that gives `breaker` is under a manual override (`client.breakers`). */
  readonly breakerForced?: 'open' | 'closed';
  /**
   * What the group's active health checks say (`healthCheck`): `failing` hosts take no calls while
   * another host is not failing. Absent when the group has no health checks.
   */
  readonly healthCheck?: 'passing' | 'failing' | 'unknown';
}

/** Health of one group on `client.health$`. */
export interface GroupHealth extends TrafficHealth {
  /** The group's name (its `name` option, or its target). */
  readonly name: string;
  /** One row per current address of the group. */
  readonly hosts: readonly HostHealthRow[];
  /** p90 call latency of each of the last 60 seconds, ms, oldest first; 0 for a quiet second. */
  readonly sparkline: readonly number[];
  /** The group's bulkhead (`maxConcurrentCalls`): calls in progress, queued, turned away. Absent without one. */
  readonly bulkhead?: BulkheadState;
}

/** The whole client at one moment, as `client.health$` emits it. */
export interface ClientHealth extends TrafficHealth {
  /** The client clock's time of this view, ms. */
  readonly time: number;
  /** Span of the rates, error % and percentiles, ms. */
  readonly windowMs: number;
  /** Every group the client has called or registered. */
  readonly groups: readonly GroupHealth[];
  /**
   * Which client the totals belong to, when a view joins several (the dashboard's header names it).
   * Absent on a single client's view.
   */
  readonly client?: string;
}

/** What {@link hostRows} reads. */
export interface HostRowSources {
  readonly breakers: CircuitBreakers | undefined;
  readonly loadStats: LoadStats;
  readonly stats: HealthStats;
  readonly clock: Clock;
}

/**
 * Host rows for a group's addresses: breakers (the worst of each host's keys, `'off'` when turned
 * off), load statistics, and the attempt latency each host measured over the window.
 */
export function hostRows(group: GroupLike, s: HostRowSources): readonly HostHealthRow[] {
  const byHost = s.breakers ? breakersByHost(s.breakers) : undefined;
  const now = s.clock.now();
  const checked = group as GroupLike & {
    healthCheckStatus?: (a: Address) => 'passing' | 'failing' | 'unknown' | undefined;
  };
  return group.addresses.map((address) => {
    const key = addressKey(address);
    const healthCheck = checked.healthCheckStatus?.(address);
    const b = byHost?.get(key);
    const host = s.loadStats.host(key);
    // Without a breaker the rolling outcome counts stand in for its window.
    const counted = host.ok + host.errors;
    return {
      address,
      key,
      weight: address.weight ?? 1,
      breaker: s.breakers === undefined ? 'off' : (b?.state ?? 'closed'),
      breakerSince: b?.since ?? 0,
      failureRate: b ? b.failureRate : counted === 0 ? 0 : host.errors / counted,
      total: b ? b.total : counted,
      breakerKeys: b?.keys ?? 0,
      openBreakers: b?.openKeys ?? 0,
      ...(b?.forced === undefined ? {} : { breakerForced: b.forced }),
      inFlight: host.outstanding,
      latencyMs: host.latencyMs,
      balancerCostMs: host.latencyMs,
      attemptLatencyMs: s.stats.hostLatency(key, now),
      ok: host.ok,
      errors: host.errors,
      timeouts: host.timeouts,
      ...(healthCheck === undefined ? {} : { healthCheck }),
    };
  });
}

/** Coalesces bursts of events into at most one health update per this many ms. */
export const HEALTH_REFRESH_MS = 250;
/** A view is emitted at least this often while observed, so rates decay when traffic stops. */
export const HEALTH_TICK_MS = 1_000;

/**
 * Emits once after `ms` on `clock`, then completes; unsubscribing cancels the timer. A background
 * timer: a health view someone forgot to unsubscribe never holds the process open.
 */
function after(ms: number, clock: Clock): Observable<0> {
  return new Observable<0>((subscriber) =>
    setBackgroundTimer(
      clock,
      () => {
        subscriber.next(0);
        subscriber.complete();
      },
      ms,
    ),
  );
}

const changesHosts = (e: CallEvent) =>
  e.type === 'attempt-start' ||
  e.type === 'attempt-end' ||
  e.type === 'breaker-transition' ||
  e.type === 'health-check';

/** The view a client installs on the groups it uses (see `AddressGroup.health$`). */
export function healthViewFor(sources: HostRowSources, events$: Observable<CallEvent>): HealthView {
  return (group) =>
    merge(
      group.addresses$,
      events$.pipe(
        filter(changesHosts),
        audit(() => after(HEALTH_REFRESH_MS, sources.clock)),
      ),
    ).pipe(map(() => hostRows(group, sources)));
}

/** Inputs of {@link clientHealth$}. */
export interface ClientHealthSources extends HostRowSources {
  readonly events$: Observable<CallEvent>;
  readonly groups$: Observable<readonly GroupLike[]>;
  /** The bulkheads of the groups that have one. */
  readonly bulkheads?: ReadonlyMap<GroupLike, Bulkhead>;
}

function traffic(s: WindowStats): TrafficHealth {
  return {
    callsPerSecond: s.callsPerSecond,
    errorPercent: s.errorPercent,
    latencyMs: s.latencyMs,
    retriesPerSecond: s.retriesPerSecond,
    failFastPerSecond: s.failFastPerSecond,
  };
}

/**
 * The client's current-value health stream. Shared and replaying: a late subscriber gets the
 * present at once, and it is true, since the statistics ({@link HealthStats}) are kept for the
 * client's life. Only the emitting is idle while unobserved: the timers exist only while someone
 * subscribes. Emits on group changes, at most every {@link HEALTH_REFRESH_MS} while events flow,
 * and every {@link HEALTH_TICK_MS} regardless; completes when the client closes.
 */
export function clientHealth$(s: ClientHealthSources): Observable<ClientHealth> {
  const { stats } = s;
  return defer(() => {
    const events$ = s.events$.pipe(share());
    const closed$ = events$.pipe(ignoreElements(), endWith(0));
    const changed$ = merge(
      events$.pipe(audit(() => after(HEALTH_REFRESH_MS, s.clock))),
      defer(() => after(HEALTH_TICK_MS, s.clock)).pipe(repeat()),
    );
    return combineLatest([s.groups$, changed$.pipe(startWith(0))]).pipe(
      takeUntil(closed$),
      map(([groups]): ClientHealth => {
        const now = s.clock.now();
        const names = new Set<string>();
        const hosts = new Set<string>();
        for (const g of groups) {
          names.add(g.name);
          for (const a of g.addresses) hosts.add(addressKey(a));
        }
        stats.retain(names, hosts);
        return {
          time: now,
          windowMs: stats.windowMs,
          ...traffic(stats.all.read(now)),
          groups: groups.map((g) => {
            const w = stats.group(g.name).read(now);
            const bulkhead = s.bulkheads?.get(g)?.state();
            return {
              name: g.name,
              ...traffic(w),
              sparkline: w.sparkline,
              hosts: hostRows(g, s),
              ...(bulkhead === undefined ? {} : { bulkhead }),
            };
          }),
        };
      }),
    );
  }).pipe(shareReplay({ bufferSize: 1, refCount: true }));
}
