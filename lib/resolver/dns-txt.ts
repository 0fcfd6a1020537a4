import type { Observable } from 'rxjs';
import { invalidArgument, XhttpError } from '../errors.js';
import { addressKey } from '../events/events.js';
import { parseHostPort } from '../group/address.js';
import type { Address, ResolveOptions, Resolver } from '../types.js';
import { dnsError, dnsRefresh, urlHost, urlPort, type DnsSettings } from './dns-query.js';

/**
 * Parses TXT records listing `host[:port]` entries separated by commas and/or spaces. A record
 * split into chunks (strings over 255 bytes are) is joined first; `defaultPort` fills in a missing
 * port; malformed entries are skipped and duplicates dropped.
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
        continue; // one bad entry must not hide the good ones beside it
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
 * A `dns+txt://domain:port` resolver (written `dns://txt:domain:port` in a group target): the hosts
 * listed in the TXT records of `domain`, the target's port as default. Node's `resolveTxt` reports
 * no TTL, so the records are re-read every `noTtlPeriod` (30 s) clamped to `[minTtl, maxTtl]`:
 * lower `maxTtl` for faster pick-up. Listed host names are used as they are (undici resolves them
 * at connect). No valid entry at all is a failure. Internal: the registry holds the one instance.
 */
function createDnsTxtResolver(settings: DnsSettings = {}): Resolver {
  return {
    scheme: 'dns+txt',
    resolve(target: URL, options?: ResolveOptions): Observable<readonly Address[]> {
      const domain = urlHost(target);
      const port = urlPort(target);
      if (domain === '' || port === undefined)
        throw invalidArgument('target', 'expected dns://txt:domain:port');
      return dnsRefresh(options, settings, async (resolver) => {
        const records = await resolver.resolveTxt(domain).catch((e: unknown) => {
          throw dnsError(e, 'TXT', domain);
        });
        const addresses = parseTxtHosts(records, port);
        if (addresses.length === 0)
          throw new XhttpError('NO_ADDRESS', `no valid host[:port] in the TXT records of ${domain}`);
        return { addresses, ttlMs: undefined };
      });
    },
  };
}

/** The built-in `dns+txt://` resolver, with default {@link DnsSettings}. */
export const dnsTxtResolver: Resolver = createDnsTxtResolver();
