import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom } from 'rxjs';
import { RxHttpService } from '../../lib/nest/index.js';
import { startBackend } from '../helpers/loopback.js';
import { AddressGroup } from '../../lib/index.js';
import { startEchoBackend, type EchoBackend, type Seen } from './backend.js';

// The service without Nest: the methods, their argument order and the axios-style bodies.
let echo: EchoBackend;
let http: RxHttpService;
before(async () => {
  echo = await startEchoBackend();
  http = new RxHttpService({ groups: { echo: `static://${echo.hostPort}` }, requestTimeout: 5_000 });
});
after(async () => {
  await http.onApplicationShutdown();
  await echo.stop();
});

async function seen(res$: ReturnType<RxHttpService['get']>): Promise<Seen> {
  const res = await firstValueFrom(res$);
  assert.equal(res.status, 200);
  return res.body.json<Seen>();
}

class CreateUserDto {
  constructor(readonly name: string) {}
}

test('get, head and delete send no body to the named group', async () => {
  const get = await seen(http.get('http://echo/a?x=1'));
  assert.deepEqual([get.method, get.url, get.contentType, get.body], ['GET', '/a?x=1', undefined, '']);
  const head = await firstValueFrom(http.head('http://echo/h'));
  assert.equal(head.status, 200);
  assert.equal((await seen(http.delete('http://echo/d'))).method, 'DELETE');
});

test('post, put and patch: objects, arrays and DTO instances go as JSON', async () => {
  const post = await seen(http.post('http://echo/p', { a: 1 }));
  assert.deepEqual([post.method, post.contentType, post.body], ['POST', 'application/json', '{"a":1}']);
  const put = await seen(http.put('http://echo/p', [1, 2]));
  assert.deepEqual([put.method, put.contentType, put.body], ['PUT', 'application/json', '[1,2]']);
  const patch = await seen(http.patch('http://echo/p', new CreateUserDto('Ada')));
  assert.deepEqual([patch.method, patch.body], ['PATCH', '{"name":"Ada"}']);
});

test('strings, bytes and forms go as they are; options.headers win over the JSON type', async () => {
  const text = await seen(http.post('http://echo/t', 'plain', { headers: { 'content-type': 'text/plain' } }));
  assert.deepEqual([text.contentType, text.body], ['text/plain', 'plain']);
  assert.equal((await seen(http.post('http://echo/b', Buffer.from('buf')))).body, 'buf');
  assert.equal((await seen(http.post('http://echo/b', new TextEncoder().encode('u8').buffer))).body, 'u8');
  const view = new Uint16Array([0x6968]); // little-endian "hi"
  assert.equal((await seen(http.put('http://echo/b', view))).body, 'hi');
  const form = await seen(http.post('http://echo/f', new URLSearchParams({ q: 'a b' })));
  assert.deepEqual(
    [form.contentType, form.body],
    ['application/x-www-form-urlencoded;charset=UTF-8', 'q=a+b'],
  );
  const typed = await seen(
    http.post('http://echo/j', { a: 1 }, { headers: { 'content-type': 'application/vnd.api+json' } }),
  );
  assert.equal(typed.contentType, 'application/vnd.api+json');
  assert.equal((await seen(http.post('http://echo/n'))).body, '');
});

test('request(req) takes an XRequest with an object body and keeps a content type it names', async () => {
  const json = await seen(http.request({ method: 'POST', url: 'http://echo/r', body: { a: 1 } }));
  assert.deepEqual([json.contentType, json.body], ['application/json', '{"a":1}']);
  const named = await seen(
    http.request({
      method: 'PUT',
      url: 'http://echo/r',
      headers: [['Content-Type', 'application/merge-patch+json']],
      body: { b: 2 },
    }),
  );
  assert.deepEqual([named.contentType, named.body], ['application/merge-patch+json', '{"b":2}']);
  const query = await seen(http.request({ url: 'http://echo/q', query: { id: 7 } }));
  assert.equal(query.url, '/q?id=7');
});

test('a stream, Blob or FormData body is refused with INVALID_ARGUMENT, not sent as "{}"', async () => {
  for (const body of [new Blob(['x']), new FormData(), new ReadableStream()])
    await assert.rejects(
      firstValueFrom(http.post('http://echo/x', body)),
      (err: Error & { code?: string; field?: string }) =>
        err.code === 'INVALID_ARGUMENT' && err.field === 'body',
    );
});

test('calls are cold: nothing is sent until subscribed, then one request per subscription', async () => {
  // An in-process server counting requests as their headers arrive, so nothing is lost to IPC timing.
  const paths: string[] = [];
  const counted = await startBackend((req, res) => {
    paths.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    res.end('ok');
  });
  const service = new RxHttpService({ groups: { counted: `static://${counted.hostPort}` } });
  try {
    const made = [
      service.get('http://counted/get'),
      service.head('http://counted/head'),
      service.delete('http://counted/delete'),
      service.post('http://counted/post', { a: 1 }),
      service.put('http://counted/put', 'x'),
      service.patch('http://counted/patch', { b: 2 }),
      service.request({ method: 'POST', url: 'http://counted/request', body: { c: 3 } }),
    ];
    // Two round trips made after the observables were created: a request those had sent eagerly would
    // have left first and arrived before the second canary's answer.
    for (const path of ['/canary-1', '/canary-2']) {
      assert.equal((await firstValueFrom(service.get(`http://counted${path}`))).status, 200);
    }
    assert.deepEqual(paths, ['GET /canary-1', 'GET /canary-2'], 'nothing sent before subscribe');

    for (const res$ of made) assert.equal((await firstValueFrom(res$)).status, 200);
    assert.deepEqual(paths.slice(2), [
      'GET /get',
      'HEAD /head',
      'DELETE /delete',
      'POST /post',
      'PUT /put',
      'PATCH /patch',
      'POST /request',
    ]);
    // Each subscription sends its own request: a second subscriber is not served a replay.
    const again = made[0]!;
    await firstValueFrom(again);
    await firstValueFrom(again);
    assert.equal(paths.filter((p) => p === 'GET /get').length, 3);
    assert.equal(counted.hits, paths.length);
  } finally {
    await service.onApplicationShutdown();
    await counted.close();
  }
});

test('client.close() alone closes the groups the module built from targets, not a ready-made one', async () => {
  const mine = new AddressGroup(`static://${echo.hostPort}`);
  const svc = new RxHttpService({ groups: { built: `static://${echo.hostPort}`, mine } });
  await svc.client.close();
  assert.equal(
    svc.groups.get('built')!.closed,
    true,
    'a group built from a target string outlives its client',
  );
  assert.equal(mine.closed, false, 'a group the user built is the user’s to close');
  mine.close();
});
