import { isIPv4, isIPv6 } from 'node:net';
import { invalidArgument } from '../errors.js';
import { addressKey } from '../events/events.js';
import type { Address } from '../types.js';

// RFC 1123 host names (underscores allowed, as SRV and Kubernetes names use them) and IPv4.
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;
// Four all-digit labels read as an IPv4 address (RFC 1123 §2.1): 999.1.1.1 is neither a host name nor an IP.
const DOTTED_DECIMAL = /^\d+\.\d+\.\d+\.\d+\.?$/;

/** Validates a port number (1–65535). */
export function parsePort(text: string, field: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  if (port < 1 || port > 65535)
    throw invalidArgument(field, `port must be an integer from 1 to 65535 (got '${text.slice(0, 16)}')`);
  return port;
}

/** Validates a host name, IPv4 or bracket-less IPv6 literal. */
export function checkHost(host: string, field: string): string {
  if (host.includes(':')) {
    if (!IPV6.test(host) || !isIPv6(host)) throw invalidArgument(field, 'malformed IPv6 address');
    return host.toLowerCase();
  }
  if (DOTTED_DECIMAL.test(host)) {
    if (!isIPv4(host.endsWith('.') ? host.slice(0, -1) : host))
      throw invalidArgument(field, 'malformed IPv4 address (four numbers from 0 to 255, no leading zeros)');
    return host;
  }
  if (!HOSTNAME.test(host)) throw invalidArgument(field, 'malformed host name');
  return host.toLowerCase();
}

/**
 * Parses `host:port`, `[v6]:port`, or `host` (with `defaultPort`).
 *
 * @example parseHostPort('[::1]:8080', 'target') // { host: '::1', port: 8080 }
 */
export function parseHostPort(text: string, field: string, defaultPort?: number): Address {
  const s = text.trim();
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw invalidArgument(field, 'unclosed [ in IPv6 address');
    host = s.slice(1, end);
    if (!host.includes(':')) throw invalidArgument(field, 'only an IPv6 address goes in [brackets]');
    const rest = s.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw invalidArgument(field, 'expected :port after ]');
      portText = rest.slice(1);
    }
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0 && s.indexOf(':') !== colon) throw invalidArgument(field, 'IPv6 addresses need brackets');
    host = colon >= 0 ? s.slice(0, colon) : s;
    portText = colon >= 0 ? s.slice(colon + 1) : undefined;
  }
  if (host === '') throw invalidArgument(field, 'empty host');
  const port = portText === undefined ? defaultPort : parsePort(portText, field);
  if (port === undefined) throw invalidArgument(field, 'missing port');
  return { host: checkHost(host, field), port };
}

/** True when both lists hold the same addresses (weights and priorities included), in any order. */
export function sameAddressSet(a: readonly Address[], b: readonly Address[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const seen = new Map<string, number>();
  for (const x of a) seen.set(fullKey(x), (seen.get(fullKey(x)) ?? 0) + 1);
  for (const x of b) {
    const n = seen.get(fullKey(x));
    if (!n) return false;
    seen.set(fullKey(x), n - 1);
  }
  return true;
}

function fullKey(a: Address): string {
  return `${addressKey(a)}/${a.weight ?? ''}/${a.priority ?? ''}`;
}
