import { isIPv6 } from 'node:net';
/**
 * A model of rxhttp's request-header rules, written from RFC 9110 and the documented contract rather
 * than from `lib/client/headers.ts`, so the property specs can compare the code against it:
 *
 * - a name is an RFC 9110 token (`tchar`s), compared case-insensitively and sent lower-case;
 * - a value is a string (a finite number is taken as its decimal string) of field-value characters:
 *   visible ASCII, obs-text (U+0080–U+00FF), space and tab; CR, LF, NUL and every other control
 *   refused; the optional whitespace around it (space and tab, RFC 9110 §5.5) is not part of it;
 * - the connection-specific and framing headers the transport owns are refused (RFC 9110 §7.6.1
 *   and §6: Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade, Trailer,
 *   Content-Length, Expect);
 * - a Host value is `uri-host [ ":" port ]` (RFC 9110 §7.2; RFC 3986 §3.2.2: a reg-name of
 *   unreserved, pct-encoded and sub-delims characters, an IPv4 address, or an `[IPv6]` literal);
 * - headers come as a plain object, an array of `[name, value]` pairs or a WHATWG `Headers`; later
 *   entries win; `undefined` and `null` mean none.
 *
 * A refusal names the field: the headers argument itself (`headers`, `options.headers`) when its shape
 * or a name is wrong, `<field>.<lower-case name>` when a value is wrong or the header is reserved.
 */

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const RESERVED = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'content-length',
  'expect',
];

/** What the model says of one headers argument: the record it yields, or the field it refuses. */
export type HeaderVerdict = { ok: true; headers: Record<string, string> } | { ok: false; field: string };

/** RFC 9110 token. */
export function isTokenModel(s: string): boolean {
  if (s.length === 0) return false;
  for (const ch of s) if (!TCHAR.includes(ch)) return false;
  return true;
}

/** RFC 9110 field-value characters (before OWS is stripped). */
export function isFieldValueModel(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const ok = c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
    if (!ok) return false;
  }
  return true;
}

/** Strips RFC 9110 OWS (space and tab only) from both ends. */
export function stripOws(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * Applies one headers argument over `base` (a copy; `base` is left alone), as the model says.
 * `field` is the argument's name in errors.
 */
export function applyHeadersModel(
  base: Readonly<Record<string, string>>,
  input: unknown,
  field: string,
): HeaderVerdict {
  const out: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, base);
  if (input === undefined || input === null) return { ok: true, headers: out };
  if (typeof input !== 'object') return { ok: false, field };
  let entries: unknown[];
  if (input instanceof Headers) entries = [...input];
  else if (Array.isArray(input)) entries = input;
  else entries = Object.keys(input).map((k) => [k, (input as Record<string, unknown>)[k]]);
  // Entry by entry, in order: the first wrong one is the one named.
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2) return { ok: false, field };
    const [name, raw] = entry as [unknown, unknown];
    if (typeof name !== 'string' || !isTokenModel(name)) return { ok: false, field };
    const lower = name.toLowerCase();
    if (RESERVED.includes(lower)) return { ok: false, field: `${field}.${lower}` };
    const value = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
    if (typeof value !== 'string' || !isFieldValueModel(value))
      return { ok: false, field: `${field}.${lower}` };
    const v = stripOws(value);
    if (lower === 'host' && !isHostValueModel(v)) return { ok: false, field: `${field}.host` };
    out[lower] = v;
  }
  return { ok: true, headers: out };
}

/** RFC 9110 §7.2 Host: uri-host [ ":" port ] (RFC 3986 §3.2.2, §3.2.3). */
export function isHostValueModel(v: string): boolean {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(v);
  if (m === null) return false;
  const [, host, port] = m as unknown as [string, string, string | undefined];
  if (port !== undefined && !/^[0-9]*$/.test(port)) return false;
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1));
  const unreserved = /[A-Za-z0-9\-._~]/;
  const subDelims = /[!$&'()*+,;=]/;
  for (let i = 0; i < host.length; i++) {
    const ch = host[i]!;
    if (unreserved.test(ch) || subDelims.test(ch)) continue;
    if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(host.slice(i + 1, i + 3))) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}
