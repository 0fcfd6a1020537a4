import { Inject, Injectable } from '@nestjs/common';
import { firstValueFrom, timeout } from 'rxjs';
import type { ClientHealth } from '../client/health.js';
import { RxHttpService } from './service.js';

/** What {@link RxHttpHealthIndicator.check} reports, in the shape Nest health checks use. */
export interface RxHttpHealthResult {
  readonly rxhttp: {
    readonly status: 'up' | 'down';
    /** Groups in which every host's breaker is open. */
    readonly downGroups: readonly string[];
    readonly health: ClientHealth;
  };
}

/**
 * A framework-light health indicator: `down` when some group has no host with a closed or
 * half-open breaker. Works with `@nestjs/terminus` (wrap `check()`) or a plain controller.
 */
@Injectable()
export class RxHttpHealthIndicator {
  constructor(@Inject(RxHttpService) private readonly http: RxHttpService) {}

  async check(): Promise<RxHttpHealthResult> {
    const health = await firstValueFrom(this.http.client.health$.pipe(timeout(5_000)));
    const downGroups = health.groups
      .filter((g) => g.hosts.length > 0 && g.hosts.every((h) => h.breaker === 'open'))
      .map((g) => g.name);
    return { rxhttp: { status: downGroups.length === 0 ? 'up' : 'down', downGroups, health } };
  }
}
