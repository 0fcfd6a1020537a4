import { parseRetryAfter } from '../resilience/retry-after.js';

/**
 * Reading an outcome the operators did not make: a fetch `Response`, an rxhttp response, an
 * Angular `HttpResponse` or `HttpErrorResponse`, an axios-style error with a `response`. Duck-typed
 * and defensive: any shape, `null` or a throwing getter gives `undefined`, never an exception.
 */

type Bag = Record<string, unknown>;

function bag(x: unknown): Bag | undefined {
  return typeof x === 'object' && x !== null ? (x as Bag) : undefined;
}

function read(x: Bag | undefined, key: string): unknown {
  try {
    return x?.[key];
  } catch {
    return undefined;
  }
}

/**
 * The HTTP status of a value or error: its own numeric `status`, or its `response.status`. Only a
 * real status counts (an integer from 100 to 599): Angular's `HttpErrorResponse` says `status: 0`
 * for a network failure, as an opaque fetch response does, and that is no answer from the host.
 */
export function statusOf(x: unknown): number | undefined {
  const own = read(bag(x), 'status');
  if (isHttpStatus(own)) return own;
  const nested = read(bag(read(bag(x), 'response')), 'status');
  return isHttpStatus(nested) ? nested : undefined;
}

function isHttpStatus(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599;
}

/** One header of a `Headers`-like object (with `get`) or a plain record (names lower case). */
function header(headers: unknown, name: string): string | readonly string[] | undefined {
  const h = bag(headers);
  if (h === undefined) return undefined;
  try {
    if (typeof h.get === 'function') {
      const v: unknown = (h.get as (n: string) => unknown).call(h, name);
      return typeof v === 'string' ? v : undefined;
    }
  } catch {
    return undefined;
  }
  const v = read(h, name);
  return typeof v === 'string' || (Array.isArray(v) && v.every((e) => typeof e === 'string'))
    ? (v as string | string[])
    : undefined;
}

/** A value's or error's headers: its own `headers`, else its `response.headers`. */
function headersOf(x: unknown): unknown {
  return read(bag(x), 'headers') ?? read(bag(read(bag(x), 'response')), 'headers');
}

/** The raw `Retry-After` header of a value or error, whatever its status. */
export function retryAfterHeaderOf(x: unknown): string | readonly string[] | undefined {
  return header(headersOf(x), 'retry-after');
}

/**
 * The `Retry-After` delay (ms) a 429 or 503 asks for, when the outcome has one and it parses
 * (RFC 9110 delay-seconds or HTTP-date; see `parseRetryAfter`); undefined otherwise.
 */
export function retryAfterOf(x: unknown, now: number): number | undefined {
  const status = statusOf(x);
  if (status !== 429 && status !== 503) return undefined;
  return parseRetryAfter(header(headersOf(x), 'retry-after'), now);
}
