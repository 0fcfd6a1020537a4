import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, AddressGroup, XhttpError, TimeoutError } from '../../lib/index.js';
import { readBody, startBackend, staticTarget, waitFor, type Backend } from '../helpers/loopback.js';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

async function rejectsWith(p: Promise<unknown>, code: string, phase?: string): Promise<XhttpError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof XhttpError, `expected XhttpError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (phase) assert.equal((e as TimeoutError).phase, phase);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('calls against real loopback servers', () => {
  let a: Backend, b: Backend, c: Backend;
  let client: Client;
  before(async () => {
    [a, b, c] = await Promise.all([startBackend(), startBackend(), startBackend()]);
    client = new Client({ requestTimeout: 5_000 });
  });
  after(async () => {
    await client.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  test('round robin spreads calls evenly over 3 hosts', async () => {
    const group = new AddressGroup(staticTarget(a, b, c), { loadBalancer: 'round-robin' });
    for (const x of [a, b, c]) x.hits = 0;
    for (let i = 0; i < 30; i++) {
      const res = await client.get(group, '/');
      assert.equal(res.status, 200);
      assert.equal(await res.body.text(), 'ok');
    }
    assert.deepEqual([a.hits, b.hits, c.hits], [10, 10, 10]);
    group.close();
  });

  test('cold: nothing is sent before subscribe; one emission, then complete', async () => {
    const group = new AddressGroup(staticTarget(a));
    a.hits = 0;
    const call = client.get$(group, '/cold');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(a.hits, 0);
    const seen: number[] = [];
    await new Promise<void>((resolve, reject) =>
      call.subscribe({ next: (r) => seen.push(r.status), error: reject, complete: () => resolve() }),
    );
    assert.deepEqual(seen, [200]);
    assert.equal(a.hits, 1);
    group.close();
  });

  test('a non-2xx status is a response, with its body', async () => {
    const x = await startBackend((_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    const group = new AddressGroup(staticTarget(x));
    const res = await client.get(group, '/');
    assert.equal(res.status, 503);
    assert.equal(await res.body.text(), 'busy');
    assert.equal(res.attempts, 1);
    assert.deepEqual(res.address, { host: '127.0.0.1', port: x.port });
    group.close();
    await x.close();
  });

  test('response headers: lower-cased names, repeated ones as arrays, whitespace around values dropped', async () => {
    const x = await startBackend((_req, res) => {
      res.setHeader('X-Padded', '  v   ');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end('ok');
    });
    const group = new AddressGroup(staticTarget(x));
    const res = await client.get(group, '/');
    assert.equal(res.headers['x-padded'], 'v');
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
    await res.body.dump();
    group.close();
    await x.close();
  });

  test('the Promise methods reject bad arguments with INVALID_ARGUMENT; they never throw', async () => {
    const group = new AddressGroup(staticTarget(a));
    const calls = [
      () => client.get('no-such-name', '/'),
      () => client.post(group, '/', 42 as unknown as string, 'x'),
      () => client.postForm(group, '/', { n: 1 as unknown as string }),
      () => client.request({ group, path: 'no-slash' }),
    ];
    for (const call of calls) {
      let pending: Promise<unknown> | undefined;
      assert.doesNotThrow(() => (pending = call()));
      await assert.rejects(pending!, { code: 'INVALID_ARGUMENT' });
    }
    group.close();
  });

  test('unsubscribe aborts the request on the server side', async () => {
    const x = await startBackend(() => undefined); // never answers
    const group = new AddressGroup(staticTarget(x));
    const sub = client.get$(group, '/hang').subscribe();
    await waitFor(() => x.hits === 1);
    sub.unsubscribe();
    await waitFor(() => x.aborted === 1);
    group.close();
    await x.close();
  });

  test('an AbortSignal aborts the request on the server side with ABORTED', async () => {
    const x = await startBackend(() => undefined);
    const group = new AddressGroup(staticTarget(x));
    const ac = new AbortController();
    const p = client.get(group, '/hang', { signal: ac.signal });
    await waitFor(() => x.hits === 1);
    ac.abort();
    await rejectsWith(p, 'ABORTED');
    await waitFor(() => x.aborted === 1);
    group.close();
    await x.close();
  });

  test('the call timeout cuts a hung call with phase "call"', async () => {
    const x = await startBackend(() => undefined);
    const group = new AddressGroup(staticTarget(x));
    const t0 = performance.now();
    await rejectsWith(client.get(group, '/hang', { timeout: 150 }), 'TIMEOUT', 'call');
    assert.ok(performance.now() - t0 < 2_000);
    await waitFor(() => x.aborted === 1);
    group.close();
    await x.close();
  });

  test("the client's requestTimeout is the default deadline", async () => {
    const x = await startBackend(() => undefined);
    const short = new Client({ requestTimeout: 120 });
    const group = new AddressGroup(staticTarget(x));
    await rejectsWith(short.get(group, '/hang'), 'TIMEOUT', 'call');
    await short.close();
    group.close();
    await x.close();
  });

  test('headersTimeout fires with phase "headers"', async () => {
    const x = await startBackend(() => undefined);
    const cl = new Client({ headersTimeout: 100 });
    const group = new AddressGroup(staticTarget(x));
    await rejectsWith(cl.get(group, '/'), 'TIMEOUT', 'headers');
    await cl.close();
    group.close();
    await x.close();
  });

  test('bodyTimeout fires with phase "body" when the body stalls', async () => {
    const x = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('abc'); // then silence
    });
    const cl = new Client({ bodyTimeout: 100 });
    const group = new AddressGroup(staticTarget(x));
    await rejectsWith(cl.get(group, '/'), 'TIMEOUT', 'body');
    await cl.close();
    group.close();
    await x.close();
  });

  test('connectTimeout fires with phase "connect" when the TLS handshake never completes', async () => {
    // A TCP server that accepts and never speaks TLS: TCP connects, the handshake hangs.
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    const cl = new Client({ connectTimeout: 100 });
    const group = new AddressGroup(`https://127.0.0.1:${port}`);
    await rejectsWith(cl.get(group, '/'), 'TIMEOUT', 'connect');
    await cl.close();
    group.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  test('timeoutPerAttempt fires with phase "attempt"', async () => {
    const x = await startBackend(() => undefined);
    const group = new AddressGroup(staticTarget(x));
    await rejectsWith(
      client.get(group, '/', { retry: { maxAttempts: 1, timeoutPerAttempt: 100 } }),
      'TIMEOUT',
      'attempt',
    );
    group.close();
    await x.close();
  });

  test('maxResponseBytes bounds a buffered body with RESPONSE_TOO_LARGE', async () => {
    const x = await startBackend((_req, res) => res.end('x'.repeat(10_000)));
    const chunked = await startBackend((_req, res) => {
      res.write('y'.repeat(6_000));
      res.end('y'.repeat(6_000));
    });
    const group = new AddressGroup(staticTarget(x));
    const group2 = new AddressGroup(staticTarget(chunked));
    await rejectsWith(client.get(group, '/', { maxResponseBytes: 1_000 }), 'RESPONSE_TOO_LARGE');
    await rejectsWith(client.get(group2, '/', { maxResponseBytes: 10_000 }), 'RESPONSE_TOO_LARGE');
    const ok = await client.get(group, '/', { maxResponseBytes: 10_000 });
    assert.equal((await ok.body.bytes()).length, 10_000);
    group.close();
    group2.close();
    await Promise.all([x.close(), chunked.close()]);
  });

  test("responseType 'stream' emits at headers and streams the body", async () => {
    const x = await startBackend((_req, res) => {
      res.write('part1,');
      setTimeout(() => res.end('part2'), 50);
    });
    const group = new AddressGroup(staticTarget(x));
    const res = await client.get(group, '/', { responseType: 'stream' });
    assert.equal(res.status, 200);
    let text = '';
    for await (const chunk of res.body) text += Buffer.from(chunk).toString();
    assert.equal(text, 'part1,part2');
    group.close();
    await x.close();
  });

  test('postForm sends a urlencoded body with its content type', async () => {
    let seen: { type: string | undefined; body: string } | undefined;
    const x = await startBackend(async (req, res) => {
      seen = { type: req.headers['content-type'], body: await readBody(req) };
      res.end('done');
    });
    const group = new AddressGroup(staticTarget(x));
    const res = await client.postForm(group, '/form', { name: 'Ada Lovelace', lang: 'en&fr' });
    assert.equal(res.status, 200);
    assert.equal(seen?.type, 'application/x-www-form-urlencoded');
    assert.equal(seen?.body, 'name=Ada+Lovelace&lang=en%26fr');
    const posted = await client.post(group, '/json', 'application/json', '{"a":1}');
    assert.equal(posted.status, 200);
    assert.equal(seen?.type, 'application/json');
    assert.equal(seen?.body, '{"a":1}');
    group.close();
    await x.close();
  });

  test('fetch goes through a registered name and returns a real Response', async () => {
    const x = await startBackend((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url }));
    });
    const group = new AddressGroup(staticTarget(x));
    client.register('users', group);
    const res = await client.fetch('http://users/profile?id=7');
    assert.ok(res instanceof Response);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { path: '/profile?id=7' });
    const viaRequest = await client.request({ url: 'http://users/x' });
    assert.equal(viaRequest.status, 200);
    group.close();
    await x.close();
  });

  test('CR/LF in a header value or path is refused with nothing sent', async () => {
    const group = new AddressGroup(staticTarget(a));
    a.hits = 0;
    await rejectsWith(
      client.get(group, '/', { headers: { 'x-evil': 'a\r\nInjected: 1' } }),
      'INVALID_ARGUMENT',
    );
    await rejectsWith(client.get(group, '/a\r\nInjected: 1'), 'INVALID_ARGUMENT');
    await rejectsWith(client.request({ group, path: '/', method: 'GE T' }), 'INVALID_ARGUMENT');
    await rejectsWith(client.get(group, '/', { headers: { 'bad name': 'x' } }), 'INVALID_ARGUMENT');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(a.hits, 0);
    group.close();
  });

  test('an error message never holds a header value or query string', async () => {
    const group = new AddressGroup(staticTarget(a));
    const err = await rejectsWith(
      client.get(group, '/', { headers: { authorization: 'secret-token\n' } }),
      'INVALID_ARGUMENT',
    );
    assert.ok(!err.message.includes('secret-token'));
    group.close();
  });

  test('connection refused maps to CONNECT', async () => {
    const x = await startBackend();
    const port = x.port;
    await x.close();
    const group = new AddressGroup(`static://127.0.0.1:${port}`);
    const err = await rejectsWith(client.get(group, '/'), 'CONNECT');
    assert.equal(err.attempts, 1);
    group.close();
  });
});

test('an already-aborted signal fails the call at once with ABORTED and sends nothing', async () => {
  const x = await startBackend();
  const client = new Client();
  const group = new AddressGroup(staticTarget(x));
  const ac = new AbortController();
  ac.abort();
  await rejectsWith(client.get(group, '/', { signal: ac.signal }), 'ABORTED');
  assert.equal(x.hits, 0);
  await client.close();
  group.close();
  await x.close();
});
