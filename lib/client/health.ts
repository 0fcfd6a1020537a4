import {
  asyncScheduler,
  auditTime,
  filter,
  map,
  merge,
  Observable,
  shareReplay,
  startWith,
  type SchedulerLike,
} from 'rxjs';
import type { CircuitBreakers } from '../breaker/breakers.js';
import type { LoadStats } from '../balancer/load-stats.js';
import { addressKey, type CallEvent } from '../events/events.js';
import type { HealthView } from '../group/address-group.js';
import type { Clock } from '../internal/clock.js';
import type { GroupLike, HostHealth } from '../types.js';

/** Health of one group on `client.health$`. */
export interface GroupHealth {
  readonly name: string;
  readonly hosts: readonly HostHealth[];
}

/** The whole client at one moment. */
export interface ClientHealth {
  readonly time: number;
  readonly groups: readonly GroupHealth[];
}

/** Host rows for a group's addresses, from breaker snapshots and load statistics. */
export function hostRows(
  group: GroupLike,
  breakers: CircuitBreakers | undefined,
  loadStats: LoadStats,
): readonly HostHealth[] {
  const snaps = breakers?.snapshots();
  return group.addresses.map((address) => {
    const key = addressKey(address);
    const snap = snaps?.get(key);
    const host = loadStats.host(key);
    return {
      address,
      key,
      breaker: snap?.state ?? 'closed',
      breakerSince: snap?.since ?? 0,
      failureRate: snap?.failureRate ?? 0,
      total: snap?.total ?? 0,
      inFlight: host.outstanding,
      latencyMs: host.latencyMs,
      ok: host.ok,
      errors: host.errors,
      timeouts: host.timeouts,
    };
  });
}

const REFRESH_MS = 250;

/** The view a client installs on the groups it uses (see `AddressGroup.health$`). */
export function healthViewFor(
  breakers: CircuitBreakers | undefined,
  loadStats: LoadStats,
  events$: Observable<CallEvent>,
  _clock: Clock,
  scheduler: SchedulerLike = asyncScheduler,
): HealthView {
  return (group) =>
    merge(
      group.addresses$,
      events$.pipe(
        filter((e) => e.type === 'attempt-end' || e.type === 'breaker-transition'),
        auditTime(REFRESH_MS, scheduler),
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
  readonly scheduler?: SchedulerLike;
}

/** The client's current-value health stream; shared, replaying, and idle while unobserved. */
export function clientHealth$(s: ClientHealthSources): Observable<ClientHealth> {
  const snapshot = (groups: readonly GroupLike[]): ClientHealth => ({
    time: s.clock.now(),
    groups: groups.map((g) => ({ name: g.name, hosts: hostRows(g, s.breakers, s.loadStats) })),
  });
  let groups: readonly GroupLike[] = [];
  return merge(
    s.groups$.pipe(map((g) => (groups = g))),
    s.events$.pipe(auditTime(REFRESH_MS, s.scheduler ?? asyncScheduler)),
  ).pipe(
    startWith(undefined),
    map(() => snapshot(groups)),
    shareReplay({ bufferSize: 1, refCount: true }),
  );
}
