import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { firstValueFrom, forkJoin } from 'rxjs';
import { AddressGroup } from '../../lib/index.js';
import {
  RxHttpHealthIndicator,
  RxHttpModule,
  RxHttpService,
  type RxHttpModuleOptions,
  type RxHttpOptionsFactory,
} from '../../lib/nest/index.js';
import { LeakProbe } from '../helpers/fault-leaks.js';
import { activeResources, settle } from '../helpers/handles.js';
import { startEchoBackend, type Seen } from './backend.js';
import { SocketProbe } from './sockets.js';

// tsx (esbuild) emits no decorator metadata: every constructor parameter names its token.
@Injectable()
class UsersClient {
  constructor(@Inject(RxHttpService) readonly http: RxHttpService) {}
  profile() {
    return this.http.get('http://users/profile', { retry: { maxAttempts: 2 } });
  }
}

const snapshot = () => activeResources().sort();

test('registerAsync: a provider calls two backends through a named group, the 503 is retried on the other, and app.close() leaves no handle', async (t) => {
  await settle();
  const before = snapshot();
  const flaky = await startEchoBackend('fail-first');
  const steady = await startEchoBackend('ok');
  t.after(() => Promise.all([flaky.stop(), steady.stop()]));
  await settle();
  const probe = await LeakProbe.start();
  const sockets = SocketProbe.start();
  t.after(() => {
    sockets.stop();
    probe.stop();
  });

  @Module({
    imports: [
      RxHttpModule.registerAsync({
        useFactory: () => ({
          groups: { users: `static://${flaky.hostPort},${steady.hostPort}` },
          requestTimeout: 5_000,
        }),
      }),
    ],
    providers: [UsersClient],
  })
  class AppModule {}

  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const users = app.get(UsersClient);
  // Concurrent calls spread over both hosts (the balancer counts outstanding requests), so the
  // flaky host gets its first request; a few rounds at most, whatever the balancer picks first.
  let flakySeen: readonly Seen[] = [];
  for (let round = 0; round < 5 && flakySeen.length === 0; round++) {
    const responses = await firstValueFrom(forkJoin(Array.from({ length: 4 }, () => users.profile())));
    for (const r of responses) assert.equal(r.status, 200, 'the 503 never reaches the caller');
    const retried = responses.filter((r) => r.attempts === 2);
    flakySeen = await flaky.seen();
    if (flakySeen.length > 0) {
      assert.equal(retried.length, 1, 'exactly one call met the 503 and was retried');
      assert.equal(retried[0]?.address.port, steady.port, 'the retry went to the other host');
    }
  }
  assert.equal(flakySeen[0]?.status, 503, 'the flaky backend was hit and answered 503');
  const steadySeen = await steady.seen();
  assert.ok(steadySeen.length > 0, 'the steady backend was hit');
  assert.ok(
    steadySeen.some((s) => s.attempt === '2' && s.url === '/profile'),
    'the second attempt, marked x-rxhttp-attempt: 2, reached the steady backend',
  );

  const health = await app.get(RxHttpHealthIndicator).check();
  assert.equal(health.rxhttp.status, 'up');
  assert.deepEqual(
    health.rxhttp.health.groups.map((g) => g.name),
    ['users'],
  );
  assert.ok(sockets.open > 0, 'pooled keep-alive sockets are open before close');

  // Backends still up: any socket the client kept open would still show here.
  await app.close();
  await settle(100);
  sockets.stop();
  assert.equal(sockets.open, 0, 'app.close() closed every pooled socket');
  await probe.assertClean('after app.close()');
  await flaky.stop();
  await steady.stop();
  await settle();
  assert.deepEqual(snapshot(), before);
});

test('forRoot({ isGlobal: true }) makes RxHttpService injectable in modules that do not import it', async (t) => {
  await settle();
  const before = snapshot();
  const echo = await startEchoBackend();
  t.after(() => echo.stop());
  const sockets = SocketProbe.start();
  t.after(() => sockets.stop());
  @Module({ providers: [UsersClient], exports: [UsersClient] })
  class FeatureModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      RxHttpModule.forRoot({ isGlobal: true, groups: { users: `static://${echo.hostPort}` } }),
      FeatureModule,
    ],
  }).compile();
  const http = moduleRef.get(RxHttpService);
  assert.equal(moduleRef.get(UsersClient).http, http, 'one shared service');
  assert.deepEqual([...http.groups.keys()], ['users']);
  const res = await firstValueFrom(http.post('http://users/items', { name: 'Ada' }));
  assert.equal(res.status, 200);
  const seen = await res.body.json<Seen>();
  assert.equal(seen.contentType, 'application/json');
  assert.deepEqual(JSON.parse(seen.body), { name: 'Ada' });
  await moduleRef.close();
  await settle(100);
  assert.equal(sockets.open, 0, 'moduleRef.close() closed every pooled socket');
  await echo.stop();
  await settle(100);
  assert.deepEqual(snapshot(), before);
});

test('register() stays module-scoped: a sibling module that does not import it cannot inject the service', async () => {
  @Module({ providers: [UsersClient] })
  class FeatureModule {}
  await assert.rejects(
    Test.createTestingModule({
      imports: [RxHttpModule.register({ groups: { users: 'static://127.0.0.1:9' } }), FeatureModule],
    }).compile(),
    /RxHttpService/,
  );
});

test('forRootAsync with imports and inject; a ready-made AddressGroup stays open, the built ones close', async () => {
  const CONFIG = Symbol('CONFIG');
  const shared = new AddressGroup('static://127.0.0.1:9', { name: 'shared' });
  @Module({
    providers: [{ provide: CONFIG, useValue: { orders: 'static://127.0.0.1:10' } }],
    exports: [CONFIG],
  })
  class ConfigModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      RxHttpModule.forRootAsync({
        isGlobal: true,
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (cfg: { orders: string }) => ({
          connectTimeout: 1_000,
          groups: {
            orders: cfg.orders,
            shared,
            billing: { target: 'static://127.0.0.1:11', options: { loadBalancer: 'round-robin' } },
          },
        }),
      }),
    ],
  }).compile();
  const http = moduleRef.get(RxHttpService);
  assert.deepEqual([...http.groups.keys()], ['orders', 'shared', 'billing']);
  assert.equal(http.groups.get('shared'), shared);
  assert.equal(http.client.group('orders'), http.groups.get('orders'));
  await moduleRef.close();
  assert.equal(http.groups.get('orders')?.closed, true);
  assert.equal(http.groups.get('billing')?.closed, true);
  assert.equal(shared.closed, false, 'the caller owns the group it passed in');
  shared.close();
});

test('registerAsync({ useClass }) calls the RxHttpOptionsFactory', async () => {
  @Injectable()
  class Options implements RxHttpOptionsFactory {
    createRxHttpOptions(): RxHttpModuleOptions {
      return { groups: { users: 'static://127.0.0.1:9' }, retryBudget: false };
    }
  }
  @Module({ imports: [RxHttpModule.registerAsync({ useClass: Options })], providers: [UsersClient] })
  class AppModule {}
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  assert.ok(app.get(UsersClient).http.groups.has('users'));
  await app.close();
});

test('a bad group fails the bootstrap with INVALID_ARGUMENT naming the group', async () => {
  await assert.rejects(
    Test.createTestingModule({
      imports: [RxHttpModule.register({ groups: { ok: 'static://127.0.0.1:9', users: 'nope://x' } })],
    }).compile(),
    (err: Error & { code?: string; field?: string }) =>
      err.code === 'INVALID_ARGUMENT' && err.field === 'groups.users',
  );
});
