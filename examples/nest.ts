// The README's NestJS module, booted as a Nest application context against a loopback backend,
// one call each way, then closed (which closes the client and the groups the module built).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';

const backend = createServer((req, res) => {
  req.resume().on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: req.url?.split('/').pop(), method: req.method }));
  });
});
await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
const port = (backend.address() as AddressInfo).port;

// #region readme
import { Inject, Injectable, Module } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { RxHttpModule, RxHttpService } from 'rxhttp/nest';

@Injectable()
export class UsersClient {
  constructor(@Inject(RxHttpService) private readonly http: RxHttpService) {}

  async profile(id: string) {
    // 'users' is a named group: balanced over its hosts, a 503 retried on another one.
    const res = await firstValueFrom(
      this.http.get(`http://users/profile/${id}`, { retry: { maxAttempts: 3 } }),
    );
    return res.body.json();
  }

  rename(id: string, name: string) {
    return this.http.patch(`http://users/profile/${id}`, { name }); // objects go as JSON
  }
}

@Module({
  imports: [
    RxHttpModule.registerAsync({
      useFactory: () => ({
        requestTimeout: 5_000,
        // or 'dns+srv://_http._tcp.users.default.svc.cluster.local'; examples/nest.ts serves `port` on loopback
        groups: { users: `static://127.0.0.1:${port}` },
      }),
    }),
  ],
  providers: [UsersClient],
})
export class UsersModule {}
// #endregion readme

const app = await NestFactory.createApplicationContext(UsersModule, { logger: false });
const users = app.get(UsersClient);
console.log(await users.profile('42'));
console.log((await firstValueFrom(users.rename('42', 'Ada'))).status);
await app.close();
backend.close();
