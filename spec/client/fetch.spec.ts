import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { Client, AddressGroup, TimeoutError, XhttpError } from '../../lib/index.js';
import { readBody, startBackend, staticTarget, type Backend } from '../helpers/loopback.js';

type FetchInit = Parameters<Client['fetch']>[1];

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The backend's routes: each path shows one kind of response. */
function route(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/slow':
      return; // never answers: the caller aborts
    case '/trickle':
      // Headers and a first chunk, then nothing: only a streaming body resolves before the end.
      res.setHeader('content-type', 'text/plain');
      res.write('first;');
      return;
    case '/json':
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url, n: 7 }));
      return;
    case '/headers':
      res.setHeader('content-type', 'Text/Plain; Charset=UTF-8');
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('x-multi', ['one', 'two']);
      res.setHeader('X-Mixed-Case', 'kept');
      res.end('hello');
      return;
    case '/utf8':
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(Buffer.concat([BOM, Buffer.from('héllo ✓')]));
      return;
    case '/empty':
      res.end();
      return;
    case '/no-content':
      res.statusCode = 204;
      res.end();
      return;
    case '/not-modified':
      res.statusCode = 304;
      res.end();
      return;
    case '/teapot':
      res.statusCode = 418;
      res.statusMessage = 'I am a teapot';
      res.end('short and stout');
      return;
    case '/form':
      res.setHeader('content-type', 'application/x-www-form-urlencoded');
      res.end('a=1&b=two');
      return;
    case '/redirect':
      res.statusCode = 302;
      res.setHeader('location', '/json?from=redirect');
      res.end();
      return;
    case '/flaky': {
      // 503 to every first attempt, 200 to a retry (marked by x-rxhttp-attempt).
      const retried = req.headers['x-rxhttp-attempt'] !== undefined;
      res.statusCode = retried ? 200 : 503;
      res.end(retried ? `retried ${String(req.headers['x-rxhttp-attempt'])}` : 'busy');
      return;
    }
    case '/big':
      res.end('x'.repeat(4_096));
      return;
    case '/echo':
      void readBody(req).then((body) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
      });
      return;
    default:
      res.end('ok');
  }
}

/** Rejects as fetch does, a `TypeError`, whose `cause` is the XhttpError with `code` (and `field`). */
async function rejectsWith(p: Promise<unknown>, code: string, field?: string): Promise<XhttpError> {
  try {
    await p;
  } catch (thrown) {
    assert.ok(thrown instanceof TypeError, `expected TypeError, got ${String(thrown)}`);
    const e = thrown.cause;
    assert.ok(e instanceof XhttpError, `expected an XhttpError cause, got ${String(e)}`);
    assert.equal(e.code, code);
    if (field !== undefined) assert.equal(e.field, field);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('client.fetch returns a real Response', () => {
  let backend: Backend;
  let group: AddressGroup;
  let client: Client;
  before(async () => {
    backend = await startBackend(route);
    group = new AddressGroup(staticTarget(backend));
    client = new Client({ requestTimeout: 5_000 });
    client.register('svc', group);
  });
  after(async () => {
    await client.close();
    group.close();
    await backend.close();
  });

  test('is a Response with status, statusText and ok', async () => {
    const res = await client.fetch('http://svc/json');
    assert.ok(res instanceof Response);
    assert.equal(Object.prototype.toString.call(res), '[object Response]');
    assert.equal(res.status, 200);
    assert.equal(res.statusText, 'OK');
    assert.equal(res.ok, true);
    assert.equal(res.type, 'basic');
    assert.equal(res.url, 'http://svc/json');
    assert.equal(res.redirected, false);
    assert.deepEqual(await res.json(), { path: '/json', n: 7 });

    const teapot = await client.fetch(new URL('http://svc/teapot'));
    assert.equal(teapot.status, 418);
    assert.equal(teapot.statusText, 'I am a teapot');
    assert.equal(teapot.ok, false);
    assert.equal(await teapot.text(), 'short and stout');
  });

  test('headers is a real Headers holding every header, repeated ones appended', async () => {
    const res = await client.fetch('http://svc/headers');
    const h = res.headers;
    assert.ok(h instanceof Headers);
    assert.equal(res.headers, h, 'the same object on every read');
    assert.equal(h.get('Content-Type'), 'Text/Plain; Charset=UTF-8');
    assert.equal(h.get('x-mixed-case'), 'kept');
    assert.equal(h.get('x-multi'), 'one, two');
    assert.equal(h.get('set-cookie'), 'a=1; Path=/, b=2; Path=/');
    assert.equal(h.get('x-absent'), null);
    assert.equal(h.has('X-MULTI'), true);
    assert.equal(h.has('x-absent'), false);
    assert.equal(h.get('constructor'), null, 'no reads through a prototype');
    assert.throws(() => h.get('bad name'), TypeError);
    assert.deepEqual(h.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
    const entries = [...h];
    assert.deepEqual(
      entries.filter(([k]) => k === 'x-multi' || k === 'x-mixed-case'),
      [
        ['x-mixed-case', 'kept'],
        ['x-multi', 'one, two'],
      ],
    );
    assert.ok(entries.some(([k]) => k === 'content-length'));
    assert.equal(await res.text(), 'hello');
  });

  test('headers copy and change like any Headers', async () => {
    const res = await client.fetch('http://svc/headers');
    const copy = new Headers(res.headers);
    assert.equal(copy.get('x-multi'), 'one, two');
    assert.deepEqual(copy.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(new Request('http://x/', { headers: res.headers }).headers.get('x-mixed-case'), 'kept');
    assert.equal(Object.fromEntries(res.headers)['content-type'], 'Text/Plain; Charset=UTF-8');

    const fresh = await client.fetch('http://svc/headers');
    fresh.headers.set('x-multi', 'replaced');
    fresh.headers.append('x-added', '1');
    fresh.headers.delete('x-mixed-case');
    assert.equal(fresh.headers.get('x-multi'), 'replaced');
    assert.equal(fresh.headers.get('x-added'), '1');
    assert.equal(fresh.headers.has('x-mixed-case'), false);
    assert.equal(fresh.headers.get('content-type'), 'Text/Plain; Charset=UTF-8');
    const seen: string[] = [];
    fresh.headers.forEach((_v, k) => seen.push(k));
    assert.ok(seen.includes('x-added') && seen.includes('set-cookie'));
    assert.deepEqual([...fresh.headers.keys()], seen);
    assert.equal([...fresh.headers.values()].length, seen.length);
    assert.match(inspect(fresh.headers), /x-added/);
    await fresh.text();
  });

  test('header values read as Headers holds them: trimmed of HTTP whitespace, before and after any change', async () => {
    // node:http trims what it sends; a raw server shows what other servers may send.
    const raw = createServer((socket) => {
      socket.once('data', () =>
        socket.end(
          'HTTP/1.1 200 OK\r\nX-A:   spaced \t \r\nX-B: \xa0kept\xa0\r\nX-R: one \r\nX-R:  two\r\n' +
            'Content-Length: 2\r\nConnection: close\r\n\r\nok',
          'latin1',
        ),
      );
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`;
      const read = (h: Headers): (string | null)[] => [h.get('x-a'), h.get('x-b'), h.get('x-r')];
      const want = ['spaced', '\xa0kept\xa0', 'one, two'];
      const res = await client.fetch(url);
      assert.deepEqual(read(res.headers), want);
      res.headers.append('x-new', '1');
      assert.deepEqual(read(res.headers), want);
      assert.deepEqual(read(new Headers(res.headers)), want);
      assert.equal(await res.text(), 'ok');
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  test('text, json, arrayBuffer, bytes and blob read the body', async () => {
    assert.equal(await (await client.fetch('http://svc/utf8')).text(), 'héllo ✓', 'BOM dropped');
    assert.deepEqual(await (await client.fetch('http://svc/json?x=1')).json(), { path: '/json?x=1', n: 7 });

    const ab = await (await client.fetch('http://svc/utf8')).arrayBuffer();
    assert.ok(ab instanceof ArrayBuffer);
    assert.deepEqual(Buffer.from(ab), Buffer.concat([BOM, Buffer.from('héllo ✓')]));

    const bytes = await (await client.fetch('http://svc/headers')).bytes();
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(Buffer.from(bytes).toString(), 'hello');

    const blob = await (await client.fetch('http://svc/headers')).blob();
    assert.ok(blob instanceof Blob);
    assert.equal(blob.type, 'text/plain;charset=utf-8');
    assert.equal(await blob.text(), 'hello');

    const form = await (await client.fetch('http://svc/form')).formData();
    assert.equal(form.get('b'), 'two');

    await assert.rejects((await client.fetch('http://svc/headers')).json(), SyntaxError);
  });

  test('bytes handed out are copies: changing them changes no later read', async () => {
    const res = await client.fetch('http://svc/headers');
    const twin = res.clone();
    const bytes = await res.bytes();
    bytes.fill(0x21);
    assert.equal(await twin.text(), 'hello');
  });

  test('a body is read once: bodyUsed, then TypeError on a second read', async () => {
    const res = await client.fetch('http://svc/headers');
    assert.equal(res.bodyUsed, false);
    assert.equal(await res.text(), 'hello');
    assert.equal(res.bodyUsed, true);
    await assert.rejects(res.text(), TypeError);
    await assert.rejects(res.json(), TypeError);
    await assert.rejects(res.arrayBuffer(), TypeError);
    await assert.rejects(res.bytes(), TypeError);
    await assert.rejects(res.blob(), TypeError);
    assert.throws(() => res.clone(), TypeError);
    // The stream, asked for after the read, says it was read too.
    assert.ok(res.body instanceof ReadableStream);
    assert.equal(res.bodyUsed, true);
    await assert.rejects(res.text(), TypeError);
  });

  test('body is a readable stream of the bytes, and reading it uses the body', async () => {
    const res = await client.fetch('http://svc/utf8');
    const body = res.body;
    assert.ok(body instanceof ReadableStream);
    assert.equal(res.body, body, 'the same stream on every read');
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).subarray(3).toString(), 'héllo ✓');
    assert.equal(res.bodyUsed, true);
    await assert.rejects(res.text(), TypeError);

    const unread = await client.fetch('http://svc/headers');
    assert.ok(unread.body !== null);
    assert.equal(unread.bodyUsed, false);
    assert.equal(await unread.text(), 'hello', 'a stream asked for but not read leaves the body readable');

    const locked = await client.fetch('http://svc/headers');
    locked.body?.getReader();
    await assert.rejects(locked.text(), TypeError);
    assert.throws(() => locked.clone(), TypeError);
  });

  test('an empty 200 has an empty body stream, read once', async () => {
    const res = await client.fetch('http://svc/empty');
    assert.ok(res.body instanceof ReadableStream);
    assert.equal(await res.text(), '');
    await assert.rejects(res.text(), TypeError);
  });

  test('clone gives a second, independent reader of the same response', async () => {
    const res = await client.fetch('http://svc/headers');
    res.headers.set('x-changed', 'yes');
    const twin = res.clone();
    assert.ok(twin instanceof Response);
    assert.notEqual(twin, res);
    assert.equal(twin.status, 200);
    assert.equal(twin.headers.get('x-changed'), 'yes', 'headers as they were at clone time');
    assert.equal(twin.headers.get('x-multi'), 'one, two');
    assert.equal(await res.text(), 'hello');
    assert.equal(twin.bodyUsed, false);
    assert.equal(await twin.text(), 'hello');

    const streamed = await client.fetch('http://svc/headers');
    void streamed.body;
    const third = streamed.clone();
    assert.equal(await new Response(third.body).text(), 'hello');
    assert.equal(await streamed.text(), 'hello');
  });

  test('null-body statuses have a null body that reads as empty, any number of times', async () => {
    for (const path of ['/no-content', '/not-modified']) {
      const res = await client.fetch(`http://svc${path}`);
      assert.ok(res instanceof Response);
      assert.equal(res.status, path === '/no-content' ? 204 : 304);
      assert.equal(res.body, null);
      assert.equal(await res.text(), '');
      assert.equal(await res.text(), '');
      assert.equal(res.bodyUsed, false);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
      assert.equal((await res.clone().blob()).size, 0);
    }
  });

  test('the answer to HEAD has a null body, as fetch gives it', async () => {
    const res = await client.fetch('http://svc/json', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.body, null);
    assert.equal(await res.text(), '');
  });

  test('redirects are followed by default, and returned with redirect: manual', async () => {
    const res = await client.fetch('http://SVC/redirect#top');
    assert.equal(res.status, 200);
    // As fetch reports them: the last URL (serialized, no fragment), and that a redirect was followed.
    assert.equal(res.url, 'http://svc/json?from=redirect');
    assert.equal(res.redirected, true);
    assert.equal(res.clone().url, 'http://svc/json?from=redirect');
    assert.deepEqual(await res.json(), { path: '/json?from=redirect', n: 7 });

    const manual = await client.fetch('http://svc/redirect', { redirect: 'manual' });
    assert.equal(manual.status, 302);
    assert.equal(manual.url, 'http://svc/redirect');
    assert.equal(manual.redirected, false);
    assert.equal(manual.headers.get('location'), '/json?from=redirect');
    await rejectsWith(client.fetch('http://svc/redirect', { redirect: 'error' }), 'PROTOCOL');
  });

  test('init sends method, headers and body; rxhttp options ride along', async () => {
    const res = await client.fetch('http://svc/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'X-Trace': 'abc' },
      body: 'payload',
      retry: { maxAttempts: 2 },
      timeout: 4_000,
      maxResponseBytes: 1_000_000,
      mode: 'cors',
      credentials: 'include',
    });
    const seen = (await res.json()) as { method: string; headers: Record<string, string>; body: string };
    assert.equal(seen.method, 'POST');
    // The rxhttp options are honoured, not dropped: each one observed on its own.
    const retried = await client.fetch('http://svc/flaky', { retry: { maxAttempts: 2 } });
    assert.equal(retried.status, 200);
    assert.equal(await retried.text(), 'retried 2');
    assert.equal((await client.fetch('http://svc/flaky')).status, 503, 'without retry: one attempt');
    await rejectsWith(client.fetch('http://svc/big', { maxResponseBytes: 1_000 }), 'RESPONSE_TOO_LARGE');
    const t0 = performance.now();
    const late = await rejectsWith(client.fetch('http://svc/slow', { timeout: 200 }), 'TIMEOUT');
    assert.equal((late as { phase?: string }).phase, 'call');
    assert.ok(performance.now() - t0 < 3_000, 'the call timeout, not the client default (5 s)');
    const streamed = await client.fetch('http://svc/trickle', { responseType: 'stream' });
    assert.equal(streamed.status, 200, 'a streamed response resolves at its headers');
    await streamed.body?.cancel();
    assert.equal(seen.headers['content-type'], 'text/plain');
    assert.equal(seen.headers['x-trace'], 'abc');
    assert.equal(seen.body, 'payload');

    const fromHeaders = await client.fetch('http://svc/echo', {
      method: 'PUT',
      headers: new Headers([
        ['x-rep', 'a'],
        ['x-rep', 'b'],
      ]),
      body: new URLSearchParams({ q: '1' }),
    });
    const seen2 = (await fromHeaders.json()) as {
      method: string;
      headers: Record<string, string>;
      body: string;
    };
    assert.equal(seen2.method, 'PUT');
    assert.equal(seen2.headers['x-rep'], 'a, b');
    assert.equal(seen2.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    assert.equal(seen2.body, 'q=1');

    const bytes = await client.fetch('http://svc/echo', {
      method: 'POST',
      headers: [['x-pair', '1']],
      body: new Blob(['blob body']),
    });
    const seen3 = (await bytes.json()) as { headers: Record<string, string>; body: string };
    assert.equal(seen3.headers['x-pair'], '1');
    assert.equal(seen3.body, 'blob body');
  });

  test('a Request input carries its method, headers and body; init overrides them', async () => {
    const req = new Request('http://svc/echo', {
      method: 'POST',
      headers: { 'x-from': 'request' },
      body: 'from request',
    });
    const seen = (await (await client.fetch(req)).json()) as {
      method: string;
      headers: Record<string, string>;
      body: string;
    };
    assert.equal(seen.method, 'POST');
    assert.equal(seen.headers['x-from'], 'request');
    assert.equal(seen.body, 'from request');

    const req2 = new Request('http://svc/echo', {
      method: 'POST',
      headers: { 'x-from': 'request' },
      body: 'a',
    });
    const over = (await (
      await client.fetch(req2, { method: 'PUT', headers: { 'x-from': 'init' }, body: 'b' })
    ).json()) as { method: string; headers: Record<string, string>; body: string };
    assert.deepEqual([over.method, over.headers['x-from'], over.body], ['PUT', 'init', 'b']);
  });

  test('bad input or init is refused with INVALID_ARGUMENT naming the field, nothing sent', async () => {
    backend.hits = 0;
    await rejectsWith(client.fetch('http://svc/', 'GET' as unknown as FetchInit), 'INVALID_ARGUMENT', 'init');
    await rejectsWith(client.fetch(42 as unknown as string), 'INVALID_ARGUMENT', 'input');
    await rejectsWith(
      client.fetch('http://svc/', { method: 'POST', body: new ReadableStream() }),
      'INVALID_ARGUMENT',
      'init.duplex',
    );
    const fromPairs = await rejectsWith(
      client.fetch('http://svc/', { headers: [['x-evil', 'secret\r\nInjected: 1']] }),
      'INVALID_ARGUMENT',
      'init.headers',
    );
    assert.ok(!fromPairs.message.includes('secret'));
    assert.equal(fromPairs.cause, undefined, 'no cause quoting the value');
    const err = await rejectsWith(
      client.fetch('http://svc/', { headers: { 'x-evil': 'secret\r\nInjected: 1' } }),
      'INVALID_ARGUMENT',
    );
    assert.ok(!err.message.includes('secret'));
    await rejectsWith(client.fetch('http://svc/', { body: 'x' }), 'INVALID_ARGUMENT', 'body');
    await rejectsWith(client.fetch('http://svc/', { timeout: -1 }), 'INVALID_ARGUMENT', 'options.timeout');
    await rejectsWith(
      client.fetch('http://svc/', { redirect: 'sideways' as RequestRedirect }),
      'INVALID_ARGUMENT',
    );
    assert.equal(backend.hits, 0);
  });

  test('keys fetch does not know are ignored, as fetch ignores them (libraries pass their own options)', async () => {
    const res = await client.fetch('http://svc/json', {
      bogus: 1,
      baseURL: '/x',
      retry: 2,
    } as unknown as FetchInit);
    assert.equal(res.status, 200);
  });

  test('an aborted signal rejects with its reason, as fetch: an AbortError by default, or the one given', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(client.fetch('http://svc/', { signal: ac.signal }), (e: unknown) => {
      assert.ok(e instanceof DOMException);
      assert.equal(e.name, 'AbortError');
      return true;
    });
    const reason = new Error('user cancelled');
    const later = new AbortController();
    const pending = client.fetch('http://svc/slow', { signal: later.signal });
    later.abort(reason);
    await assert.rejects(pending, (e: unknown) => e === reason);
  });

  test("responseType: 'stream' resolves at the headers with a streaming body; an abort fails the read as fetch's", async () => {
    const ac = new AbortController();
    const res = await client.fetch('http://svc/trickle', { responseType: 'stream', signal: ac.signal });
    assert.ok(res instanceof Response);
    assert.equal(res.status, 200);
    assert.equal(res.url, 'http://svc/trickle');
    assert.equal(res.type, 'basic');
    assert.equal(res.headers.get('content-type'), 'text/plain');
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(Buffer.from(first.value!).toString(), 'first;');
    assert.equal(res.bodyUsed, true);
    ac.abort();
    await assert.rejects(reader.read(), (e: unknown) => e instanceof DOMException && e.name === 'AbortError');
    const whole = await client.fetch('http://svc/json', { responseType: 'stream' });
    assert.deepEqual(await whole.json(), { path: '/json', n: 7 });
  });

  test('a transport failure is TypeError: fetch failed, the XhttpError its cause', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const err = await rejectsWith(client.fetch(`http://127.0.0.1:${port}/`), 'CONNECT');
    assert.equal(err.address?.port, port);
    // Our own deadline is no abort: fetch failed, the TimeoutError its cause.
    const late = await rejectsWith(client.fetch('http://svc/slow', { timeout: 50 }), 'TIMEOUT');
    assert.ok(late instanceof TimeoutError);
  });

  test('inspecting a response shows its fields', async () => {
    const res = await client.fetch('http://svc/headers');
    const shown = inspect(res);
    assert.match(shown, /status: 200/);
    assert.match(shown, /x-multi/);
    assert.equal(await res.text(), 'hello');
  });
});
