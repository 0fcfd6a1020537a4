import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { defer, finalize, type Observable } from 'rxjs';
import { backgroundScheduler } from '../internal/background.js';
import { invalidArgument, XhttpError } from '../errors.js';
import type { Address, ResolveOptions } from '../types.js';
import {
  DEFAULT_MAX_TTL,
  DEFAULT_MIN_TTL,
  ttlRefresh,
  type LookupResult,
  type TtlRefreshOptions,
} from './ttl.js';

/** Tuning of a built-in DNS resolver; the defaults suit production, specs shorten them. */
export interface DnsSettings {
  /** First per-query timeout handed to c-ares (it doubles on each try), ms. @defaultValue {@link DEFAULT_DNS_QUERY_TIMEOUT} */
  readonly queryTimeout?: number;
  /** Tries per query and server. @defaultValue {@link DEFAULT_DNS_TRIES} */
  readonly tries?: number;
  /** Bound on one whole resolution, ms. @defaultValue `DEFAULT_LOOKUP_TIMEOUT` (5 s) */
  readonly lookupTimeout?: number;
  /** Refresh period, before clamping, of answers without a TTL (TXT, SRV). @defaultValue `DEFAULT_NO_TTL_PERIOD` (30 s) */
  readonly noTtlPeriod?: number;
}

/** First c-ares query timeout, ms. */
export const DEFAULT_DNS_QUERY_TIMEOUT = 2_000;
/** c-ares tries per query and server. */
export const DEFAULT_DNS_TRIES = 2;

/** The addresses of one host and the shortest TTL among them (ms; `undefined` for an IP literal). */
export interface HostAnswer {
  readonly ips: readonly string[];
  readonly ttlMs: number | undefined;
}

/**
 * The TTL refresh loop over a fresh `dns.promises.Resolver` per subscription, pointed at
 * `options.dnsServers` when given. Unsubscribing (a group closing, or re-subscribing after an
 * error) cancels the resolver's pending queries, so no socket or c-ares timer outlives it.
 */
export function dnsRefresh(
  options: ResolveOptions | undefined,
  settings: DnsSettings,
  lookup: (resolver: dnsPromises.Resolver) => Promise<LookupResult>,
): Observable<readonly Address[]> {
  return defer(() => {
    const resolver = new dnsPromises.Resolver({
      timeout: settings.queryTimeout ?? DEFAULT_DNS_QUERY_TIMEOUT,
      tries: settings.tries ?? DEFAULT_DNS_TRIES,
    });
    const servers = options?.dnsServers;
    if (servers !== undefined && servers.length > 0) {
      try {
        resolver.setServers([...servers]);
      } catch (cause) {
        throw invalidArgument('dnsServers', 'expected IP or IP:port entries', cause);
      }
    }
    return ttlRefresh(() => lookup(resolver), refreshOptions(options, settings)).pipe(
      finalize(() => resolver.cancel()),
    );
  });
}

/**
 * A and AAAA records of `host` (an IP literal is returned as is). Either family may be missing;
 * both missing rejects, preferring the error that says more than "no data" (NXDOMAIN, timeout).
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
    const telling = errors.find((e) => errorCode(e) !== 'ENODATA') ?? errors[0];
    throw dnsError(telling, 'A/AAAA', host);
  }
  let ttl = Infinity;
  for (const r of records) ttl = Math.min(ttl, r.ttl);
  return { ips: records.map((r) => r.address), ttlMs: Number.isFinite(ttl) ? ttl * 1000 : undefined };
}

/**
 * Wraps a node:dns failure as an `XhttpError`: `TIMEOUT` for a query timeout, `NO_ADDRESS`
 * otherwise (NXDOMAIN, no data, refused…), keeping the DNS code in the message and the original
 * as `cause`, so resolver-error events carry a stable code.
 */
export function dnsError(error: unknown, rrtype: string, name: string): XhttpError {
  if (error instanceof XhttpError) return error;
  const code = errorCode(error) ?? 'no answer';
  const options = error === undefined ? {} : { cause: error };
  return new XhttpError(
    code === 'ETIMEOUT' ? 'TIMEOUT' : 'NO_ADDRESS',
    `DNS ${rrtype} ${name}: ${code}`,
    options,
  );
}

/** The host of a resolver URL, without IPv6 brackets. */
export function urlHost(target: URL): string {
  return target.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The port of a resolver URL, or `undefined` when it has none. */
export function urlPort(target: URL): number | undefined {
  return target.port === '' ? undefined : Number(target.port);
}

function refreshOptions(options: ResolveOptions | undefined, settings: DnsSettings): TtlRefreshOptions {
  return {
    // A group always passes its own clamp; the same defaults serve a resolver used directly.
    minTtl: options?.minTtl ?? DEFAULT_MIN_TTL,
    maxTtl: options?.maxTtl ?? DEFAULT_MAX_TTL,
    scheduler: options?.scheduler ?? backgroundScheduler,
    ...(settings.noTtlPeriod === undefined ? {} : { noTtlPeriod: settings.noTtlPeriod }),
    ...(settings.lookupTimeout === undefined ? {} : { lookupTimeout: settings.lookupTimeout }),
  };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
