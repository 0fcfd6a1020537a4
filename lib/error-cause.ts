/**
 * Keeps secrets out of an error's `cause` chain. An error rxhttp raises carries the original failure
 * as `cause`, and some originals quote their input: Node's URL parser puts the
 * whole URL, query string and all, in `input`; a message may quote a URL with its query or its
 * userinfo. Such a cause is replaced by a copy (same prototype, so `instanceof`, `name` and `code`
 * still hold) whose strings are redacted; a clean cause, the usual case, is passed on as it is.
 */

/** How deep a cause chain (or nested own objects) is walked: chains may be cyclic or hostile. */
export const MAX_CAUSE_DEPTH = 8;
/** What stands in for a redacted query string or userinfo. */
export const REDACTED = '[redacted]';

// A query string: '?' and what follows up to whitespace or a quote. Userinfo: '//' … '@' before a host.
const QUERY = /\?[^\s'"`<>]+/g;
const USERINFO = /\/\/[^\s/?#@'"`<>]+@/g;
const SECRET_BEARING = /\?[^\s'"`<>]|\/\/[^\s/?#@'"`<>]+@/;

/**
 * `text` without query strings or URL userinfo.
 *
 * @example
 * ```ts
 * redactText('bad http://u:p@h/x?token=1'); // 'bad http://[redacted]@h/x?[redacted]'
 * ```
 */
export function redactText(text: string): string {
  if (!SECRET_BEARING.test(text)) return text;
  return text.replace(USERINFO, `//${REDACTED}@`).replace(QUERY, `?${REDACTED}`);
}

/**
 * `cause` as an error may carry it: itself when nothing in it (its own strings, its `cause` and
 * `errors`, nested objects) quotes a query string or userinfo, else a redacted copy.
 *
 * @example
 * ```ts
 * let cause: unknown;
 * try { new URL('http://exa mple/?token=x'); } catch (e) { cause = e; }
 * (safeCause(cause) as { input: string }).input; // 'http://exa mple/?[redacted]'
 * ```
 */
export function safeCause(cause: unknown): unknown {
  return isDirty(cause, 0) ? cleanCopy(cause, 0) : cause;
}

function isDirty(x: unknown, depth: number): boolean {
  if (typeof x === 'string') return SECRET_BEARING.test(x);
  if (typeof x !== 'object' || x === null || depth > MAX_CAUSE_DEPTH) return false;
  // Own properties only, enumerable or not: message, stack and cause are not enumerable on an Error.
  for (const key of Reflect.ownKeys(x)) {
    const d = Object.getOwnPropertyDescriptor(x, key);
    if (d !== undefined && 'value' in d && isDirty(d.value, depth + 1)) return true;
  }
  return false;
}

function cleanCopy(x: unknown, depth: number): unknown {
  if (typeof x === 'string') return redactText(x);
  if (typeof x !== 'object' || x === null) return x;
  // Past the depth bound nothing is kept: what was not checked cannot be passed on.
  if (depth > MAX_CAUSE_DEPTH) return undefined;
  const copy = (Array.isArray(x) ? [] : Object.create(Object.getPrototypeOf(x) as object | null)) as object;
  for (const key of Reflect.ownKeys(x)) {
    const d = Object.getOwnPropertyDescriptor(x, key);
    if (d === undefined || !('value' in d)) continue; // accessors might run user code: dropped
    Object.defineProperty(copy, key, { ...d, value: cleanCopy(d.value, depth + 1) });
  }
  return copy;
}
