/**
 * Deadline propagation, the pure part: the request header that carries a call's remaining time to
 * the server (as gRPC's `grpc-timeout` does), written by every attempt and read by a server made with
 * rxhttp (`rxhttp/nest`'s `RxHttpDeadlineInterceptor`, or `withDeadline` by hand).
 */

/**
 * The header each attempt carries: the call's time left, whole milliseconds, at least 1.
 * Envoy's `x-envoy-expected-rq-timeout-ms` has the same meaning and form, if you would rather use it.
 */
export const DEFAULT_DEADLINE_HEADER = 'x-rxhttp-deadline-ms';
/** Longest incoming deadline taken as it is, ms (a Node timer's limit); longer ones are clamped to it. */
export const MAX_DEADLINE_MS = 2_147_483_647;

const DIGITS = /^[0-9]+$/;

/** The header value for an attempt starting at `now` of a call due at `deadlineAt`: floor, at least 1 ms. */
export function deadlineHeaderValue(deadlineAt: number, now: number): string {
  const left = Math.floor(deadlineAt - now);
  // Never 0: many servers read 0 as "no deadline". Never more than we have: floor.
  return String(left > 1 ? left : 1);
}

/**
 * Reads an incoming deadline header: whole milliseconds as ASCII digits (space or tab around them
 * allowed), `0` meaning already past. Anything else — absent, empty, negative, fractional, signed,
 * hex, several values — is ignored (undefined), never an error; a value past
 * {@link MAX_DEADLINE_MS} is clamped to it.
 *
 * @example
 * ```ts
 * parseDeadlineHeader('250'); // 250
 * parseDeadlineHeader('-5'); // undefined
 * parseDeadlineHeader('99999999999999999999'); // 2147483647
 * ```
 */
export function parseDeadlineHeader(value: unknown): number | undefined {
  if (Array.isArray(value)) value = value.length === 1 ? value[0] : undefined;
  if (typeof value !== 'string') return undefined;
  const v = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (!DIGITS.test(v)) return undefined;
  const ms = Number(v);
  return ms > MAX_DEADLINE_MS ? MAX_DEADLINE_MS : ms;
}
