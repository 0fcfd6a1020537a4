/**
 * client.fetch types as fetch does: this file is type-checked under `strict` (with
 * exactOptionalPropertyTypes) with the DOM lib and @types/node both loaded (tsconfig.json), by
 * `npm run typecheck` and `npm run lint`; the test below runs the same wrappers once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../lib/index.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

const client = new Client();

/** The wrapper fetch code writes: it must compile as it is. */
const wrapped = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
  client.fetch(input, init);

/** Where a `typeof fetch` is asked for (ky, ofetch, openapi-fetch take one). */
const asFetch: typeof globalThis.fetch = (input, init) => client.fetch(input, init);

/** Every `RequestInit` the DOM lib allows: `signal: null`, each `BodyInit`, `duplex`, browser-only keys. */
function inits(): RequestInit[] {
  const stream = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const form = new FormData();
  form.append('a', 'b');
  return [
    { signal: null },
    { method: 'POST', body: 'text' },
    { method: 'POST', body: new ArrayBuffer(1) },
    { method: 'POST', body: new Uint8Array(1) },
    { method: 'POST', body: new DataView(new ArrayBuffer(1)) },
    { method: 'POST', body: new Blob(['x']) },
    { method: 'POST', body: form },
    { method: 'POST', body: new URLSearchParams({ a: 'b' }) },
    { method: 'POST', body: stream, duplex: 'half' } as RequestInit,
    { headers: [['x-a', 'b']], mode: 'cors', credentials: 'omit', cache: 'no-store', keepalive: false },
    { headers: new Headers({ 'x-a': 'b' }), redirect: 'manual', referrerPolicy: 'no-referrer' },
  ];
}

let backend: Backend;
before(async () => {
  backend = await startBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
});
after(async () => {
  await client.close();
  await backend.close();
});

test('the typed wrappers call through: every RequestInit the DOM lib allows is accepted', async () => {
  const url = `http://${backend.hostPort}/`;
  for (const init of inits()) {
    const res = await wrapped(url, init);
    assert.equal(res.status, 200, JSON.stringify(Object.keys(init)));
    await res.text();
  }
  assert.equal(await (await asFetch(new URL(url))).text(), 'ok');
  assert.equal(await (await asFetch(new Request(url, { signal: null }))).text(), 'ok');
  // rxhttp's options ride along, typed.
  const res = await client.fetch(url, {
    signal: null,
    retry: { maxAttempts: 2 },
    timeout: 5_000,
    decompress: true,
  });
  assert.equal(await res.text(), 'ok');
});
