import { asyncScheduler, type Observable } from 'rxjs';
import { invalidArgument, XhttpError } from '../errors.js';
import type { Address, ResolveOptions, Resolver } from '../types.js';
import {
  DEFAULT_NO_TTL_PERIOD,
  lookupHost,
  refreshOptions,
  ttlRefresh,
  urlHost,
  withDnsResolver,
} from './dns-common.js';

/**
 * `dns+srv://_service._proto.domain`: the SRV records of the name, each target resolved to its A
 * and AAAA addresses (an IP-literal target is used as is), keeping the record's port, priority and
 * weight on every address. SRV TTLs are not reported by Node's API: the list is re-read every 30 s,
 * or sooner when a target's A/AAAA TTL is shorter, clamped to `[minTtl, maxTtl]`. A target that
 * does not resolve is skipped; none resolving is a failure.
 */
export const dnsSrvResolver: Resolver = {
  scheme: 'dns+srv',
  resolve(target: URL, options?: ResolveOptions): Observable<readonly Address[]> {
    const name = urlHost(target);
    if (name === '') throw invalidArgument('target', 'expected dns+srv://_service._proto.domain');
    return withDnsResolver(options, (resolver) =>
      ttlRefresh(
        async () => {
          const records = (await resolver.resolveSrv(name)).filter((r) => r.name !== '' && r.name !== '.');
          const answers = await Promise.allSettled(records.map((r) => lookupHost(resolver, r.name)));
          const addresses: Address[] = [];
          let ttlMs = DEFAULT_NO_TTL_PERIOD;
          let firstError: unknown;
          answers.forEach((answer, i) => {
            const record = records[i]!;
            if (answer.status === 'rejected') {
              firstError ??= answer.reason;
              return;
            }
            if (answer.value.ttlMs !== undefined) ttlMs = Math.min(ttlMs, answer.value.ttlMs);
            for (const ip of answer.value.ips)
              addresses.push({
                host: ip,
                port: record.port,
                priority: record.priority,
                weight: record.weight,
              });
          });
          if (addresses.length === 0)
            throw firstError ?? new XhttpError('NO_ADDRESS', `no usable SRV record for ${name}`);
          return { addresses, ttlMs };
        },
        refreshOptions(options, asyncScheduler),
      ),
    );
  },
};
