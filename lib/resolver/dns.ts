import { isIP } from 'node:net';
import { concat, NEVER, of, type Observable } from 'rxjs';
import { invalidArgument } from '../errors.js';
import type { Address, ResolveOptions, Resolver } from '../types.js';
import { dnsRefresh, lookupHost, urlHost, urlPort, type DnsSettings } from './dns-query.js';

/**
 * A `dns://host:port` resolver: the A and AAAA records of `host`, each with the target's port,
 * re-resolved when the shortest TTL expires (clamped to `[minTtl, maxTtl]`). Either family may be
 * missing; a failure (both missing, NXDOMAIN, timeout) errors the stream. An IP-literal host is
 * emitted once and the stream then stays open, as there is nothing to refresh.
 *
 * @example
 * ```ts
 * // Shorter DNS timeouts for every dns:// group of this process:
 * registerResolver(createDnsResolver({ lookupTimeout: 1_000, queryTimeout: 300, tries: 1 }));
 * ```
 */
export function createDnsResolver(settings: DnsSettings = {}): Resolver {
  return {
    scheme: 'dns',
    resolve(target: URL, options?: ResolveOptions): Observable<readonly Address[]> {
      const host = urlHost(target);
      const port = urlPort(target);
      if (host === '' || port === undefined) throw invalidArgument('target', 'expected dns://host:port');
      if (isIP(host) !== 0) return concat(of([{ host, port }]), NEVER);
      return dnsRefresh(options, settings, async (resolver) => {
        const answer = await lookupHost(resolver, host);
        return { addresses: answer.ips.map((ip) => ({ host: ip, port })), ttlMs: answer.ttlMs };
      });
    },
  };
}

/** The built-in `dns://` resolver, with default {@link DnsSettings}. */
export const dnsResolver: Resolver = createDnsResolver();
