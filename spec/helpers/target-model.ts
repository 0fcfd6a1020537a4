import { isIPv4, isIPv6 } from 'node:net';
import type { Address } from '../../lib/types.js';

/**
 * A model of what `new AddressGroup(target, options)` accepts, written from the target table in
 * API.md and the RFCs it leans on (RFC 3986 schemes, ports and IP literals; RFC 1123 host names, with
 * `_` allowed for SRV and Kubernetes names), not from `lib/group/target.ts`, so the property specs can
 * compare the two. It answers with the addresses a fixed target yields, or with every field at fault
 * (the code must name one of them; which one when several are wrong is its own business).
 */
export type TargetVerdict =
  | { ok: true; addresses: readonly Address[] | undefined; protocol: 'http' | 'https' | undefined }
  | { ok: false };

/** The limit the code puts on a target's length (a sanity bound, not a URL rule). */
export const MAX_TARGET_LENGTH = 4096;

/** RFC 1123 labels of letters, digits, `_` and inner `-`, 1–63 each, 253 in all, a final dot allowed. */
function isHostName(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l))) return false;
  // RFC 1123 §2.1: a host name never has the dotted-decimal form; that form must be an IPv4 address.
  if (labels.length === 4 && labels.every((l) => /^\d+$/.test(l))) return isIPv4(name);
  return true;
}

/** `host:port`, `[v6]:port`, or `host` when a default port is given; the host lower-cased. */
export function hostPortModel(text: string, defaultPort?: number): Address | undefined {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (v6 !== null) {
    host = v6[1]!;
    portText = v6[2];
    // An IP literal holds an IPv6 address (zone identifiers are not supported).
    if (!isIPv6(host) || host.includes('%')) return undefined;
  } else {
    if (text.includes('[') || text.includes(']')) return undefined;
    const parts = text.split(':');
    if (parts.length > 2) return undefined; // an IPv6 address without brackets
    host = parts[0]!;
    portText = parts[1];
    if (!isIPv4(host) && !isHostName(host)) return undefined;
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
  }
  if (port === undefined || port < 1 || port > 65_535) return undefined;
  return { host: host.toLowerCase(), port };
}

/** The model's verdict on a target, given the schemes that have a registered resolver. */
export function targetModel(
  target: unknown,
  resolverSchemes: ReadonlySet<string>,
): TargetVerdict {
  const no = { ok: false } as const;
  if (typeof target !== 'string' || target === '' || target.length > MAX_TARGET_LENGTH) return no;
  if (/[\s\u0000-\u001f\u007f]/u.test(target)) return no;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(target);
  if (m === null) return no;
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  const fixed = (addresses: (Address | undefined)[], protocol?: 'http' | 'https'): TargetVerdict =>
    addresses.every((a) => a !== undefined) ? { ok: true, addresses: addresses as Address[], protocol } : no;
  const resolved = (ok: boolean): TargetVerdict =>
    ok ? { ok: true, addresses: undefined, protocol: undefined } : no;
  switch (scheme) {
    case 'static':
      return fixed(rest.split(',').map((e) => hostPortModel(e)));
    case 'http':
    case 'https': {
      // An origin: trailing slashes allowed, no path, query, fragment or credentials.
      const authority = rest.replace(/\/+$/, '');
      if (/[/?#@]/.test(authority)) return no;
      return fixed([hostPortModel(authority, scheme === 'https' ? 443 : 80)], scheme);
    }
    case 'dns':
      return resolved(
        hostPortModel(/^txt:/i.test(rest) ? rest.slice(4) : rest) !== undefined,
      );
    case 'dns+srv':
      // _service._proto.domain: a name alone, no port, path or query.
      return resolved(/^[^:/?]+$/.test(rest) && hostPortModel(rest, 1) !== undefined);
    default:
      return resolved(resolverSchemes.has(scheme) && URL.canParse(target));
  }
}

/** Field names (under `options.`) of group options the model finds wrong; empty when all are fine. */
export function groupOptionsModel(options: unknown): Set<string> {
  const wrong = new Set<string>();
  if (options === undefined) return wrong;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return new Set(['options']);
  const o = options as Record<string, unknown>;
  const known = ['loadBalancer', 'protocol', 'dnsServers', 'minTtl', 'maxTtl', 'name', 'scheduler', 'random'];
  for (const k of Object.keys(o)) if (!known.includes(k)) wrong.add(`options.${k}`);
  const get = (k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);
  const name = get('name');
  if (name !== undefined && (typeof name !== 'string' || name === '')) wrong.add('options.name');
  const protocol = get('protocol');
  if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') wrong.add('options.protocol');
  const duration = (v: unknown) =>
    v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 2_147_483_647);
  const minTtl = get('minTtl');
  const maxTtl = get('maxTtl');
  if (!duration(minTtl)) wrong.add('options.minTtl');
  if (!duration(maxTtl)) wrong.add('options.maxTtl');
  if (duration(minTtl) && duration(maxTtl) && ((minTtl as number) ?? 1_000) > ((maxTtl as number) ?? 300_000))
    wrong.add('options.minTtl');
  const servers = get('dnsServers');
  if (
    servers !== undefined &&
    (!Array.isArray(servers) ||
      !servers.every((s) => {
        if (typeof s !== 'string') return false;
        const a = hostPortModel(s.trim(), 53);
        return a !== undefined && (isIPv4(a.host) || isIPv6(a.host));
      }))
  )
    wrong.add('options.dnsServers');
  const random = get('random');
  if (random !== undefined && typeof random !== 'function') wrong.add('options.random');
  // null is taken as "none" here, as the code does (`??`); anything else must be a SchedulerLike.
  const scheduler = get('scheduler') as { now?: unknown; schedule?: unknown } | undefined | null;
  if (
    scheduler !== undefined &&
    scheduler !== null &&
    (typeof scheduler !== 'object' ||
      scheduler === null ||
      typeof scheduler.now !== 'function' ||
      typeof scheduler.schedule !== 'function')
  )
    wrong.add('options.scheduler');
  const balancer = get('loadBalancer') as { pick?: unknown } | undefined;
  const names = ['round-robin', 'random', 'p2c', 'p2c-ewma', 'weighted-round-robin'];
  if (
    balancer !== undefined &&
    !(typeof balancer === 'string' && names.includes(balancer)) &&
    !(typeof balancer === 'object' && balancer !== null && typeof balancer.pick === 'function')
  )
    wrong.add('options.loadBalancer');
  return wrong;
}
