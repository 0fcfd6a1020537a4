/**
 * Small pure helpers that keep user data out of metric labels and span tags. Labels and tags may hold
 * the method and the host; never a path segment beyond what the caller chose as a path template, never
 * a query string, fragment or header value.
 */

/** Methods that get their own label value; everything else is `_OTHER` (OpenTelemetry HTTP conventions). */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/**
 * The method as a bounded label value: the upper-case method when it is a standard one, else `_OTHER`,
 * so a caller passing arbitrary method strings cannot explode the series count.
 *
 * @example
 * ```ts
 * methodLabel('get'); // 'GET'
 * methodLabel('PURGE'); // '_OTHER'
 * ```
 */
export function methodLabel(method: string): string {
  if (KNOWN_METHODS.has(method)) return method;
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

/**
 * The path of a path or absolute URL, without query string or fragment; `/` when empty.
 *
 * @example
 * ```ts
 * pathOnly('/secret/42?token=x'); // '/secret/42'
 * pathOnly('http://u:p@host:8080/a/b?q=1#f'); // '/a/b'
 * ```
 */
export function pathOnly(pathOrUrl: string): string {
  let end = pathOrUrl.length;
  const q = pathOrUrl.indexOf('?');
  if (q !== -1) end = q;
  const h = pathOrUrl.indexOf('#');
  if (h !== -1 && h < end) end = h;
  let s = pathOrUrl.slice(0, end);
  const scheme = s.indexOf('://');
  if (scheme !== -1) {
    // Absolute URL: drop scheme, userinfo and authority so credentials never reach a tag.
    const slash = s.indexOf('/', scheme + 3);
    s = slash === -1 ? '' : s.slice(slash);
  }
  return s === '' ? '/' : s;
}

/**
 * A user-built name (breaker key, group name) made safe as a label value: the query string and fragment
 * are cut, and any path after the authority is collapsed to `/*`. Breaker keys default to `host:port` and
 * pass unchanged; a custom key such as `host:port/users/42` would otherwise create one series per path,
 * which is both a cardinality bomb and a leak of user data, so every such key shares the `host:port/*`
 * series. Userinfo (`user:pass@`) is dropped from URL-like values.
 *
 * @example
 * ```ts
 * labelSafe('10.0.0.1:8080'); // '10.0.0.1:8080'
 * labelSafe('api:443/users/42?token=x'); // 'api:443/*'
 * labelSafe('http://u:p@api:80/x'); // 'http://api:80/*'
 * ```
 */
export function labelSafe(name: string): string {
  let s = name;
  const q = s.search(/[?#]/);
  if (q !== -1) s = s.slice(0, q);
  const schemeAt = s.indexOf('://');
  const authorityStart = schemeAt === -1 ? 0 : schemeAt + 3;
  const slash = s.indexOf('/', authorityStart);
  let authority = slash === -1 ? s.slice(authorityStart) : s.slice(authorityStart, slash);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  const prefix = schemeAt === -1 ? '' : s.slice(0, authorityStart);
  return prefix + authority + (slash === -1 ? '' : '/*');
}

// Segments that look like identifiers or tokens rather than route names.
const ID_SEGMENT =
  /^(?:\d+|[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|.*\d.*\d.*\d.*|.{33,})$/i;

/**
 * A route-like form of a path for span tags: segments that look like ids or tokens (numbers, hex,
 * UUIDs, anything with three digits or over 32 characters) become `{id}`, so no raw path (user
 * ids, tokens in paths) reaches a trace.
 *
 * @example
 * ```ts
 * routeTemplate('/users/42/orders/9f8e7d6c5b4a'); // '/users/{id}/orders/{id}'
 * ```
 */
export function routeTemplate(path: string): string {
  let template = templates.get(path);
  if (template !== undefined) return template;
  const p = pathOnly(path);
  template =
    p === '/'
      ? p
      : p
          .split('/')
          .map((seg) => (seg !== '' && ID_SEGMENT.test(seg) ? '{id}' : seg))
          .join('/');
  // Services call a handful of paths over and over: remember them (bounded; cleared when full).
  if (templates.size >= MAX_TEMPLATES) templates.clear();
  templates.set(path, template);
  return template;
}

/** Recent paths and their templates: the split, regex and join cost ~0.5 µs per traced call. */
const templates = new Map<string, string>();
const MAX_TEMPLATES = 1_000;
