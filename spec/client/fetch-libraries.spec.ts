/**
 * Well-known libraries that take a `fetch` function make their ordinary calls through
 * `client.fetch`: JSON in and out, their own retries and hooks, and the errors they recognise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import ky, { HTTPError, TimeoutError as KyTimeoutError } from 'ky';
import { createFetch, FetchError } from 'ofetch';
import { Client, XhttpError } from '../../lib/index.js';
import { readBody, startBackend, type Backend } from '../helpers/loopback.js';

let flaky = 0;
async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const body = await readBody(req);
  res.setHeader('content-type', 'application/json');
  switch (path) {
    case '/echo':
      res.end(
        JSON.stringify({
          method: req.method,
          json: body ? (JSON.parse(body) as unknown) : null,
          hook: req.headers['x-hook'] ?? null,
          ct: req.headers['content-type'] ?? null,
        }),
      );
      return;
    case '/gzip':
      res.setHeader('content-encoding', 'gzip');
      res.end(zlib.gzipSync(JSON.stringify({ zipped: true })));
      return;
    case '/flaky':
      // 503 twice, then 200: the library's own retry must get there.
      if (flaky++ % 3 < 2) {
        res.statusCode = 503;
        res.end(JSON.stringify({ error: 'busy' }));
      } else res.end(JSON.stringify({ ok: true, after: flaky }));
      return;
    case '/missing':
      res.statusCode = 404;
      res.end(JSON.stringify({ error: 'no such thing' }));
      return;
    case '/slow':
      return; // never answers
    default:
      res.statusCode = 500;
      res.end('{}');
  }
}

describe('fetch-taking libraries run through client.fetch', () => {
  let backend: Backend;
  let client: Client;
  let base: string;
  let calls = 0;
  /** The function handed to the libraries: counts what went through us. */
  const viaClient = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls++;
    return client.fetch(input, init);
  };

  before(async () => {
    backend = await startBackend((req, res) => void route(req, res));
    client = new Client();
    base = `http://${backend.hostPort}`;
  });
  after(async () => {
    await client.close();
    await backend.close();
  });

  describe('ky', () => {
    test('JSON in and out, a beforeRequest hook, a gzip answer decoded', async () => {
      calls = 0;
      const api = ky.create({
        prefixUrl: base,
        fetch: viaClient,
        hooks: { beforeRequest: [(request) => request.headers.set('x-hook', 'ky')] },
      });
      const got = await api.post('echo', { json: { a: 1, s: 'é' } }).json<Record<string, unknown>>();
      assert.deepEqual(got, { method: 'POST', json: { a: 1, s: 'é' }, hook: 'ky', ct: 'application/json' });
      assert.deepEqual(await api.get('gzip').json(), { zipped: true });
      assert.equal(calls, 2);
    });

    test('its own retry takes a 503 twice, then the 200', async () => {
      calls = 0;
      flaky = 0;
      const got = await ky
        .get(`${base}/flaky`, { fetch: viaClient, retry: { limit: 3, backoffLimit: 1 } })
        .json<{ ok: boolean }>();
      assert.equal(got.ok, true);
      assert.equal(calls, 3);
    });

    test('HTTPError for a 404, TimeoutError for its own timeout, TypeError with our cause for a dead port', async () => {
      await assert.rejects(ky.get(`${base}/missing`, { fetch: viaClient, retry: 0 }), (e: unknown) => {
        assert.ok(e instanceof HTTPError);
        assert.equal(e.response.status, 404);
        return true;
      });
      await assert.rejects(
        ky.get(`${base}/slow`, { fetch: viaClient, retry: 0, timeout: 100 }),
        (e: unknown) => e instanceof KyTimeoutError,
      );
      await assert.rejects(ky.get('http://127.0.0.1:1/', { fetch: viaClient, retry: 0 }), (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.ok(e.cause instanceof XhttpError);
        return true;
      });
    });
  });

  describe('ofetch', () => {
    const $fetch = createFetch({
      fetch: viaClient as typeof globalThis.fetch,
      Headers: globalThis.Headers,
      AbortController: globalThis.AbortController,
    });

    test('JSON in and out, onRequest and onResponse hooks', async () => {
      calls = 0;
      const seen: number[] = [];
      const got = await $fetch<Record<string, unknown>>('/echo', {
        baseURL: base,
        method: 'POST',
        body: { b: [1, 2] },
        onRequest: ({ options }) => {
          options.headers = new Headers(options.headers);
          options.headers.set('x-hook', 'ofetch');
        },
        onResponse: ({ response }) => void seen.push(response.status),
      });
      assert.deepEqual(got, { method: 'POST', json: { b: [1, 2] }, hook: 'ofetch', ct: 'application/json' });
      assert.deepEqual(seen, [200]);
      assert.deepEqual(await $fetch('/gzip', { baseURL: base }), { zipped: true });
      assert.equal(calls, 2);
    });

    test('its own retry takes a 503 twice, then the 200', async () => {
      calls = 0;
      flaky = 0;
      const got = await $fetch<{ ok: boolean }>('/flaky', { baseURL: base, retry: 2, retryDelay: 1 });
      assert.equal(got.ok, true);
      assert.equal(calls, 3);
    });

    test('FetchError with status and data for a 404; with our TypeError as cause for a dead port', async () => {
      await assert.rejects($fetch('/missing', { baseURL: base, retry: 0 }), (e: unknown) => {
        assert.ok(e instanceof FetchError);
        assert.equal(e.status, 404);
        assert.deepEqual(e.data, { error: 'no such thing' });
        return true;
      });
      await assert.rejects($fetch('http://127.0.0.1:1/', { retry: 0 }), (e: unknown) => {
        assert.ok(e instanceof FetchError);
        assert.ok(e.cause instanceof TypeError);
        assert.ok(e.cause.cause instanceof XhttpError);
        return true;
      });
    });

    test('its timeout aborts through the signal: the AbortError it expects', async () => {
      await assert.rejects($fetch('/slow', { baseURL: base, retry: 0, timeout: 100 }), (e: unknown) => {
        assert.ok(e instanceof FetchError);
        assert.match(String((e.cause as Error)?.name), /AbortError|TimeoutError/);
        return true;
      });
    });
  });
});
