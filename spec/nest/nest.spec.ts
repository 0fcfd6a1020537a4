import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { firstValueFrom, lastValueFrom, toArray, forkJoin } from 'rxjs';
import { RxHttpModule, RxHttpService, RxHttpHealthIndicator } from '../../lib/nest/index.js';
import { startChildBackend } from '../helpers/child-backend.js';
import { activeResources, settle } from '../helpers/handles.js';

@Injectable()
class UsersClient {
  constructor(@Inject(RxHttpService) readonly http: RxHttpService) {}
  profile() {
    return this.http.get('http://users/profile', { retry: { maxAttempts: 2 } });
  }
}

test('a real Nest app with RxHttpModule.registerAsync calls two backends through a named group, retrying, and closes clean', async () => {
  const ok = await startChildBackend('ok');
  const failing = await startChildBackend('fail');
  await settle();
  const baseline = activeResources().sort();

  @Module({
    imports: [
      RxHttpModule.registerAsync({
        useFactory: async () => ({
          requestTimeout: 5_000,
          retryBudget: false,
          groups: {
            users: {
              target: `static://${ok.hostPort},${failing.hostPort}`,
              options: { loadBalancer: 'round-robin' },
            },
          },
        }),
      }),
    ],
    providers: [UsersClient],
  })
  class AppModule {}

  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  app.enableShutdownHooks();
  const users = app.get(UsersClient);
  const statuses: number[] = [];
  const events = users.http.client.events$.subscribe((e) => {
    if (e.type === 'attempt-end' && e.status !== undefined) statuses.push(e.status);
  });
  const responses = await firstValueFrom(forkJoin(Array.from({ length: 6 }, () => users.profile())));
  for (const r of responses) {
    assert.equal(r.status, 200);
    assert.equal(r.address.port, ok.port);
  }
  assert.ok(statuses.includes(503), 'the failing backend was tried');
  assert.ok(
    responses.some((r) => r.attempts === 2),
    'a call was retried on the other backend',
  );
  const health = await app.get(RxHttpHealthIndicator).check();
  assert.equal(health.rxhttp.status, 'up');
  events.unsubscribe();

  await app.close();
  await settle(100);
  assert.deepEqual(activeResources().sort(), baseline);
  await ok.stop();
  await failing.stop();
});

test('forRoot with isGlobal makes RxHttpService injectable everywhere; post sends JSON', async () => {
  const ok = await startChildBackend('ok');
  @Module({ providers: [UsersClient], exports: [UsersClient] })
  class FeatureModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      RxHttpModule.forRoot({ isGlobal: true, groups: { users: `static://${ok.hostPort}` } }),
      FeatureModule,
    ],
  }).compile();
  const http = moduleRef.get(RxHttpService);
  assert.equal(moduleRef.get(UsersClient).http, http);
  const res = await lastValueFrom(http.post('http://users/items', { a: 1 }).pipe(toArray()));
  assert.equal(res[0]?.status, 200);
  assert.ok(http.groups.has('users'));
  await moduleRef.close();
  await ok.stop();
});

test('rxhttp/nest loads from the built package', async () => {
  const mod = await import('rxhttp/nest');
  assert.equal(typeof mod.RxHttpModule.register, 'function');
  assert.equal(typeof mod.RxHttpModule.registerAsync, 'function');
  assert.equal(typeof mod.RxHttpService, 'function');
});
