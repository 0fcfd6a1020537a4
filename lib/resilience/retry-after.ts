/**
 * Longest delay a `Retry-After` may ask for, ms (one day). A server asking for more is treated as
 * asking for this; the caller also caps the delay by what is left of the call's deadline.
 */
export const MAX_RETRY_AFTER_MS = 86_400_000;

// Longer values cannot be a valid delay-seconds (capped anyway) or HTTP-date: skip the regexes.
const MAX_LENGTH = 64;

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// RFC 9110 §5.6.7. Anchored, no nested quantifiers: linear time on any input.
// Names are matched case-insensitively, as lenient recipients (and caches, RFC 9111 §4.2) do.
/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
/** Obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
/** Obsolete asctime: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`, 'i');
const DELAY_SECONDS = /^\d+$/;

/**
 * Parses a `Retry-After` header (RFC 9110 §10.2.3) into a delay in ms from `nowMs`.
 *
 * Accepts delay-seconds (a non-negative integer; decimals are invalid, as in the RFC) and an
 * HTTP-date in IMF-fixdate form or the obsolete RFC 850 and asctime forms, which the RFC asks
 * recipients to accept. Dates are parsed by exact grammar, not `Date.parse`, whose leniency is
 * engine-defined (it reads `"1"` as a year). A date in the past gives 0; any delay is capped at
 * {@link MAX_RETRY_AFTER_MS}.
 *
 * Returns `undefined` for anything invalid: a missing header, garbage, an impossible date
 * (`31 Feb`), or several different values (a repeated header is ambiguous; identical repeats are
 * accepted). Never throws, never returns NaN.
 *
 * @example
 * ```ts
 * parseRetryAfter('120', now)                            // 120_000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)  // ms until then, or 0 when past
 * ```
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  nowMs: number,
): number | undefined {
  const text = single(value);
  if (text === undefined) return undefined;
  if (DELAY_SECONDS.test(text)) return Math.min(MAX_RETRY_AFTER_MS, Number(text) * 1000);
  if (!Number.isFinite(nowMs)) return undefined;
  const at = parseHttpDate(text, nowMs);
  if (at === undefined) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - nowMs));
}

/** The one trimmed field value, or undefined when absent, too long or ambiguous. */
function single(value: string | readonly string[] | undefined): string | undefined {
  let raw: unknown = value;
  if (Array.isArray(value)) {
    const first: unknown = value[0];
    if (typeof first !== 'string' || value.some((v) => v !== first)) return undefined;
    raw = first;
  }
  if (typeof raw !== 'string' || raw.length > MAX_LENGTH) return undefined;
  // Optional whitespace around a field value is not part of it (RFC 9110 §5.5).
  const text = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  return text === '' ? undefined : text;
}

/** Epoch ms of an HTTP-date, or undefined when it is not one or names an impossible instant. */
function parseHttpDate(text: string, nowMs: number): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(Number(m[3]), m[2], Number(m[1]), m[4], m[5], m[6]);
  m = RFC850_DATE.exec(text);
  if (m) return utc(fullYear(Number(m[3]), nowMs), m[2], Number(m[1]), m[4], m[5], m[6]);
  m = ASCTIME_DATE.exec(text);
  if (m) return utc(Number(m[6]), m[1], Number(m[2]), m[3], m[4], m[5]);
  return undefined;
}

/**
 * RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in the future is the most
 * recent past year with the same last two digits.
 */
function fullYear(yy: number, nowMs: number): number {
  const current = new Date(nowMs).getUTCFullYear();
  let year = current - (current % 100) + yy;
  if (year > current + 50) year -= 100;
  return year;
}

function utc(
  year: number,
  monthName: string | undefined,
  day: number,
  hh: string | undefined,
  mm: string | undefined,
  ss: string | undefined,
): number | undefined {
  const month = MONTHS.indexOf((monthName ?? '').toLowerCase());
  const h = Number(hh);
  const min = Number(mm);
  const s = Number(ss);
  // Second 60 is a leap second; Date has none, so it lands on the next minute, which is close enough.
  if (month < 0 || day < 1 || h > 23 || min > 59 || s > 60) return undefined;
  const at = Date.UTC(year, month, day, h, min, s);
  // Date.UTC rolls 31 Feb over into March: reject days the month does not have.
  if (!Number.isFinite(at) || new Date(at - s * 1000).getUTCDate() !== day) return undefined;
  return at;
}
