import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, AddressGroup, isXhttpError } from '../../lib/index.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

let backend: Backend;
let redirects: Backend;
before(async () => {
  backend = await startBackend((req, res) => res.end(JSON.stringify(req.rawHeaders)));
  redirects = await startBackend((_req, res) =>
    res.writeHead(302, { location: `http://${backend.hostPort}/` }).end(),
  );
});
after(async () => {
  await backend.close();
  await redirects.close();
});

const invalid = (e: unknown) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT';
const clean = () => {
  const probe = {} as Record<string, unknown>;
  assert.equal(probe['polluted'], undefined, 'Object.prototype.polluted');
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
};

describe('__proto__ and constructor keys cannot pollute prototypes', () => {
  test('in config objects (JSON-parsed, so __proto__ is an own key): INVALID_ARGUMENT, prototypes untouched', () => {
    const payloads = [
      '{"__proto__": {"polluted": 1}}',
      '{"constructor": {"prototype": {"polluted": 1}}}',
      '{"circuitBreaker": {"__proto__": {"polluted": 1}}}',
      '{"retryBudget": {"__proto__": {"polluted": 1}}}',
      '{"tls": {"__proto__": {"polluted": 1}}}',
      '{"metrics": {"__proto__": {"polluted": 1}}}',
    ];
    for (const json of payloads) {
      assert.throws(() => new Client(JSON.parse(json)), invalid, json);
      clean();
    }
    assert.throws(
      () => new AddressGroup('static://127.0.0.1:1', JSON.parse('{"__proto__": {"polluted": 1}}')),
      invalid,
    );
    clean();
  });

  test('in call options and retry options: INVALID_ARGUMENT', async () => {
    const client = new Client();
    const group = new AddressGroup(`static://${backend.hostPort}`);
    for (const json of [
      '{"__proto__": {"polluted": 1}}',
      '{"retry": {"maxAttempts": 2, "__proto__": {"polluted": 1}}}',
      '{"retry": {"maxAttempts": 2, "backoff": {"__proto__": {"polluted": 1}}}}',
      '{"constructor": {"prototype": {"polluted": 1}}}',
    ]) {
      await assert.rejects(client.get(group, '/', JSON.parse(json)), invalid, json);
      clean();
    }
    await client.close();
    group.close();
  });

  test('as header names: plain headers on a null-prototype record, never a prototype write', async () => {
    const client = new Client({ headers: JSON.parse('{"__proto__": "a", "constructor": "b"}') });
    const group = new AddressGroup(`static://${backend.hostPort}`);
    const res = await client
      .get(group, '/', { headers: JSON.parse('{"__proto__": {"polluted": 1}}') })
      .catch((e) => e);
    // An object value is not a header value: refused, not merged.
    assert.ok(invalid(res));
    const ok = await client.get(group, '/', { headers: JSON.parse('{"__proto__": "x", "prototype": "y"}') });
    const raw = JSON.parse(await ok.body.text()) as string[];
    const seen = new Map<string, string>();
    for (let i = 0; i + 1 < raw.length; i += 2) seen.set(raw[i]!.toLowerCase(), raw[i + 1]!);
    assert.equal(seen.get('__proto__'), 'x');
    assert.equal(seen.get('constructor'), 'b');
    assert.equal(seen.get('prototype'), 'y');
    clean();
    await client.close();
    group.close();
  });

  test('a polluted Object.prototype (by other code) does not change what a call does', async () => {
    const client = new Client();
    const group = new AddressGroup(`static://${redirects.hostPort}`);
    const proto = Object.prototype as Record<string, unknown>;
    const gadgets: Record<string, unknown> = {
      redirect: 'follow',
      headers: { 'x-gadget': '1' },
      method: 'DELETE',
      maxResponseBytes: 1,
      responseType: 'stream',
    };
    try {
      for (const [k, v] of Object.entries(gadgets)) proto[k] = v;
      const res = await client.get(group, '/');
      assert.equal(res.status, 302, 'not followed: redirect stays manual');
      assert.equal(await res.body.text(), '', 'buffered, not streamed, and not size-limited to 1 byte');
    } finally {
      for (const k of Object.keys(gadgets)) delete proto[k];
      await client.close();
      group.close();
    }
  });
});
