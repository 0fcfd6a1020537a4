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
  headers: { 'x-default': 'd' },
  redirect: 'manual',
};
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Names: tokens, near-tokens, framing headers, prototype keys, and any string. */
const name = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/),
  fc.constantFrom(
    'Content-Length',
    'transfer-encoding',
    'Host',
    'connection',
    '__proto__',
    'constructor',
    'prototype',
    'x-a\r\nx-b',
    'x a',
    'x:a',
    '',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
/** Values: visible ASCII, obs-text, CR/LF/NUL injections, and non-strings. */
const value = fc.oneof(
  fc.stringMatching(/^[ -~]{0,20}$/),
  fc.constantFrom('a\r\nx-injected: 1', 'a\nb', 'a\rb', 'a\u0000b', '\u0100', '\u{1F600}', ' padded '),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.anything(),
);
/** Headers that pass: token names (framing headers left out) and visible ASCII values. */
const validHeaders = fc.dictionary(
  fc
    .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/)
    .filter(
      (k) => !['connection', 'te', 'trailer', 'upgrade', 'expect', 'keep-alive'].includes(k.toLowerCase()),
    ),
  fc.stringMatching(/^[ -~]{0,20}$/),
  { maxKeys: 4 },
);
const headerObject = fc.oneof(
  { weight: 4, arbitrary: validHeaders },
  { weight: 1, arbitrary: fc.dictionary(name, value, { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.array(fc.tuple(name, value), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.array(fc.anything(), { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(name, value)
      .map(([n, v]) => JSON.parse(`{${JSON.stringify(n)}: ${JSON.stringify(String(v))}}`)),
  },
  { weight: 1, arbitrary: fc.anything() },
);

test('property: request headers are accepted clean or rejected with INVALID_ARGUMENT (1 000 runs)', () => {
  let accepted = 0;
  fc.assert(
    fc.property(headerObject, headerObject, (reqHeaders, optHeaders) => {
      const r = acceptOrInvalid(
        () =>
          buildCallSpec(
            { method: 'GET', group, path: '/', headers: reqHeaders as never },
            group,
            '/',
            { headers: optHeaders as never },
            defaults,
          ),
        () => `headers ${show(reqHeaders)} / options.headers ${show(optHeaders)}`,
      );
      if (!r.accepted) return;
      accepted++;
      const h = r.value!.headers;
      assert.equal(Object.getPrototypeOf(h), null, 'headers are a null-prototype record');
      for (const [k, v] of Object.entries(h)) {
        assert.match(k, TOKEN, 'names are lower-case tokens');
        assert.equal(typeof v, 'string');
        assert.match(v, FIELD_VALUE, `value of ${k} holds no CR, LF, NUL or control`);
        assert.ok(!['content-length', 'transfer-encoding', 'connection'].includes(k), `${k} is refused`);
      }
      assert.equal(({} as Record<string, unknown>)['x-injected'], undefined);
    }),
    { numRuns: 1_000 },
  );
  assert.ok(accepted > 50, `the generator reaches valid headers too (${accepted})`);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'x-default'), false);
});

test('property: Headers instances (WHATWG) pass the same validation (1 000 runs)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(name, fc.stringMatching(/^[ -~]{0,20}$/)), { maxLength: 5 }), (pairs) => {
      let headers: Headers;
      try {
        headers = new Headers(pairs);
      } catch {
        return; // WHATWG refused it before we saw it
      }
      acceptOrInvalid(
        () => buildCallSpec({ group, path: '/', headers }, group, '/', undefined, defaults),
        () => `new Headers(${show(pairs)})`,
      );
    }),
    { numRuns: 1_000 },
  );
});
