import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { firstValueFrom } from 'rxjs';
import { AddressGroup, Client, isXhttpError, type XResponse } from '../../lib/index.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

/** What the server saw of one request. */
interface Seen {
  method: string;
  url: string;
  path: string;
  query: [string, string][];
  headers: IncomingMessage['headers'];
  body: string;
}

let backend: Backend;
const seen: Seen[] = [];
/** Records the request, then answers with the status in `?status=` (200 by default) and a JSON body. */
function record(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const u = new URL(req.url!, 'http://x');
    seen.push({
      method: req.method!,
      url: req.url!,
      path: u.pathname,
      query: [...u.searchParams],
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    const status = Number(u.searchParams.get('status') ?? 200);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 42, name: 'Ada' }));
  });
}

before(async () => {
  backend = await startBackend(record);
});
after(() => backend.close());

/** A fresh client and group for one test; both closed after it. */
async function withClient(
  run: (client: Client, group: AddressGroup) => Promise<void>,
  groupOptions: ConstructorParameters<typeof AddressGroup>[1] = {},
  clientConfig: ConstructorParameters<typeof Client>[0] = {},
): Promise<void> {
  const client = new Client(clientConfig);
  const group = new AddressGroup(`static://${backend.hostPort}`, groupOptions);
  seen.length = 0;
  try {
    await run(client, group);
  } finally {
    await client.close();
    group.close();
  }
}

const last = (): Seen => seen.at(-1)!;

describe('put, patch, delete, head and their $ twins', () => {
  test('each sends its method, the json body with content-type application/json, and the query', async () => {
    await withClient(async (client, group) => {
      const sends: [string, () => Promise<XResponse>][] = [
        ['PUT', () => client.put(group, '/users/42', { json: { name: 'Ada' }, query: { v: 2 } })],
        ['PATCH', () => client.patch(group, '/users/42', { json: { name: 'Ada' }, query: { v: 2 } })],
        ['DELETE', () => client.delete(group, '/users/42', { json: { name: 'Ada' }, query: { v: 2 } })],
        ['PUT', () => firstValueFrom(client.put$(group, '/users/42', { json: { name: 'Ada' }, query: { v: 2 } }))],
        ['PATCH', () => firstValueFrom(client.patch$(group, '/users/42', { json: { name: 'Ada' }, query: { v: 2 } }))],
        ['DELETE', () => firstValueFrom(client.delete$(group, '/users/42', { json: { name: 'Ada' }, query: { v: 2 } }))],
        ['POST', () => client.post(group, '/users/42', { json: { name: 'Ada' }, query: { v: 2 } })],
        ['POST', () => firstValueFrom(client.post$(group, '/users/42', { json: { name: 'Ada' }, query: { v: 2 } }))],
      ];
      for (const [method, send] of sends) {
        const res = await send();
        assert.equal(res.status, 200, method);
        assert.equal(last().method, method);
        assert.equal(last().path, '/users/42');
        assert.deepEqual(last().query, [['v', '2']]);
        assert.equal(last().headers['content-type'], 'application/json');
        assert.deepEqual(JSON.parse(last().body), { name: 'Ada' });
      }
    });
  });

  test('options.body sends as it is; a content-type given wins over json', async () => {
    await withClient(async (client, group) => {
      await client.put(group, '/raw', { body: 'plain', headers: { 'content-type': 'text/plain' } });
      assert.equal(last().body, 'plain');
      assert.equal(last().headers['content-type'], 'text/plain');
      await client.patch(group, '/j', {
        json: [1, 2],
        headers: { 'Content-Type': 'application/merge-patch+json' },
      });
      assert.equal(last().headers['content-type'], 'application/merge-patch+json');
      assert.equal(last().body, '[1,2]');
      await client.delete(group, '/users/42');
      assert.equal(last().method, 'DELETE');
      assert.equal(last().body, '');
    });
  });

  test('head: the status and headers, no body; head$ too', async () => {
    await withClient(async (client, group) => {
      const res = await client.head(group, '/users/42', { query: { a: 'b' } });
      assert.equal(last().method, 'HEAD');
      assert.deepEqual(last().query, [['a', 'b']]);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal((await res.body.bytes()).length, 0);
      const res$ = await firstValueFrom(client.head$(group, '/h'));
      assert.equal(res$.status, 200);
      assert.equal(last().method, 'HEAD');
    });
  });

  test('post keeps its positional form', async () => {
    await withClient(async (client, group) => {
      await client.post(group, '/orders', 'text/csv', 'a,b', { query: { dry: true } });
      assert.equal(last().method, 'POST');
      assert.equal(last().headers['content-type'], 'text/csv');
      assert.equal(last().body, 'a,b');
      assert.deepEqual(last().query, [['dry', 'true']]);
    });
  });

  test('bad bodies are INVALID_ARGUMENT naming the option, and nothing is sent', async () => {
    await withClient(async (client, group) => {
      const cycle: Record<string, unknown> = {};
      cycle['self'] = cycle;
      const cases: [string, () => Promise<unknown>][] = [
        ['options.json', () => client.put(group, '/x', { json: cycle })],
        ['options.json', () => client.put(group, '/x', { json: 1n })],
        ['options.json', () => client.put(group, '/x', { json: {}, body: 'x' })],
        ['options.body', () => client.put(group, '/x', { body: 42 as never })],
        ['options.json', () => client.get(group, '/x', { json: {} } as never)],
        ['options.query', () => client.head(group, '/x', { query: 'a=b' as never })],
        ['options.query', () => client.get(group, '/x', { query: { a: {} } as never })],
        ['group', () => client.delete('nobody', '/x')],
      ];
      for (const [field, run] of cases) {
        const error = await run().then(
          () => assert.fail(`${field}: accepted`),
          (e: unknown) => e,
        );
        assert.ok(isXhttpError(error) && error.code === 'INVALID_ARGUMENT', `${field}: ${String(error)}`);
        assert.equal(error.field, field);
      }
      assert.equal(seen.length, 0, 'nothing reached the server');
    });
  });
});

describe('the query option', () => {
  test('arrays repeat the key; merged after the query in the path and the request own', async () => {
    await withClient(async (client, group) => {
      await client.get(group, '/s?fixed=1', { query: { tag: ['a', 'b c'], n: 3, yes: false } });
      assert.deepEqual(last().query, [
        ['fixed', '1'],
        ['tag', 'a'],
        ['tag', 'b c'],
        ['n', '3'],
        ['yes', 'false'],
      ]);
      await client.get(group, '/s', { query: new URLSearchParams([['q', 'x&y=z']]) });
      assert.equal(last().url, '/s?q=x%26y%3Dz');
      await client.request({ group, path: '/r', query: { a: 1 } }, { query: { b: 2 } });
      assert.deepEqual(last().query, [
        ['a', '1'],
        ['b', '2'],
      ]);
      await client.get(group, '/e', { query: {} });
      assert.equal(last().url, '/e');
    });
  });
});

describe('paths with spaces or non-ASCII characters', () => {
  test('are percent-encoded (UTF-8), path and query, and the server decodes them back', async () => {
    await withClient(async (client, group) => {
      const res = await client.get(group, '/files/my file/café ☕?q=über 1');
      assert.equal(res.status, 200);
      assert.equal(last().url, '/files/my%20file/caf%C3%A9%20%E2%98%95?q=%C3%BCber%201');
      assert.equal(decodeURIComponent(last().path), '/files/my file/café ☕');
      assert.deepEqual(last().query, [['q', 'über 1']]);
      // Already encoded stays as is (never double-encoded).
      await client.get(group, '/a%20b');
      assert.equal(last().url, '/a%20b');
    });
  });

  test('what could change the origin or split the request line stays refused', async () => {
    await withClient(async (client, group) => {
      for (const path of ['//evil.example/x', 'http://evil.example/x', '/a\\b', '\\\\evil/x', '@evil/x', '/a\r\nb', '/a#b', '/\ud800']) {
        const error = await client.get(group, path).then(
          () => assert.fail(`${JSON.stringify(path)} was accepted`),
          (e: unknown) => e,
        );
        assert.ok(isXhttpError(error) && error.field === 'path', `${JSON.stringify(path)}: ${String(error)}`);
      }
      assert.equal(seen.length, 0);
    });
  });
});

describe('XResponse.ok and typed json', () => {
  test('ok is true for 200–299 only; body.json<T>() gives T', async () => {
    await withClient(async (client, group) => {
      for (const [status, ok] of [
        [200, true],
        [204, true],
        [299, true],
        [300, false],
        [304, false],
        [404, false],
        [503, false],
      ] as const) {
        const res = await client.get(group, '/s', { query: { status } });
        assert.equal(res.status, status);
        assert.equal(res.ok, ok, String(status));
      }
      const res = await client.get(group, '/users/42');
      const user = await res.body.json<{ id: number; name: string }>();
      const id: number = user.id; // compiles: typed, not unknown
      assert.equal(id, 42);
      assert.equal(JSON.stringify(res).includes('"ok":true'), true);
    });
  });
});

describe('AddressGroup basePath and headers', () => {
  test('basePath prefixes every path; client < group < call headers', async () => {
    await withClient(
      async (client, group) => {
        await client.get(group, '/users', { headers: { 'x-call': 'c', 'x-both': 'call' } });
        assert.equal(last().path, '/api/v2/users');
        assert.equal(last().headers['x-client'], 'client');
        assert.equal(last().headers['x-group'], 'group');
        assert.equal(last().headers['x-call'], 'c');
        assert.equal(last().headers['x-both'], 'call');
        assert.equal(last().headers['x-shared'], 'group', 'the group wins over the client');
        await client.put(group, '/users/1', { json: {}, query: { a: 1 } });
        assert.equal(last().url, '/api/v2/users/1?a=1');
        assert.equal(last().headers['x-both'], 'group');
        // A url to the same origin is the url as given: no base path, no group headers.
        await client.request({ url: `http://${backend.hostPort}/plain` });
        assert.equal(last().path, '/plain');
        assert.equal(last().headers['x-group'], undefined);
      },
      { basePath: '/api/v2/', headers: { 'X-Group': 'group', 'x-both': 'group', 'x-shared': 'group' } },
      { headers: { 'x-client': 'client', 'x-shared': 'client' } },
    );
  });

  test('bad basePath or headers throw INVALID_ARGUMENT naming the option', () => {
    const cases: [string, object][] = [
      ['options.basePath', { basePath: 'api' }],
      ['options.basePath', { basePath: '/api?x=1' }],
      ['options.basePath', { basePath: '//evil' }],
      ['options.basePath', { basePath: '/a\nb' }],
      ['options.headers.content-length', { headers: { 'content-length': '1' } }],
      ['options.headers.x-a', { headers: { 'x-a': 'v\r\nx-b: 1' } }],
    ];
    for (const [field, options] of cases)
      assert.throws(
        () => new AddressGroup('static://127.0.0.1:9', options),
        (e) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === field,
        field,
      );
  });
});
