import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../lib/resilience/retry-after.js';

// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example instant.
const RFC_EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37);
const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

test('delay-seconds: a non-negative integer of seconds', () => {
  assert.equal(parseRetryAfter('0', NOW), 0);
  assert.equal(parseRetryAfter('1', NOW), 1000);
  assert.equal(parseRetryAfter('120', NOW), 120_000);
  assert.equal(parseRetryAfter('007', NOW), 7000);
  assert.equal(parseRetryAfter('  5\t', NOW), 5000, 'surrounding whitespace is not part of the value');
  assert.equal(parseRetryAfter(['3'], NOW), 3000);
  assert.equal(parseRetryAfter(['3', '3'], NOW), 3000, 'identical repeats agree');
  // Seconds need no clock.
  assert.equal(parseRetryAfter('2', Number.NaN), 2000);
});

test('huge delays are capped at one day', () => {
  assert.equal(parseRetryAfter('86400', NOW), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('86401', NOW), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('9'.repeat(40), NOW), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', NOW), MAX_RETRY_AFTER_MS);
});

test('IMF-fixdate: ms until then, 0 when past', () => {
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', RFC_EXAMPLE - 30_000), 30_000);
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', RFC_EXAMPLE), 0);
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW), 0, 'a past date means now');
  assert.equal(parseRetryAfter('Mon, 15 Jan 2024 12:01:40 GMT', NOW), 100_000);
  assert.equal(parseRetryAfter('mon, 15 jan 2024 12:01:40 gmt', NOW), 100_000, 'names in any case');
  assert.equal(
    parseRetryAfter('Thu, 29 Feb 2024 00:00:00 GMT', Date.UTC(2024, 1, 28, 23, 59, 0)),
    60_000,
    'leap day',
  );
  // The day name is not cross-checked: recipients are lenient about what they cannot use.
  assert.equal(parseRetryAfter('Fri, 15 Jan 2024 12:00:10 GMT', NOW), 10_000);
});

test('obsolete RFC 850 and asctime dates are accepted', () => {
  assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', RFC_EXAMPLE - 5_000), 5_000);
  assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', RFC_EXAMPLE - 5_000), 5_000);
  assert.equal(parseRetryAfter('Mon Jan 15 12:00:20 2024', NOW), 20_000);
  // Two-digit years (RFC 9110 §5.6.7): in 2024, 24 is 2024 and 74 is 2074 (50 years ahead, not
  // more: capped to a day); 75 would be more than 50 years ahead, so it is 1975, past.
  assert.equal(parseRetryAfter('Monday, 15-Jan-24 12:00:30 GMT', NOW), 30_000);
  assert.equal(parseRetryAfter('Sunday, 15-Jan-74 12:00:30 GMT', NOW), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('Wednesday, 15-Jan-75 12:00:30 GMT', NOW), 0);
});

test('garbage and impossible dates are undefined, never NaN', () => {
  const bad = [
    undefined,
    '',
    '   ',
    '-1',
    '+5',
    '1.5',
    '1e3',
    '0x10',
    '5 s',
    'soon',
    'Infinity',
    'NaN',
    '2024-01-15T12:00:10Z',
    'Sun, 06 Nov 1994 08:49:37',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 31 Feb 2024 08:49:37 GMT',
    'Sun, 00 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT',
    'Sun, 06 Foo 1994 08:49:37 GMT',
    'Sun Nov 31 08:49:37 1994',
    'Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT',
    'x'.repeat(10_000),
    '1'.repeat(100_000),
  ];
  for (const value of bad)
    assert.equal(parseRetryAfter(value, NOW), undefined, JSON.stringify(value)?.slice(0, 60));
  assert.equal(parseRetryAfter([], NOW), undefined);
  assert.equal(parseRetryAfter(['1', '2'], NOW), undefined, 'different repeats are ambiguous');
  assert.equal(parseRetryAfter('Mon, 15 Jan 2024 12:01:40 GMT', Number.NaN), undefined);
  assert.equal(parseRetryAfter('Mon, 15 Jan 2024 12:01:40 GMT', Infinity), undefined);
  assert.equal(parseRetryAfter(42 as never, NOW), undefined);
  assert.equal(parseRetryAfter([42] as never, NOW), undefined);
});

test('a leap second lands on the next minute', () => {
  assert.equal(parseRetryAfter('Sat, 31 Dec 2016 23:59:60 GMT', Date.UTC(2016, 11, 31, 23, 59, 0)), 60_000);
});

test('property: never throws; undefined or a finite delay in [0, 1 day]', () => {
  const header = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.nat().map(String),
    fc.double().map(String),
    fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
    fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
    fc
      .date({ noInvalidDate: true })
      .map((d) => d.toUTCString().replace(/(\d{2}) (\w{3}) \d{2}(\d{2})/, '$1-$2-$3')),
    fc.constantFrom(undefined),
  );
  const value = fc.oneof(header, fc.array(fc.oneof(fc.string(), fc.nat().map(String)), { maxLength: 3 }));
  const now = fc.oneof(fc.double(), fc.integer({ min: 0, max: 4_102_444_800_000 }));
  fc.assert(
    fc.property(value, now, (v, n) => {
      const d = parseRetryAfter(v as string | string[] | undefined, n);
      return d === undefined || (Number.isFinite(d) && d >= 0 && d <= MAX_RETRY_AFTER_MS);
    }),
    { numRuns: 1000 },
  );
});

test('property: every date toUTCString writes round-trips', () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date(Date.UTC(1970, 0, 1)),
        max: new Date(Date.UTC(9999, 11, 31)),
        noInvalidDate: true,
      }),
      fc.integer({ min: 1000, max: MAX_RETRY_AFTER_MS }),
      (date, ahead) => {
        const at = Math.floor(date.getTime() / 1000) * 1000;
        return parseRetryAfter(new Date(at).toUTCString(), at - ahead) === ahead;
      },
    ),
    { numRuns: 1000 },
  );
});
