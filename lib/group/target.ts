import { invalidArgument } from '../errors.js';
import type { Address } from '../types.js';
import { parseHostPort } from './address.js';

/** A parsed group target: a fixed list, or a resolver scheme with the URL it receives. */
export type ParsedTarget =
  | { readonly kind: 'static'; readonly addresses: readonly Address[]; readonly protocol?: 'http' | 'https' }
  | { readonly kind: 'resolver'; readonly scheme: string; readonly url: URL };

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i;
const MAX_TARGET_LENGTH = 4096;

/**
 * Parses a group target (see the table in API.md). `dns://txt:domain:port` becomes the
 * `dns+txt` resolver with `dns+txt://domain:port`, so every resolver receives a proper URL.
 */
export function parseTarget(target: unknown, field = 'target'): ParsedTarget {
  if (typeof target !== 'string' || target === '') throw invalidArgument(field, 'must be a non-empty string');
  if (target.length > MAX_TARGET_LENGTH) throw invalidArgument(field, 'too long');
  if (/[\s\u0000-\u001f\u007f]/.test(target.trim()) || target !== target.trim())
    throw invalidArgument(field, 'must not contain whitespace or control characters');
  const m = SCHEME.exec(target);
  if (!m) throw invalidArgument(field, 'expected scheme://…');
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  switch (scheme) {
    case 'static': {
      const parts = rest.split(',');
      if (parts.some((p) => p === '')) throw invalidArgument(field, 'empty entry in static list');
      return { kind: 'static', addresses: parts.map((p) => parseHostPort(p, field)) };
    }
    case 'http':
    case 'https': {
      const authority = rest.replace(/\/+$/, '');
      if (
        authority.includes('/') ||
        authority.includes('?') ||
        authority.includes('#') ||
        authority.includes('@')
      )
        throw invalidArgument(field, 'an origin has no path, query or credentials');
      const address = parseHostPort(authority, field, scheme === 'https' ? 443 : 80);
      return { kind: 'static', addresses: [address], protocol: scheme };
    }
    case 'dns': {
      if (rest.toLowerCase().startsWith('txt:')) {
        const hp = parseHostPort(rest.slice(4), field);
        return { kind: 'resolver', scheme: 'dns+txt', url: toUrl(`dns+txt://${hostPort(hp)}`, field) };
      }
      const hp = parseHostPort(rest, field);
      return { kind: 'resolver', scheme: 'dns', url: toUrl(`dns://${hostPort(hp)}`, field) };
    }
    case 'dns+srv': {
      if (rest === '' || rest.includes('/') || rest.includes(':') || rest.includes('?'))
        throw invalidArgument(field, 'expected dns+srv://_service._proto.domain');
      parseHostPort(rest, field, 1); // validates the name
      return { kind: 'resolver', scheme, url: toUrl(`dns+srv://${rest}`, field) };
    }
    default:
      return { kind: 'resolver', scheme, url: toUrl(target, field) };
  }
}

function hostPort(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function toUrl(text: string, field: string): URL {
  try {
    return new URL(text);
  } catch (cause) {
    throw invalidArgument(field, 'not a valid URL', cause);
  }
}
