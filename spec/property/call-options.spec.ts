import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressGroup } from '../../lib/index.js';
import { buildCallSpec, type CallDefaults } from '../../lib/client/request.js';
import { acceptOrInvalid, show } from '../helpers/fault-property.js';

const group = new AddressGroup('static://127.0.0.1:8080');
const defaults: CallDefaults = {
  requestTimeout: 30_000,
  maxResponseBytes: 1 << 20,
  headers: {},
  redirect: 'manual',
};
const ms = fc.oneof(
  fc.integer({ min: -5, max: 2 ** 32 }),
  fc.double(),
  fc.constantFrom(0, 1, 100, 2_147_483_647, 2_147_483_648, NaN, Infinity, -Infinity),
  fc.anything(),
);
const backoff = fc.oneof(
  fc.anything(),
  fc.record(
    {
      initialDelay: ms,
      maxDelay: ms,
      multiplier: fc.oneof(fc.double(), fc.anything()),
      jitter: fc.oneof(fc.constantFrom('full', 'equal', 'decorrelated', 'none', 'FULL'), fc.anything()),
      __proto__: fc.anything(),
    },
    { requiredKeys: [] },
  ),
);
const retry = fc.oneof(
  fc.anything(),
  fc.record(
    {
      maxAttempts: fc.oneof(fc.integer({ min: -1, max: 200 }), fc.anything()),
      retryOn: fc.oneof(
        fc.constant(() => true),
        fc.anything(),
      ),
      timeoutPerAttempt: ms,
      backoff,
      retryNonIdempotent: fc.oneof(fc.boolean(), fc.anything()),
      respectRetryAfter: fc.oneof(fc.boolean(), fc.anything()),
      constructor: fc.anything(),
    },
    { requiredKeys: [] },
  ),
);
const options = fc.oneof(
  { weight: 1, arbitrary: fc.anything() },
  {
    weight: 5,
    arbitrary: fc.record(
      {
        retry,
        timeout: ms,
        signal: fc.oneof(
          fc.constant('signal').map(() => new AbortController().signal),
          fc.anything(),
        ),
        responseType: fc.oneof(fc.constantFrom('buffered', 'stream', 'json'), fc.anything()),
        maxResponseBytes: fc.oneof(fc.integer({ min: -1, max: 2 ** 40 }), fc.anything()),
        redirect: fc.oneof(fc.constantFrom('manual', 'follow', 'error', 'nope'), fc.anything()),
        headers: fc.oneof(fc.constant({ 'x-ok': '1' }), fc.anything()),
        __proto__: fc.anything(),
        other: fc.anything(),
      },
      { requiredKeys: [] },
    ),
  },
);
const method = fc.oneof(
  fc.constantFrom('GET', 'get', 'POST', 'PURGE', 'CONNECT', 'G E T', 'GET\r\n', '', 'TRACE'),
  fc.string({ maxLength: 8 }),
  fc.anything(),
);
const path = fc.oneof(
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
  fc.constantFrom(
    '/',
    '/a?b=c',
    '/a b',
    '/a\r\nHost: evil',
    '/a#frag',
    'relative',
    '//x',
    '/%0d%0a',
    '/\u0000',
  ),
  fc.string({ maxLength: 20 }),
  fc.anything(),
);
const query = fc.oneof(
  fc.dictionary(
    fc.string({ maxLength: 5 }),
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string())),
  ),
  fc.anything(),
);
const body = fc.oneof(fc.constant(null), fc.string(), fc.uint8Array(), fc.anything());

/** A valid call: GET or POST, a plain path, a small query, a body only for POST, sane options. */
const validCall = fc.record({
  m: fc.constantFrom('GET', 'get', 'POST', 'PURGE', 'delete'),
  p: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
  q: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string(), fc.integer()), { maxKeys: 3 }),
  b: fc.constant(null),
  o: fc.record(
    {
      timeout: fc.integer({ min: 1, max: 60_000 }),
      retry: fc.record(
        {
          maxAttempts: fc.integer({ min: 1, max: 10 }),
          timeoutPerAttempt: fc.integer({ min: 1, max: 10_000 }),
        },
        { requiredKeys: ['maxAttempts'] },
      ),
      responseType: fc.constantFrom('buffered', 'stream'),
      maxResponseBytes: fc.integer({ min: 1, max: 2 ** 30 }),
      redirect: fc.constantFrom('manual', 'follow', 'error'),
    },
    { requiredKeys: [] },
  ),
});
const OPTION_FIELDS = [
  'retry',
  'timeout',
  'signal',
  'responseType',
  'maxResponseBytes',
  'redirect',
  'headers',
];
const call = fc.oneof(
  { weight: 2, arbitrary: fc.record({ m: method, p: path, q: query, b: body, o: options }) },
  { weight: 2, arbitrary: validCall },
  {
    // one fuzzed request field on a valid call
    weight: 2,
    arbitrary: fc
      .tuple(validCall, fc.constantFrom('m', 'p', 'q', 'b'), method, path, query, body)
      .map(([c, k, m, p, q, b]) => ({ ...c, [k]: { m, p, q, b }[k] })),
  },
  {
    // one fuzzed option on a valid call
    weight: 3,
    arbitrary: fc
      .tuple(validCall, fc.constantFrom(...OPTION_FIELDS), fc.oneof(fc.anything(), ms, retry, backoff))
      .map(([c, k, v]) => ({ ...c, o: { ...c.o, [k]: v } })),
  },
);

test('property: call options and request fields accept or throw INVALID_ARGUMENT (1 000 runs)', () => {
  let accepted = 0;
  fc.assert(
    fc.property(call, ({ m, p, q, b, o }) => {
      const req = { method: m, group, path: p, query: q, body: b } as never;
      const r = acceptOrInvalid(
        () => buildCallSpec(req, group, p as string, o as never, defaults),
        () => `request ${show({ m, p, q, b })} options ${show(o)}`,
      );
      if (!r.accepted) return;
      accepted++;
      const spec = r.value!;
      assert.ok(
        !/[\r\n\u0000 ]/.test(spec.target),
        `the target holds no CR, LF, NUL or space: ${show(spec.target)}`,
      );
      assert.ok(spec.target.startsWith('/'));
      assert.ok(!spec.path.includes('?'), 'the path that events see holds no query');
      assert.ok(!/[\r\n\u0000 ]/.test(spec.method), 'the method is a token');
      assert.ok(spec.timeout > 0 && spec.timeout <= 2_147_483_647);
    }),
    { numRuns: 1_000 },
  );
  assert.ok(accepted > 100, `the generator reaches valid calls too (${accepted})`);
});

test('property: retry options alone (1 000 runs)', () => {
  fc.assert(
    fc.property(retry, (r) => {
      acceptOrInvalid(
        () => buildCallSpec({ group, path: '/' }, group, '/', { retry: r as never }, defaults),
        () => `retry ${show(r)}`,
      );
    }),
    { numRuns: 1_000 },
  );
});
