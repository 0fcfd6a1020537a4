import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressGroup } from '../../lib/index.js';
import { buildCallSpec, type CallDefaults } from '../../lib/client/request.js';
import { callModel } from '../helpers/call-model.js';
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
/** Values on and around each documented bound, of the right and the wrong type. */
const edge = fc.constantFrom(
  0,
  1,
  0.5,
  1.5,
  100,
  101,
  -1,
  2_147_483_647,
  2_147_483_648,
  NaN,
  'full',
  'FULL',
  true,
  'true',
  null,
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
    '/caf\u00e9 au lait?q=\u00fc ber',
    '/\ud800',
    '/a\\b',
    '//evil.example/x',
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
  'query',
  'json',
  'body',
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
      .tuple(validCall, fc.constantFrom(...OPTION_FIELDS), fc.oneof(fc.anything(), ms, retry, backoff, edge))
      .map(([c, k, v]) => ({ ...c, o: { ...c.o, [k]: v } })),
  },
);

/** Runs the code and the model on one call and compares them; returns whether the code accepted. */
function check(req: Record<string, unknown>, p: unknown, o: unknown, what: () => string): boolean {
  const want = callModel(req, p, o, defaults);
  const r = acceptOrInvalid(
    () => buildCallSpec({ ...req, group } as never, group, p as string, o as never, defaults),
    what,
  );
  const faults = [...want.wrong].join(', ') || 'nothing';
  if (!r.accepted) {
    assert.ok(want.wrong.has(r.field!), `${what()}: named ${r.field}, the model finds ${faults} wrong`);
    return false;
  }
  assert.equal(want.wrong.size, 0, `${what()}: accepted, the model finds ${faults} wrong`);
  const spec = r.value!;
  assert.deepEqual(
    {
      method: spec.method,
      target: spec.target,
      path: spec.path,
      timeout: spec.timeout,
      maxResponseBytes: spec.maxResponseBytes,
      redirect: spec.redirect,
      stream: spec.stream,
    },
    want.call,
    `${what()}: the call built`,
  );
  return true;
}

test('property: a call is accepted exactly when the model finds nothing wrong, else names a field at fault (1 000 runs)', () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(call, ({ m, p, q, b, o }) => {
      const req = { method: m, path: p, query: q, body: b };
      if (check(req, p, o, () => `request ${show({ m, p, q, b })} options ${show(o)}`)) accepted++;
      else refused++;
    }),
    { numRuns: 1_000 },
  );
  assert.ok(accepted > 100 && refused > 100, `both sides reached (${accepted} accepted, ${refused} refused)`);
});

/** Retry options that pass, and the same with one field fuzzed: reaches each field's own check. */
const validRetry = fc.record(
  {
    maxAttempts: fc.integer({ min: 1, max: 100 }),
    retryOn: fc.constant(() => true),
    timeoutPerAttempt: fc.integer({ min: 1, max: 60_000 }),
    backoff: fc.record(
      {
        initialDelay: fc.integer({ min: 0, max: 100 }),
        maxDelay: fc.integer({ min: 100, max: 10_000 }),
        multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
        jitter: fc.constantFrom('full', 'equal', 'decorrelated', 'none'),
      },
      { requiredKeys: [] },
    ),
    retryNonIdempotent: fc.boolean(),
    respectRetryAfter: fc.boolean(),
  },
  { requiredKeys: ['maxAttempts'] },
);
const RETRY_FIELDS = [
  'maxAttempts',
  'retryOn',
  'timeoutPerAttempt',
  'backoff',
  'retryNonIdempotent',
  'respectRetryAfter',
];
const BACKOFF_FIELDS = ['initialDelay', 'maxDelay', 'multiplier', 'jitter'];
const retryMix = fc.oneof(
  retry,
  validRetry,
  fc
    .tuple(
      validRetry,
      fc.constantFrom(...RETRY_FIELDS),
      fc.oneof(
        { weight: 1, arbitrary: fc.anything() },
        { weight: 1, arbitrary: ms },
        { weight: 1, arbitrary: backoff },
        { weight: 3, arbitrary: edge },
        { weight: 3, arbitrary: fc.integer({ min: -2, max: 205 }) },
      ),
    )
    .map(([r, k, v]) => ({ ...r, [k]: v })),
  fc
    .tuple(validRetry, fc.constantFrom(...BACKOFF_FIELDS), fc.oneof(fc.anything(), ms, edge))
    .map(([r, k, v]) => ({ ...r, backoff: { ...r.backoff, [k]: v } })),
);

test('property: retry options alone, against the model (1 000 runs)', () => {
  let accepted = 0;
  fc.assert(
    fc.property(retryMix, (r) => {
      if (check({ path: '/' }, '/', { retry: r }, () => `retry ${show(r)}`)) accepted++;
    }),
    { numRuns: 1_000 },
  );
  assert.ok(accepted > 50, `the generator reaches valid retry options too (${accepted})`);
});
