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
  tap,
} from 'rxjs';
import type { CircuitBreakers } from '../breaker/breakers.js';
import type { LoadStats } from '../balancer/load-stats.js';
import { addressKey, type CallEvent } from '../events/events.js';
import type { HealthView } from '../group/address-group.js';
import type { Clock } from '../internal/clock.js';
import type { GroupLike, HostHealth } from '../types.js';
import { CallWindow, DEFAULT_WINDOW_MS, type LatencyPercentiles, type WindowStats } from './health-window.js';

export { DEFAULT_WINDOW_MS, type LatencyPercentiles } from './health-window.js';

/** One host of a group on `client.health$`: {@link HostHealth} plus its balancing weight. */
export interface HostHealthRow extends HostHealth {
  /** `address.weight`, 1 when the address has none. */
  readonly weight: number;
}

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

/** Health of one group on `client.health$`. */
export interface GroupHealth extends TrafficHealth {
  /** The group's name (its `name` option, or its target). */
  readonly name: string;
  /** One row per current address of the group. */
  readonly hosts: readonly HostHealthRow[];
  /** p90 call latency of each of the last 60 seconds, ms, oldest first; 0 for a quiet second. */
  readonly sparkline: readonly number[];
}

/** The whole client at one moment, as `client.health$` emits it. */
export interface ClientHealth extends TrafficHealth {
  /** The client clock's time of this view, ms. */
  readonly time: number;
  /** Span of the rates, error % and percentiles, ms. */
  readonly windowMs: number;
  /** Every group the client has called or registered. */
  readonly groups: readonly GroupHealth[];
}

/** Host rows for a group's addresses, from breaker snapshots and load statistics. */
export function hostRows(
  group: GroupLike,
  breakers: CircuitBreakers | undefined,
  loadStats: LoadStats,
): readonly HostHealthRow[] {
  const snaps = breakers?.snapshots();
  return group.addresses.map((address) => {
    const key = addressKey(address);
    const snap = snaps?.get(key);
    const host = loadStats.host(key);
    // Without a breaker the rolling outcome counts stand in for its window.
    const counted = host.ok + host.errors;
    return {
      address,
      key,
      weight: address.weight ?? 1,
      breaker: snap?.state ?? 'closed',
      breakerSince: snap?.since ?? 0,
      failureRate: snap ? snap.failureRate : counted === 0 ? 0 : host.errors / counted,
      total: snap ? snap.total : counted,
      inFlight: host.outstanding,
      latencyMs: host.latencyMs,
      ok: host.ok,
      errors: host.errors,
      timeouts: host.timeouts,
    };
  });
}

/** Coalesces bursts of events into at most one health update per this many ms. */
export const HEALTH_REFRESH_MS = 250;
/** A view is emitted at least this often while observed, so rates decay when traffic stops. */
export const HEALTH_TICK_MS = 1_000;

/** Emits once after `ms` on `clock`, then completes; unsubscribing cancels the timer. */
function after(ms: number, clock: Clock): Observable<0> {
  return new Observable<0>((subscriber) =>
    clock.setTimer(() => {
      subscriber.next(0);
      subscriber.complete();
    }, ms),
  );
}

const changesHosts = (e: CallEvent) =>
  e.type === 'attempt-start' || e.type === 'attempt-end' || e.type === 'breaker-transition';

/** The view a client installs on the groups it uses (see `AddressGroup.health$`). */
export function healthViewFor(
  breakers: CircuitBreakers | undefined,
  loadStats: LoadStats,
  events$: Observable<CallEvent>,
  clock: Clock,
): HealthView {
  return (group) =>
    merge(
      group.addresses$,
      events$.pipe(
        filter(changesHosts),
        audit(() => after(HEALTH_REFRESH_MS, clock)),
      ),
    ).pipe(map(() => hostRows(group, breakers, loadStats)));
}

/** Inputs of {@link clientHealth$}. */
export interface ClientHealthSources {
  readonly clock: Clock;
  readonly events$: Observable<CallEvent>;
  readonly groups$: Observable<readonly GroupLike[]>;
  readonly breakers: CircuitBreakers | undefined;
  readonly loadStats: LoadStats;
  /** Span of rates, error % and percentiles, ms. @defaultValue 10_000 */
  readonly windowMs?: number;
  /** Unused: time comes from `clock` (which a client builds from its scheduler). */
  readonly scheduler?: unknown;
}

/** Call statistics per group name and for the whole client, fed by events. */
class Traffic {
  readonly all: CallWindow;
  readonly #groups = new Map<string, CallWindow>();
  readonly #since: number;
  readonly #windowMs: number;

  constructor(since: number, windowMs: number) {
    this.#since = since;
    this.#windowMs = windowMs;
    this.all = new CallWindow(since, { windowMs });
  }

  group(name: string): CallWindow {
    let w = this.#groups.get(name);
    if (w === undefined) {
      w = new CallWindow(this.#since, { windowMs: this.#windowMs });
      this.#groups.set(name, w);
    }
    return w;
  }

  update(e: CallEvent): void {
    switch (e.type) {
      case 'call-end': {
        // A cancelled call says nothing about the service (as for breakers).
        if (e.outcome === 'cancelled') return;
        const failed = e.outcome === 'error' || (e.status !== undefined && e.status >= 500);
        this.all.callEnded(e.time, e.durationMs, failed);
        this.group(e.group).callEnded(e.time, e.durationMs, failed);
        return;
      }
      case 'retry-scheduled':
        this.all.retried(e.time);
        this.group(e.group).retried(e.time);
        return;
      case 'fail-fast':
        this.all.failedFast(e.time);
        this.group(e.group).failedFast(e.time);
        return;
      default:
        return;
    }
  }

  /** Forgets groups no longer in use, so a client that churns groups cannot grow the map. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.#groups.keys()) if (!names.has(name)) this.#groups.delete(name);
  }
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
 * present at once. Idle while unobserved: the event subscription, the statistics and the timers
 * exist only while someone subscribes (so figures start afresh after a gap with no subscriber).
 * Emits on group changes, at most every {@link HEALTH_REFRESH_MS} while events flow, and every
 * {@link HEALTH_TICK_MS} regardless; completes when the client closes.
 */
export function clientHealth$(s: ClientHealthSources): Observable<ClientHealth> {
  const windowMs = s.windowMs ?? DEFAULT_WINDOW_MS;
  return defer(() => {
    const stats = new Traffic(s.clock.now(), windowMs);
    const events$ = s.events$.pipe(
      tap((e) => stats.update(e)),
      share(),
    );
    const closed$ = events$.pipe(ignoreElements(), endWith(0));
    const changed$ = merge(
      events$.pipe(audit(() => after(HEALTH_REFRESH_MS, s.clock))),
      defer(() => after(HEALTH_TICK_MS, s.clock)).pipe(repeat()),
    );
    let known: readonly GroupLike[] = [];
    return combineLatest([s.groups$, changed$.pipe(startWith(0))]).pipe(
      takeUntil(closed$),
      map(([groups]): ClientHealth => {
        if (groups !== known) {
          known = groups;
          stats.retain(new Set(groups.map((g) => g.name)));
        }
        const now = s.clock.now();
        return {
          time: now,
          windowMs,
          ...traffic(stats.all.read(now)),
          groups: groups.map((g) => {
            const w = stats.group(g.name).read(now);
            return {
              name: g.name,
              ...traffic(w),
              sparkline: w.sparkline,
              hosts: hostRows(g, s.breakers, s.loadStats),
            };
          }),
        };
      }),
    );
  }).pipe(shareReplay({ bufferSize: 1, refCount: true }));
}
