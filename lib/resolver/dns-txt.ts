import { asyncScheduler, type Observable } from 'rxjs';
import { invalidArgument, XhttpError } from '../errors.js';
import { addressKey } from '../events/events.js';
import { parseHostPort } from '../group/address.js';
import type { Address, ResolveOptions, Resolver } from '../types.js';
import { refreshOptions, ttlRefresh, urlHost, urlPort, withDnsResolver } from './dns-common.js';

/**
 * Parses TXT records (each an array of chunks, joined) listing `host[:port]` entries separated by
 * commas and/or spaces; `defaultPort` fills in a missing port. Malformed entries are skipped and
 * duplicates dropped.
 *
 * @example parseTxtHosts([['10.0.0.1:81 10.0.0.2,', 'web.local']], 80) // 3 addresses
 */
export function parseTxtHosts(records: readonly (readonly string[])[], defaultPort: number): Address[] {
  const out: Address[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    for (const entry of record.join('').split(/[\s,]+/)) {
      if (entry === '') continue;
      let address: Address;
      try {
        address = parseHostPort(entry, 'txt', defaultPort);
      } catch {
        continue;
      }
      const key = addressKey(address);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(address);
    }
  }
  return out;
}

/**
 * `dns+txt://domain:port` (written `dns://txt:domain:port` in a target): the hosts listed in the
 * TXT records of `domain`. Node's API reports no TTL for TXT records, so they are re-read every
 * 30 s clamped to `[minTtl, maxTtl]`. No valid entry at all is a failure.
 */
export const dnsTxtResolver: Resolver = {
  scheme: 'dns+txt',
  resolve(target: URL, options?: ResolveOptions): Observable<readonly Address[]> {
    const domain = urlHost(target);
    const port = urlPort(target);
    if (domain === '' || port === undefined)
      throw invalidArgument('target', 'expected dns://txt:domain:port');
    return withDnsResolver(options, (resolver) =>
      ttlRefresh(
        async () => {
          const addresses = parseTxtHosts(await resolver.resolveTxt(domain), port);
          if (addresses.length === 0)
            throw new XhttpError('NO_ADDRESS', `no valid host:port in the TXT records of ${domain}`);
          return { addresses, ttlMs: undefined };
        },
        refreshOptions(options, asyncScheduler),
      ),
    );
  },
};
