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
 * Parses a group target (the forms are listed under "AddressGroup" in docs/api.md).
 * `dns://txt:domain:port` becomes the `dns+txt` resolver with `dns+txt://domain:port`, so every
 * resolver receives a proper URL. A target names servers only: a path, query or credentials in it
 * are refused with a message that says so (the path belongs to each call).
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
      for (const p of parts) checkAuthority(p, 'a static:// target', field);
      return { kind: 'static', addresses: parts.map((p) => parseHostPort(p, field)) };
    }
    case 'http':
    case 'https': {
      // A bare trailing slash is how origins are often written; anything more is a path.
      const authority = rest.replace(/\/+$/, '');
      checkAuthority(authority, `an ${scheme}:// target`, field);
      const address = parseHostPort(authority, field, scheme === 'https' ? 443 : 80);
      return { kind: 'static', addresses: [address], protocol: scheme };
    }
    case 'dns': {
      checkAuthority(rest, 'a dns:// target', field);
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

const ENTRY_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const MAX_SHOWN_PATH = 64;

/**
 * Refuses what a server list cannot hold, naming it in the user's terms: a scheme inside an
 * entry, credentials, or a path (shown, without any query, which may hold secrets).
 */
function checkAuthority(entry: string, what: string, field: string): void {
  if (ENTRY_SCHEME.test(entry))
    throw invalidArgument(field, `${what} lists host:port entries without a scheme`);
  if (entry.includes('@'))
    throw invalidArgument(field, `${what} takes no credentials; send them as headers on each call`);
  const cut = entry.search(/[/?#]/);
  if (cut < 0) return;
  const rest = entry.slice(cut);
  const path = rest.split(/[?#]/, 1)[0]!;
  const shown = path.length > MAX_SHOWN_PATH ? `${path.slice(0, MAX_SHOWN_PATH)}…` : path;
  throw invalidArgument(
    field,
    /^\/*$/.test(path) && rest.length > path.length
      ? `${what} takes no query or fragment; give them to each call`
      : `${what} takes no path (got '${shown}' after ${entry.slice(0, cut)}); give the path to each call`,
  );
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
