import { isIPv6 } from 'node:net';
import { invalidArgument } from '../errors.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; never CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** RFC 9110 §7.2 Host = uri-host [ ":" port ], uri-host a reg-name (RFC 3986 §3.2.2) or IPv4. */
const HOST_VALUE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*(?::[0-9]*)?$/;
/** Hop-by-hop and framing headers the transport owns; letting callers set them invites smuggling. */
const FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'content-length',
  'expect',
]);

/** True for an RFC 9110 token (method or header name). */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/**
 * Validates and lower-cases headers into a null-prototype record. A CR, LF or NUL anywhere,
 * a non-token name, or a framing header throws `INVALID_ARGUMENT` — before anything is sent.
 * The message names the header, never its value.
 */
export function normalizeHeaders(input: unknown, field: string): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  addHeaders(out, input, field);
  return out;
}

/** Adds `input` over `out` (later wins), validating as {@link normalizeHeaders}. */
export function addHeaders(out: Record<string, string>, input: unknown, field: string): void {
  if (input === undefined || input === null) return;
  if (typeof input !== 'object')
    throw invalidArgument(field, 'must be an object, array of pairs, or Headers');
  if (typeof (input as Headers).forEach === 'function' && typeof (input as Headers).get === 'function') {
    (input as Headers).forEach((value, name) => set(out, name, value, field));
    return;
  }
  if (Array.isArray(input)) {
    for (const pair of input) {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw invalidArgument(field, 'each entry must be a [name, value] pair');
      set(out, pair[0], pair[1], field);
    }
    return;
  }
  for (const name of Object.keys(input)) set(out, name, (input as Record<string, unknown>)[name], field);
}

function set(out: Record<string, string>, name: unknown, value: unknown, field: string): void {
  if (typeof name !== 'string' || !TOKEN.test(name))
    throw invalidArgument(field, 'header name is not a valid token');
  const lower = name.toLowerCase();
  if (FORBIDDEN.has(lower)) throw invalidArgument(`${field}.${lower}`, 'header is managed by the transport');
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') throw invalidArgument(`${field}.${lower}`, 'header value must be a string');
  if (!FIELD_VALUE.test(value))
    throw invalidArgument(
      `${field}.${lower}`,
      'header value contains forbidden characters (CR, LF, NUL or controls)',
    );
  const v = trimOws(value);
  // undici parses Host itself (and asserts on a malformed IP literal): refuse what RFC 9110 refuses.
  if (lower === 'host' && !HOST_VALUE.test(v) && !isIpLiteralHost(v))
    throw invalidArgument(`${field}.host`, 'must be host[:port]: a name, an IPv4 address or an [IPv6] literal');
  out[lower] = v;
}

/** Trims optional white space as RFC 9110 §5.5 means it: space and tab only (not U+00A0 as `trim()` does). */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** `[IPv6]` or `[IPv6]:port`, the IP-literal form of a Host value. */
function isIpLiteralHost(v: string): boolean {
  const end = v.indexOf(']');
  if (v[0] !== '[' || end < 0) return false;
  const rest = v.slice(end + 1);
  return isIPv6(v.slice(1, end)) && (rest === '' || /^:[0-9]*$/.test(rest));
}
