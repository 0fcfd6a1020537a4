import { isIP } from 'node:net';
import { asyncScheduler, concat, NEVER, of, type Observable } from 'rxjs';
import { invalidArgument } from '../errors.js';
import type { Address, ResolveOptions, Resolver } from '../types.js';
import { lookupHost, refreshOptions, ttlRefresh, urlHost, urlPort, withDnsResolver } from './dns-common.js';

/**
 * `dns://host:port`: the A and AAAA records of `host`, each with the target's port, re-resolved
 * when the shortest TTL expires (clamped to `[minTtl, maxTtl]`). An IP literal host is emitted
 * once and the stream then stays open. A lookup failure (error, timeout, NXDOMAIN, both queries
 * empty) errors the stream.
 */
export const dnsResolver: Resolver = {
  scheme: 'dns',
  resolve(target: URL, options?: ResolveOptions): Observable<readonly Address[]> {
    const host = urlHost(target);
    const port = urlPort(target);
    if (host === '' || port === undefined) throw invalidArgument('target', 'expected dns://host:port');
    if (isIP(host) !== 0) return concat(of([{ host, port }]), NEVER);
    return withDnsResolver(options, (resolver) =>
      ttlRefresh(
        async () => {
          const answer = await lookupHost(resolver, host);
          return { addresses: answer.ips.map((ip) => ({ host: ip, port })), ttlMs: answer.ttlMs };
        },
        refreshOptions(options, asyncScheduler),
      ),
    );
  },
};
