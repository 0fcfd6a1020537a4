import type { SrvRecord } from 'node:dns';
import type { Observable } from 'rxjs';
import { invalidArgument, XhttpError } from '../errors.js';
import { addressKey } from '../events/events.js';
import type { Address, ResolveOptions, Resolver } from '../types.js';
import { dnsError, dnsRefresh, lookupHost, urlHost, type DnsSettings, type HostAnswer } from './dns-query.js';
import { DEFAULT_NO_TTL_PERIOD } from './ttl.js';

/**
 * Joins SRV records with the lookups of their targets (`answers[i]` belongs to `records[i]`): one
 * address per target IP, carrying the record's port and priority, and an equal part of the record's
 * weight. RFC 2782 weighs _targets_: a target behind N addresses gets weight / N on each, so the N
 * together draw the target's share rather than N times it. Targets that failed to resolve, and
 * records with port 0, are skipped; an address listed twice is kept once (the first record wins,
 * and only the addresses a record keeps share its weight).
 *
 * @example
 * ```ts
 * srvAddresses([{ name: 'a', port: 80, priority: 0, weight: 3 }], [{ status: 'fulfilled', value: { ips: ['10.0.0.1', '10.0.0.2'], ttlMs: 1_000 } }]);
 * // [{ host: '10.0.0.1', port: 80, priority: 0, weight: 1.5 }, { host: '10.0.0.2', port: 80, priority: 0, weight: 1.5 }]
 * ```
 */
export function srvAddresses(
  records: readonly SrvRecord[],
  answers: readonly PromiseSettledResult<HostAnswer>[],
): Address[] {
  const out: Address[] = [];
  const seen = new Set<string>();
  records.forEach((record, i) => {
    const answer = answers[i];
    if (answer?.status !== 'fulfilled') return;
    // Port 0 (or garbage) names no reachable service: such a record must not become an address.
    if (!Number.isInteger(record.port) || record.port < 1 || record.port > 65_535) return;
    const hosts: string[] = [];
    for (const ip of answer.value.ips) {
      const key = addressKey({ host: ip, port: record.port });
      if (seen.has(key)) continue;
      seen.add(key);
      hosts.push(ip);
    }
    const weight = record.weight / hosts.length;
    for (const host of hosts) out.push({ host, port: record.port, priority: record.priority, weight });
  });
  return out;
}

/**
 * A `dns+srv://_service._proto.domain` resolver (Kubernetes headless services, Consul DNS): the
 * SRV records of the name, each target resolved to its A and AAAA addresses, keeping the record's
 * port and priority on every address and sharing its weight among them (see {@link srvAddresses};
 * `selectAddress` gives these their SRV meaning under every balancer). Node's
 * `resolveSrv` reports no TTL, so the records are re-read every `noTtlPeriod` (30 s) — sooner when
 * a target's A/AAAA TTL is shorter — clamped to `[minTtl, maxTtl]`. A target that does not resolve
 * is skipped; none resolving is a failure. Internal: the registry holds the one instance.
 */
function createDnsSrvResolver(settings: DnsSettings = {}): Resolver {
  const noTtlPeriod = settings.noTtlPeriod ?? DEFAULT_NO_TTL_PERIOD;
  return {
    scheme: 'dns+srv',
    resolve(target: URL, options?: ResolveOptions): Observable<readonly Address[]> {
      const name = urlHost(target);
      if (name === '') throw invalidArgument('target', 'expected dns+srv://_service._proto.domain');
      return dnsRefresh(options, settings, async (resolver) => {
        const all = await resolver.resolveSrv(name).catch((e: unknown) => {
          throw dnsError(e, 'SRV', name);
        });
        // A target of "." means "no service here" (RFC 2782).
        const records = all.filter((r) => r.name !== '' && r.name !== '.');
        const answers = await Promise.allSettled(records.map((r) => lookupHost(resolver, r.name)));
        const addresses = srvAddresses(records, answers);
        if (addresses.length === 0) {
          const failed = answers.find((a) => a.status === 'rejected');
          throw failed
            ? dnsError(failed.reason, 'A/AAAA', name)
            : new XhttpError('NO_ADDRESS', `no usable SRV record for ${name}`);
        }
        let ttlMs = noTtlPeriod;
        for (const a of answers)
          if (a.status === 'fulfilled' && a.value.ttlMs !== undefined) ttlMs = Math.min(ttlMs, a.value.ttlMs);
        return { addresses, ttlMs };
      });
    },
  };
}

/** The built-in `dns+srv://` resolver, with default {@link DnsSettings}. */
export const dnsSrvResolver: Resolver = createDnsSrvResolver();
