import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import {
  defer,
  expand,
  finalize,
  map,
  switchMap,
  timeout,
  timer,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';
import { XhttpError } from '../errors.js';
import type { Address, ResolveOptions } from '../types.js';

/** What one lookup found: the addresses and the shortest TTL among the answers (ms), if known. */
export interface LookupResult {
  readonly addresses: readonly Address[];
  /** Shortest TTL of the records behind `addresses`, ms; `undefined` when the answer carries none. */
  readonly ttlMs?: number | undefined;
}

/**
 * One resolution. A Promise (real DNS) or any other ObservableInput whose first value is used
 * (a synchronous `of(…)` lets specs drive the refresh loop in virtual time).
 */
export type Lookup = () => ObservableInput<LookupResult>;

/** Options of {@link ttlRefresh}. */
export interface RefreshOptions {
  readonly minTtl: number;
  readonly maxTtl: number;
  readonly scheduler: SchedulerLike;
  /** Period used when a lookup reports no TTL, before clamping. @defaultValue {@link DEFAULT_NO_TTL_PERIOD} */
  readonly noTtlPeriod?: number;
  /** A lookup that has not settled within this many ms fails with `TIMEOUT`. @defaultValue {@link DNS_LOOKUP_TIMEOUT} */
  readonly lookupTimeout?: number;
}

/**
 * Refresh period for records whose TTL Node's API does not report (TXT, SRV): 30 s, then clamped
 * to `[minTtl, maxTtl]` like any TTL.
 */
export const DEFAULT_NO_TTL_PERIOD = 30_000;

/** Bound on one lookup (all record types of one resolution), ms. */
export const DNS_LOOKUP_TIMEOUT = 5_000;

/** Per-query timeout and tries of the `dns.promises.Resolver` made for each subscription. */
export const DNS_QUERY_OPTIONS = { timeout: 2_000, tries: 2 } as const;

/** The refresh period for a TTL: `ttlMs` (or the no-TTL period) clamped to `[minTtl, maxTtl]`. */
export function refreshPeriod(ttlMs: number | undefined, options: RefreshOptions): number {
  const raw = ttlMs ?? options.noTtlPeriod ?? DEFAULT_NO_TTL_PERIOD;
  const safe = Number.isFinite(raw) && raw >= 0 ? raw : options.minTtl;
  return Math.min(options.maxTtl, Math.max(options.minTtl, safe));
}

/**
 * The TTL refresh loop: runs `lookup`, emits its addresses, waits the clamped TTL on
 * `options.scheduler`, and runs it again, forever. A failed (or timed-out) lookup errors the
 * stream; `watchAddresses` keeps the last good list and re-subscribes with back-off.
 * Unsubscribing cancels the wait (and ignores a lookup in flight).
 */
export function ttlRefresh(lookup: Lookup, options: RefreshOptions): Observable<readonly Address[]> {
  const limit = options.lookupTimeout ?? DNS_LOOKUP_TIMEOUT;
  const once = (): Observable<LookupResult> =>
    defer(lookup).pipe(
      timeout({
        first: limit,
        scheduler: options.scheduler,
        with: () => {
          throw new XhttpError('TIMEOUT', `DNS lookup did not answer within ${limit} ms`);
        },
      }),
    );
  return once().pipe(
    expand((result) => timer(refreshPeriod(result.ttlMs, options), options.scheduler).pipe(switchMap(once))),
    map((result) => result.addresses),
  );
}

/**
 * Runs `body` with a fresh `dns.promises.Resolver` per subscription, pointed at
 * `options.dnsServers` when given; the resolver's queries are cancelled on unsubscribe.
 */
export function withDnsResolver<T>(
  options: ResolveOptions | undefined,
  body: (resolver: dnsPromises.Resolver) => Observable<T>,
): Observable<T> {
  return defer(() => {
    const resolver = new dnsPromises.Resolver(DNS_QUERY_OPTIONS);
    if (options?.dnsServers && options.dnsServers.length > 0) resolver.setServers([...options.dnsServers]);
    return body(resolver).pipe(finalize(() => resolver.cancel()));
  });
}

/** Host, port and TTL of one A/AAAA answer set. */
export interface HostAnswer {
  readonly ips: readonly string[];
  readonly ttlMs: number | undefined;
}

/**
 * A and AAAA records of `host` (an IP literal is returned as is, with no TTL). Either query may
 * fail; both failing (or both empty) rejects with the A query's error unless it was only "no data".
 */
export async function lookupHost(resolver: dnsPromises.Resolver, host: string): Promise<HostAnswer> {
  if (isIP(host) !== 0) return { ips: [host], ttlMs: undefined };
  const [v4, v6] = await Promise.allSettled([
    resolver.resolve4(host, { ttl: true }),
    resolver.resolve6(host, { ttl: true }),
  ]);
  const records = [
    ...(v4.status === 'fulfilled' ? v4.value : []),
    ...(v6.status === 'fulfilled' ? v6.value : []),
  ];
  if (records.length === 0) {
    const errors = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const telling = errors.find((e) => (e as { code?: unknown })?.code !== 'ENODATA') ?? errors[0];
    throw telling ?? new XhttpError('NO_ADDRESS', `no A or AAAA record for ${host}`);
  }
  let ttl = Infinity;
  for (const r of records) ttl = Math.min(ttl, r.ttl);
  return { ips: records.map((r) => r.address), ttlMs: Number.isFinite(ttl) ? ttl * 1000 : undefined };
}

/** The host of a resolver URL, without IPv6 brackets. */
export function urlHost(target: URL): string {
  return target.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The port of a resolver URL, or `undefined`. */
export function urlPort(target: URL): number | undefined {
  return target.port === '' ? undefined : Number(target.port);
}

/** `ResolveOptions` → refresh options (the group always passes them; defaults for direct use). */
export function refreshOptions(
  options: ResolveOptions | undefined,
  scheduler: SchedulerLike,
  noTtlPeriod?: number,
): RefreshOptions {
  return {
    minTtl: options?.minTtl ?? 1_000,
    maxTtl: options?.maxTtl ?? 300_000,
    scheduler: options?.scheduler ?? scheduler,
    ...(noTtlPeriod === undefined ? {} : { noTtlPeriod }),
  };
}
