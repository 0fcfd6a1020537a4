import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, AddressGroup, isXhttpError } from '../../lib/index.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

/** client.fetch rejects as fetch does: `TypeError('fetch failed')`, the coded XhttpError its cause. */
function fetchFailed(e: unknown, code?: string): boolean {
  return (
    e instanceof TypeError &&
    e.message === 'fetch failed' &&
    isXhttpError(e.cause) &&
    (code === undefined || e.cause.code === code)
  );
}

/** `a` redirects; `b` is another origin that records what it received. */
let a: Backend;
let b: Backend;
before(async () => {
  b = await startBackend((req, res) => res.end(`b:${req.url}`));
  a = await startBackend((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const n = Number(url.searchParams.get('n') ?? '0');
    const to = (location: string, status = 302) => res.writeHead(status, { location }).end();
    switch (url.pathname) {
      case '/chain':
        return n > 0 ? to(`/chain?n=${n - 1}`) : res.end(`a:end:${req.headers.authorization ?? '-'}`);
      case '/loop':
        return to('/loop');
      case '/cross':
        return to(`http://${b.hostPort}/landing`, Number(url.searchParams.get('status') ?? '302'));
      case '/same':
        return to('/echo');
      case '/echo':
        return res.end(`auth=${req.headers.authorization ?? '-'} cookie=${req.headers.cookie ?? '-'}`);
      case '/file':
        return to('file:///etc/passwd');
      case '/creds':
        return to(`http://user:pass@${b.hostPort}/landing`);
      default:
        return res.end('a');
    }
  });
});
after(async () => {
  await a.close();
  await b.close();
});

const SECRET_HEADERS = {
  authorization: 'Bearer s3cr3t',
  cookie: 'sid=s3cr3t',
  'proxy-authorization': 'Basic s3cr3t',
  'x-kept': 'kept',
};

describe('redirects', () => {
  test('request$ does not follow: a 3xx is a response, the target is not contacted', async () => {
    const client = new Client();
    const group = new AddressGroup(`static://${a.hostPort}`);
    const hits = b.hits;
    const res = await client.get(group, '/cross');
    assert.equal(res.status, 302);
    assert.equal(res.headers['location'], `http://${b.hostPort}/landing`);
    assert.equal(b.hits, hits, 'the other origin saw nothing');
    await client.close();
    group.close();
  });

  test('client.fetch follows up to 20 hops, and the 21st is an error', async () => {
    const client = new Client();
    const ok = await client.fetch(`http://${a.hostPort}/chain?n=20`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'a:end:-');
    const hitsBefore = a.hits;
    await assert.rejects(client.fetch(`http://${a.hostPort}/chain?n=21`), (e) => fetchFailed(e, 'PROTOCOL'));
    assert.equal(a.hits - hitsBefore, 21, 'the first request and 20 hops; the 21st redirect is not followed');
    await assert.rejects(client.fetch(`http://${a.hostPort}/loop`), (e) => fetchFailed(e, 'PROTOCOL'));
    await client.close();
  });

  test('client.fetch drops Authorization, Cookie and Proxy-Authorization when the origin changes', async () => {
    const client = new Client();
    for (const status of [301, 302, 303, 307, 308]) {
      const res = await client.fetch(`http://${a.hostPort}/cross?status=${status}`, {
        headers: SECRET_HEADERS,
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'b:/landing');
      const seen = b.lastHeaders!;
      assert.equal(seen['authorization'], undefined, `${status}: authorization dropped`);
      assert.equal(seen['cookie'], undefined, `${status}: cookie dropped`);
      assert.equal(seen['proxy-authorization'], undefined, `${status}: proxy-authorization dropped`);
      assert.equal(seen['x-kept'], 'kept', `${status}: other headers follow`);
    }
    await client.close();
  });

  test('request$ with redirect: follow drops them too; same-origin hops keep them', async () => {
    const client = new Client();
    const group = new AddressGroup(`static://${a.hostPort}`);
    const cross = await client.get(group, '/cross', { redirect: 'follow', headers: SECRET_HEADERS });
    assert.equal(await cross.body.text(), 'b:/landing');
    assert.equal(b.lastHeaders!['authorization'], undefined);
    assert.equal(b.lastHeaders!['cookie'], undefined);
    assert.equal(b.lastHeaders!['proxy-authorization'], undefined);
    const same = await client.get(group, '/same', { redirect: 'follow', headers: SECRET_HEADERS });
    assert.equal(await same.body.text(), 'auth=Bearer s3cr3t cookie=sid=s3cr3t');
    await client.close();
    group.close();
  });

  test("redirect: 'error' turns a 3xx into a coded error, for request$ and fetch", async () => {
    const client = new Client();
    const group = new AddressGroup(`static://${a.hostPort}`);
    const hits = b.hits;
    await assert.rejects(
      client.get(group, '/cross', { redirect: 'error' }),
      (e) => isXhttpError(e) && e.code === 'PROTOCOL',
    );
    await assert.rejects(client.fetch(`http://${a.hostPort}/cross`, { redirect: 'error' }), (e) =>
      fetchFailed(e, 'PROTOCOL'),
    );
    assert.equal(b.hits, hits);
    await client.close();
    group.close();
  });

  test('a redirect to a non-HTTP scheme or to a URL with credentials is refused with a coded error', async () => {
    const client = new Client();
    const hits = b.hits;
    for (const path of ['/file', '/creds'])
      await assert.rejects(client.fetch(`http://${a.hostPort}${path}`), (e) => fetchFailed(e), path);
    assert.equal(b.hits, hits);
    await client.close();
  });
});
