import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client, AddressGroup, isXhttpError, type XRequest } from '../../lib/index.js';

/** A raw TCP listener: counts connections and bytes, so "nothing was sent" is measured. */
let server: Server;
let port = 0;
let connections = 0;
let bytes = 0;
/** The last bytes received, for the request line. */
let lastData = '';
const sockets = new Set<Socket>();
before(async () => {
  server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('data', (d) => {
      bytes += d.length;
      lastData = d.toString('latin1');
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const INJECTIONS = ['\r\n', '\n', '\r', '\u0000', '\u0001', '\u007f'];

describe('CR/LF and forbidden bytes are refused before anything is sent', () => {
  test('in the method, the path, header names and header values; in request$, fetch and config', async () => {
    const client = new Client();
    const group = new AddressGroup(`static://127.0.0.1:${port}`);
    const cases: [string, () => Promise<unknown>][] = [];
    for (const bad of INJECTIONS) {
      const tag = JSON.stringify(bad);
      const req = (r: Omit<XRequest, 'group'>) => () => client.request({ group, ...r });
      cases.push(
        [`method ${tag}`, req({ method: `GET${bad}X-Injected: 1` })],
        [`path ${tag}`, req({ path: `/a${bad}Host: evil` })],
        [`path query ${tag}`, req({ path: `/a?b=${bad}c` })],
        [`header name ${tag}`, req({ path: '/', headers: { [`x-a${bad}x-b`]: 'v' } })],
        [`header value ${tag}`, req({ path: '/', headers: { 'x-a': `v${bad}X-Injected: 1` } })],
        [`option header ${tag}`, () => client.get(group, '/', { headers: { 'x-a': `v${bad}` } })],
        [`pair header ${tag}`, req({ path: '/', headers: [['x-a', `v${bad}w`]] as never })],
      );
    }
    cases.push(
      ['method with a space', () => client.request({ group, method: 'GET /evil HTTP/1.1', path: '/' })],
      ['path with a backslash', () => client.request({ group, path: '/a\\b' })],
      ['path starting with //', () => client.request({ group, path: '//evil.example/a' })],
      ['path with a fragment', () => client.request({ group, path: '/a#b' })],
      ['relative path', () => client.request({ group, path: 'a' })],
      [
        'transfer-encoding header (smuggling)',
        () => client.request({ group, path: '/', headers: { 'transfer-encoding': 'chunked' } }),
      ],
      [
        'content-length header (smuggling)',
        () => client.post(group, '/', 'text/plain', 'x', { headers: { 'content-length': '0' } }),
      ],
      ['connection header', () => client.request({ group, path: '/', headers: { connection: 'upgrade' } })],
      ['CONNECT method', () => client.request({ group, method: 'CONNECT', path: '/' })],
    );
    for (const [what, run] of cases) {
      await assert.rejects(run(), (e) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT', what);
    }
    for (const bad of ['\r\n', '\n', '\u0000'])
      assert.throws(
        () => new Client({ headers: { 'x-a': `v${bad}X-Injected: 1` } }),
        (e) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT',
      );
    assert.equal(connections, 0, 'no connection was opened');
    assert.equal(bytes, 0, 'no byte was sent');
    // The same client still works, and query values are percent-encoded, not refused.
    const res = await client.request({ group, path: '/q', query: { v: 'a\r\nb' } });
    assert.equal(res.status, 200);
    assert.equal(connections, 1);
    // A space in a path is percent-encoded (as a URL parser would), not sent raw: one request line.
    assert.equal((await client.request({ group, path: '/a HTTP/1.1' })).status, 200);
    assert.ok(lastData.startsWith('GET /a%20HTTP/1.1 HTTP/1.1\r\n'), lastData.split('\r\n')[0]);
    // An absolute url goes through WHATWG URL, which strips CR, LF and tab and percent-encodes
    // spaces: the request line stays one line.
    const before = bytes;
    assert.equal(
      (await client.request({ url: `http://127.0.0.1:${port}/a b\r\nX-Injected: 1` })).status,
      200,
    );
    assert.ok(bytes > before);
    await client.close();
    group.close();
  });

  test('client.fetch refuses them too (WHATWG Headers or our validation)', async () => {
    const client = new Client();
    const before = connections;
    for (const bad of ['\r\n', '\n', '\u0000']) {
      await assert.rejects(
        client.fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-a': `v${bad}X-Injected: 1` } }),
      );
      await assert.rejects(
        client.fetch(`http://127.0.0.1:${port}/`, { method: `GET${bad}X: 1` }),
        // As fetch: a TypeError, our INVALID_ARGUMENT its cause.
        (e) => e instanceof TypeError && isXhttpError(e.cause) && e.cause.code === 'INVALID_ARGUMENT',
      );
    }
    assert.equal(connections, before, 'nothing new was sent');
    await client.close();
  });
});
