import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressGroup, Client } from '../../lib/index.js';
import { buildCallSpec, type CallDefaults } from '../../lib/client/request.js';
import { acceptEncoding } from '../../lib/transport/decode.js';
import { acceptOrInvalid, show } from '../helpers/fault-property.js';
import { applyHeadersModel, type HeaderVerdict } from '../helpers/header-model.js';
import { startBackend } from '../helpers/loopback.js';

const group = new AddressGroup('static://127.0.0.1:8080');
const defaults: CallDefaults = {
  requestTimeout: 30_000,
  maxResponseBytes: 1 << 20,
  headers: { 'x-default': 'd' },
  redirect: 'manual',
};

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
/** A value that U+00A0 (no-break space) starts or ends, OWS aside: where code and model part. */
/** Values: visible ASCII, obs-text, CR/LF/NUL injections, and non-strings. */
const value = fc.oneof(
  fc.stringMatching(/^[ -~]{0,20}$/),
  fc.constantFrom(
    'a\r\nx-injected: 1',
    'a\nb',
    'a\rb',
    'a\u0000b',
    '\u0100',
    '\u{1F600}',
    ' padded ',
    '\tpadded\t',
    'x\u00a0y',
    'caf\u00e9',
    'x\u0085',
    'a\u007fb',
    'a\u000bb',
  ),
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
/** `String(v)`, or the tag of a value `String` cannot convert (an object without a prototype). */
function textOf(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
const headerObject = fc.oneof(
  { weight: 4, arbitrary: validHeaders },
  { weight: 1, arbitrary: fc.dictionary(name, value, { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.array(fc.tuple(name, value), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.array(fc.anything(), { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(name, value)
      .map(([n, v]) => JSON.parse(`{${JSON.stringify(n)}: ${JSON.stringify(textOf(v))}}`)),
  },
  { weight: 1, arbitrary: fc.anything() },
);

/**
 * What the model says of a call with `reqHeaders` and `options.headers` over the client's defaults
 * and the `accept-encoding` a decoding call asks with (fetch's).
 */
function expected(reqHeaders: unknown, optHeaders: unknown): HeaderVerdict {
  const base = { ...defaults.headers, 'accept-encoding': acceptEncoding('http') };
  const first = applyHeadersModel(base, reqHeaders, 'headers');
  return first.ok ? applyHeadersModel(first.headers, optHeaders, 'options.headers') : first;
}

/** The code's answer in the model's terms; any other error than INVALID_ARGUMENT fails the run. */
function actual(reqHeaders: unknown, optHeaders: unknown): HeaderVerdict {
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
  if (r.accepted) return { ok: true, headers: { ...r.value!.headers } };
  return { ok: false, field: r.field! };
}

test('property: request headers are accepted or refused exactly as the model says, naming the field (1 000 runs)', () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(headerObject, headerObject, (reqHeaders, optHeaders) => {
      const want = expected(reqHeaders, optHeaders);
      const got = actual(reqHeaders, optHeaders);
      const what = `headers ${show(reqHeaders)} / options.headers ${show(optHeaders)}`;
      if (want.ok) {
        assert.ok(got.ok, `${what}: refused (${got.ok ? '' : got.field}) but the model accepts`);
        assert.deepEqual(got.headers, { ...want.headers }, `${what}: the headers sent`);
        accepted++;
      } else {
        assert.ok(!got.ok, `${what}: accepted but the model refuses ${want.field}`);
        assert.equal(got.field, want.field, `${what}: the field named`);
        refused++;
      }
      assert.equal(({} as Record<string, unknown>)['x-injected'], undefined);
    }),
    { numRuns: 1_000 },
  );
  assert.ok(accepted > 50 && refused > 50, `both sides reached (${accepted} accepted, ${refused} refused)`);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'x-default'), false);
});

test('property: Headers instances (WHATWG) get the same verdict as their entries (1 000 runs)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(name, value), { maxLength: 5 }), (pairs) => {
      let headers: Headers;
      try {
        headers = new Headers(pairs.map(([n, v]) => [n, String(v)]));
      } catch {
        return; // WHATWG refused it before we saw it
      }
      const want = expected(headers, undefined);
      const got = actual(headers, undefined);
      assert.deepEqual(plain(got), plain(want), `new Headers(${show(pairs)})`);
    }),
    { numRuns: 1_000 },
  );
});

test('property: accepted headers reach a real server byte for byte, and nothing else does (200 runs)', async () => {
  const received: string[][] = [];
  const backend = await startBackend((req, res) => {
    received.push(req.rawHeaders);
    req.resume();
    res.end('ok');
  });
  const client = new Client({ headers: { 'x-default': 'd' } });
  const target = new AddressGroup(`static://${backend.hostPort}`);
  try {
    // What the transport adds on its own (host, connection and the like), from a bare request.
    await client.get(target, '/');
    const own = new Set(pairsOf(received.pop()!).map(([n]) => n));
    own.delete('x-default');
    await fc.assert(
      fc.asyncProperty(headerObject, async (h) => {
        const want = expected(h, undefined);
        fc.pre(want.ok);
        const res = await client.request({ group: target, path: '/', headers: h as never });
        assert.equal(res.status, 200);
        const got = pairsOf(received.pop()!);
        const what = `headers ${show(h)}`;
        for (const [n, v] of Object.entries(want.headers)) {
          const sent = got.filter(([gn]) => gn === n);
          assert.equal(sent.length, 1, `${what}: ${n} sent once`);
          assert.equal(sent[0]![1], v, `${what}: ${n} byte for byte`);
        }
        for (const [n] of got)
          assert.ok(n in want.headers || own.has(n), `${what}: the server got ${n}, which nobody set`);
      }),
      { numRuns: 200 },
    );
  } finally {
    await client.close();
    target.close();
    await backend.close();
  }
});

/** Node's raw header list as lower-case name and latin1 value pairs (the bytes on the wire). */
function pairsOf(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

/** A verdict with its header record on the plain prototype, for deepEqual. */
function plain(v: HeaderVerdict): HeaderVerdict {
  return v.ok ? { ok: true, headers: { ...v.headers } } : v;
}

test(
  'a value that a no-break space starts or ends reaches the server as set (RFC 9110: OWS is space and tab)',
  () => {
    for (const v of ['\u00a0nbsp\u00a0', ' \u00a0x', 'x\u00a0\t']) {
      assert.deepEqual(
        plain(actual({ 'x-nbsp': v }, undefined)),
        plain(expected({ 'x-nbsp': v }, undefined)),
      );
    }
  },
);

test('a Host value that is not host[:port] is refused before undici sees it; a good one reaches the server', async () => {
  // undici asserted on `Host: [` (a CONNECT error with ERR_ASSERTION as its cause) before the check.
  const backend = await startBackend((req, res) => res.end(req.headers.host ?? ''));
  const client = new Client();
  const group = new AddressGroup(`static://127.0.0.1:${backend.port}`);
  try {
    for (const bad of ['[', '[::1', 'a b', '[1.2.3.4]', 'x:8o']) {
      await assert.rejects(
        client.get(group, '/', { headers: { Host: bad } }),
        (e: unknown) =>
          e instanceof Error && (e as { field?: string }).field === 'options.headers.host',
        `Host: ${JSON.stringify(bad)}`,
      );
    }
    for (const good of ['example.com', 'example.com:8080', '[::1]:8080', '10.0.0.1', 'a%20b']) {
      const res = await client.get(group, '/', { headers: { Host: good } });
      assert.equal(await res.body.text(), good);
    }
  } finally {
    await client.close();
    group.close();
    await backend.close();
  }
});
