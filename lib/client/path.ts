import { invalidArgument } from '../errors.js';

/** Longest path and query a call takes, characters. */
export const MAX_PATH_LENGTH = 65_536;
/**
 * A target sent as it is: '/', not '//', then visible ASCII but '#' and '\' (anything else is
 * percent-encoded first or refused). One test, no allocation: the common case.
 */
const PLAIN = /^\/(?!\/)[\x21-\x22\x24-\x5b\x5d-\x7e]*$/;
/** Characters a path or query may hold once encoded: visible ASCII but '#'. */
const VISIBLE = /^[\x21-\x22\x24-\x7e]*$/;
/** What is encoded rather than refused: a space and every non-ASCII character. */
const ENCODABLE = /[ \u0080-\uffff]+/g;

/**
 * Validates a request target (path and optional query) and percent-encodes its spaces and
 * non-ASCII characters (as UTF-8), as a URL parser would; anything else must already be
 * percent-encoded. Refused (`INVALID_ARGUMENT` naming `field`): control characters (CR, LF, NUL,
 * tab, DEL: they would split the request line), `#`, a target not starting with `/`, and for a
 * `path` anything that could make a URL parser read another origin — a leading `//` or a
 * backslash before the query.
 */
export function checkTarget(target: unknown, field: string): string {
  if (typeof target !== 'string' || target.length > MAX_PATH_LENGTH)
    throw invalidArgument(field, 'must be a string');
  if (PLAIN.test(target)) return target;
  const encoded = encodeSpaces(target, field);
  const qi = encoded.indexOf('?');
  const path = qi < 0 ? encoded : encoded.slice(0, qi);
  if (path[0] !== '/' || !VISIBLE.test(path))
    throw invalidArgument(field, "must start with '/' and hold no control characters or '#'");
  // A url's target came out of WHATWG URL, its origin settled; a path's is ours to keep.
  if (field !== 'url' && (path.startsWith('//') || path.includes('\\')))
    throw invalidArgument(field, "must not start with '//' or hold a backslash");
  if (qi >= 0 && !VISIBLE.test(encoded.slice(qi + 1)))
    throw invalidArgument(field, 'query holds control characters or #');
  if (encoded.length > MAX_PATH_LENGTH) throw invalidArgument(field, 'is too long');
  return encoded;
}

function encodeSpaces(target: string, field: string): string {
  try {
    return target.replace(ENCODABLE, encodeURIComponent);
  } catch (cause) {
    // A lone surrogate has no UTF-8 form.
    throw invalidArgument(field, 'holds a lone surrogate', cause);
  }
}

/**
 * A group's base path, validated and normalized: `''` for none or `/`, else `/seg…` without a
 * trailing slash; no query, fragment or controls.
 */
export function checkBasePath(basePath: unknown, field: string): string {
  if (basePath === undefined) return '';
  if (typeof basePath !== 'string' || basePath.includes('?'))
    throw invalidArgument(field, "must be a path starting with '/', without a query");
  const p = checkTarget(basePath, field);
  return p.endsWith('/') ? p.slice(0, -1) : p;
}
