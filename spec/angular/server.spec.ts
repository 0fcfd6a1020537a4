// First: Angular's packages are partially compiled and JIT-compile as they load.
import '@angular/compiler';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpErrorResponse, provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { firstValueFrom } from 'rxjs';
import { startAngularApp } from '../helpers/angular.js';
import { ANGULAR_SKIP } from '../helpers/angular-node.js';
import { readBody, startBackend, staticTarget, type Backend } from '../helpers/loopback.js';
import { resourceCounts, settle } from '../helpers/handles.js';
import { rxhttpInterceptor } from '../../lib/angular/index.js';
import { RXHTTP_CLIENT, provideRxHttp } from '../../lib/angular/server/index.js';
import { Client } from '../../lib/client/client.js';
import type { CallEvent } from '../../lib/events/events.js';
import { isXhttpError } from '../../lib/errors.js';

// Must-show 3 (server side): provideRxHttp sends HttpClient requests to a named group through an
// rxhttp Client (events$, balancing over two loopback hosts) and every other one to Angular's own
// backend; the client it made closes with the application.

function connections(b: Backend): Promise<number> {
  return new Promise((resolve, reject) => b.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
}

async function backends(t: { after(fn: () => unknown): void }, n: number): Promise<Backend[]> {
  const out: Backend[] = [];
  for (let i = 0; i < n; i++) {
    const b = await startBackend((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/missing')) res.statusCode = 404;
      res.end(JSON.stringify({ host: i, url: req.url, accept: req.headers.accept }));
    });
    t.after(() => b.close());
    out.push(b);
  }
  return out;
}

test(
  'http://users/... goes through the rxhttp client and its balancer; another URL goes to Angular',
  { skip: ANGULAR_SKIP },
  async (t) => {
    const [a, b, other] = await backends(t, 3);
    const app = await startAngularApp([
      provideHttpClient(withFetch()),
      provideRxHttp({
        groups: { users: { target: staticTarget(a!, b!), options: { loadBalancer: 'round-robin' } } },
      }),
    ]);
    t.after(() => app.close());
    const client = app.injector.get(RXHTTP_CLIENT);
    const events: CallEvent[] = [];
    const sub = client.events$.subscribe((e) => events.push(e));
    t.after(() => sub.unsubscribe());

    const hosts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const body = await firstValueFrom(
        app.http.get<{ host: number; accept: string }>(`http://users/users/${i}?q=1`),
      );
      hosts.push(body.host);
      assert.equal(body.accept, 'application/json, text/plain, */*', "Angular's default Accept");
    }
    assert.deepEqual(hosts.sort(), [0, 0, 0, 1, 1, 1], 'round-robin over both hosts');
    assert.equal(a!.hits + b!.hits, 6);
    const ends = events.filter((e) => e.type === 'call-end');
    assert.equal(ends.length, 6);
    assert.ok(ends.every((e) => e.group === 'users' && e.method === 'GET'));
    const keys = new Set(events.flatMap((e) => (e.type === 'attempt-start' ? [e.key] : [])));
    assert.deepEqual([...keys].sort(), [a!.hostPort, b!.hostPort].sort());

    // Not a group: Angular's FetchBackend, which the client never sees.
    const before = events.length;
    const direct = await firstValueFrom(app.http.get<{ host: number }>(`http://${other!.hostPort}/x`));
    assert.equal(direct.host, 2);
    assert.equal(other!.hits, 1);
    assert.equal(events.length, before, 'no client event for a URL that names no group');

    // A 404 through the client is Angular's HttpErrorResponse, its JSON body parsed.
    const e = await firstValueFrom(app.http.get('http://users/missing?token=s3cret')).catch(
      (x: unknown) => x,
    );
    assert.ok(e instanceof HttpErrorResponse);
    assert.equal(e.status, 404);
    assert.equal((e.error as { url: string }).url, '/missing?token=s3cret');
    assert.doesNotMatch(e.message, /s3cret/);

    // The client is the application's: it closes when the application is destroyed.
    app.close();
    const closed = await firstValueFrom(client.request$({ url: 'http://users/' })).catch((x: unknown) => x);
    assert.ok(isXhttpError(closed) && closed.field === 'client', 'closed with the application');
  },
);

test(
  'interceptors still run first: rxhttpInterceptor retries a 503 from a group; failures are HttpErrorResponse',
  { skip: ANGULAR_SKIP },
  async (t) => {
    let n = 0;
    const flaky = await startBackend((_req, res) => {
      res.statusCode = ++n === 1 ? 503 : 200;
      res.end('ok');
    });
    t.after(() => flaky.close());
    const app = await startAngularApp([
      provideHttpClient(
        withFetch(),
        withInterceptors([rxhttpInterceptor({ retry: { maxAttempts: 2, backoff: { initialDelay: 5 } } })]),
      ),
      provideRxHttp({ groups: { flaky: staticTarget(flaky) } }),
    ]);
    t.after(() => app.close());
    assert.equal(await firstValueFrom(app.http.get('http://flaky/', { responseType: 'text' })), 'ok');
    assert.equal(flaky.hits, 2);

    // A transport failure of the client: status 0, the XhttpError inside.
    await flaky.close();
    const e = await firstValueFrom(app.http.get('http://flaky/', { responseType: 'text' })).catch(
      (x: unknown) => x,
    );
    assert.ok(e instanceof HttpErrorResponse);
    assert.equal(e.status, 0);
    assert.ok(isXhttpError(e.error));
    assert.equal(e.statusText, e.error.code);
  },
);

test(
  'a shared Client is used as given and not closed with the application',
  { skip: ANGULAR_SKIP },
  async (t) => {
    const [a] = await backends(t, 1);
    const client = new Client();
    t.after(() => client.close());
    const { AddressGroup } = await import('../../lib/group/address-group.js');
    const group = new AddressGroup(staticTarget(a!), { name: 'users' });
    t.after(() => group.close());
    client.register('users', group);
    const app = await startAngularApp([provideHttpClient(withFetch()), provideRxHttp({ client })]);
    assert.equal(app.injector.get(RXHTTP_CLIENT), client);
    assert.deepEqual(await firstValueFrom(app.http.get<{ host: number }>('http://users/u')), {
      host: 0,
      url: '/u',
      accept: 'application/json, text/plain, */*',
    });
    app.close();
    const res = await firstValueFrom(client.request$({ url: 'http://users/again' }));
    assert.equal(res.status, 200, 'still open after the application');
  },
);

test(
  'provideRxHttp listed before provideHttpClient fails at start, naming provideRxHttp',
  { skip: ANGULAR_SKIP },
  async () => {
    await assert.rejects(
      startAngularApp([
        provideRxHttp({ groups: { users: 'static://127.0.0.1:9' } }),
        provideHttpClient(withFetch()),
      ]),
      (e: unknown) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'provideRxHttp',
    );
  },
);

test('bad configuration throws INVALID_ARGUMENT naming the field', { skip: ANGULAR_SKIP }, () => {
  const client = new Client();
  try {
    const cases: Array<[unknown, string]> = [
      [{ client, groups: {} }, 'groups'],
      [{ groups: 'users' }, 'groups'],
      [{ client: {}, extra: 1 }, 'provideRxHttp.extra'],
    ];
    for (const [config, field] of cases)
      assert.throws(
        () => provideRxHttp(config as never),
        (e: unknown) => isXhttpError(e) && e.field === field,
        field,
      );
  } finally {
    void client.close();
  }
});

test(
  'a bad group target fails the application start with its name, leaving nothing running',
  { skip: ANGULAR_SKIP },
  async () => {
    await assert.rejects(
      startAngularApp([provideHttpClient(withFetch()), provideRxHttp({ groups: { users: 'nope://x' } })]),
      (e: unknown) => isXhttpError(e) && e.field === 'groups.users',
    );
  },
);

test(
  'closing the application closes the client it made: its connections and handles go',
  { skip: ANGULAR_SKIP },
  async (t) => {
    const [a, b] = await backends(t, 2);
    // Idle connections stay open a minute on the server side: only the client closing them ends them.
    for (const s of [a!, b!]) s.server.keepAliveTimeout = 60_000;
    await settle();
    const before = resourceCounts();
    const app = await startAngularApp([
      provideHttpClient(withFetch()),
      provideRxHttp({ groups: { users: staticTarget(a!, b!) }, callOptions: { retry: { maxAttempts: 2 } } }),
    ]);
    for (let i = 0; i < 4; i++) await firstValueFrom(app.http.get(`http://users/u${i}`));
    assert.equal(a!.hits + b!.hits, 4);
    assert.ok(
      (await connections(a!)) + (await connections(b!)) > 0,
      'kept-alive connections while the app runs',
    );
    app.close();
    let open = -1;
    for (let i = 0; i < 200 && open !== 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50)); // up to 10 s: generous under load
      open = (await connections(a!)) + (await connections(b!));
    }
    assert.equal(open, 0, 'the client closed its connections with the application');
    await settle();
    assert.deepEqual(resourceCounts(), before);
  },
);

test(
  'bodies both ways: a JSON POST arrives as JSON, arraybuffer and blob responses are bytes',
  { skip: ANGULAR_SKIP },
  async (t) => {
    let got: { type: string | undefined; body: string } | undefined;
    const echo = await startBackend((req, res) => {
      void readBody(req).then((body) => {
        got = { type: req.headers['content-type'], body };
        res.setHeader('content-type', 'application/octet-stream');
        res.end(Buffer.from([1, 2, 3]));
      });
    });
    t.after(() => echo.close());
    const app = await startAngularApp([
      provideHttpClient(withFetch()),
      provideRxHttp({ groups: { echo: staticTarget(echo) } }),
    ]);
    t.after(() => app.close());
    const bytes = await firstValueFrom(
      app.http.post('http://echo/orders', { id: 7 }, { responseType: 'arraybuffer' }),
    );
    assert.deepEqual(got, { type: 'application/json', body: '{"id":7}' });
    assert.deepEqual([...new Uint8Array(bytes)], [1, 2, 3]);
    const blob = await firstValueFrom(app.http.put('http://echo/raw', 'plain', { responseType: 'blob' }));
    assert.deepEqual(got, { type: 'text/plain', body: 'plain' });
    assert.equal(blob.type, 'application/octet-stream');
    assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [1, 2, 3]);
  },
);
