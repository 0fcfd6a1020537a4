import { Inject, Injectable } from '@nestjs/common';
import { firstValueFrom, timeout } from 'rxjs';
import type { ClientHealth, HostHealthRow } from '../client/health.js';
import { RxHttpService } from './service.js';

/** Longest wait for a health view; `client.health$` replays at once, so this only guards a bug. */
const HEALTH_TIMEOUT = 5_000;

/** A host whose every breaker is open (its row's state is the worst of its keys). */
function refusing(h: HostHealthRow): boolean {
  return h.breaker === 'open' && h.openBreakers === h.breakerKeys;
}

/** What {@link RxHttpHealthIndicator.check} reports: `@nestjs/terminus`'s `HealthIndicatorResult` shape. */
export type RxHttpHealthResult<K extends string = 'rxhttp'> = {
  readonly [key in K]: {
    readonly status: 'up' | 'down';
    /** Groups in which every host is refusing: each host's breakers (every key of it) are open. */
    readonly downGroups: readonly string[];
    /** The whole `client.health$` view: groups, hosts, breakers, rates and latencies. */
    readonly health: ClientHealth;
  };
};

/**
 * A framework-light health indicator over `client.health$`: `down` when some group has hosts and
 * every one refuses calls — all its breakers open (under a custom `circuitBreaker.key`, every key of
 * the host; one open path is not a host down, but its row shows it: worst state, open count). No `@nestjs/terminus` dependency: return `check()` from a
 * controller, or wrap it in a terminus indicator.
 *
 * @example
 * ```ts
 * @Get('health') health() { return this.rxhttp.check(); }
 * ```
 */
@Injectable()
export class RxHttpHealthIndicator {
  constructor(@Inject(RxHttpService) private readonly http: RxHttpService) {}

  /** One snapshot of the client's health under `key`. @defaultValue key `'rxhttp'` */
  async check<K extends string = 'rxhttp'>(key: K = 'rxhttp' as K): Promise<RxHttpHealthResult<K>> {
    const health = await firstValueFrom(this.http.client.health$.pipe(timeout(HEALTH_TIMEOUT)));
    const downGroups = health.groups
      .filter((g) => g.hosts.length > 0 && g.hosts.every(refusing))
      .map((g) => g.name);
    const status: 'up' | 'down' = downGroups.length === 0 ? 'up' : 'down';
    // A computed key widens to an index signature; the shape is exactly RxHttpHealthResult<K>.
    return { [key]: { status, downGroups, health } } as unknown as RxHttpHealthResult<K>;
  }
}
