import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { ANGULAR_SKIP } from '../helpers/angular-node.js';

const run = promisify(execFile);

// Plain node, no tsx: the built dist/ as a user's server would load it through package.json "exports".
async function node(script: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
  return stdout.trim();
}

test(
  'the built rxhttp/angular and rxhttp/angular/server route a named group under plain node, then exit',
  { skip: ANGULAR_SKIP },
  async () => {
    assert.ok(
      existsSync('dist/angular/index.js') && existsSync('dist/angular/server/index.d.ts'),
      'dist/angular is built',
    );
    const out = await node(`
    import '@angular/compiler';
    import { createServer } from 'node:http';
    import { provideZonelessChangeDetection } from '@angular/core';
    import { HttpClient, provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
    import { createApplication } from '@angular/platform-browser';
    import { INITIAL_CONFIG, platformServer } from '@angular/platform-server';
    import { firstValueFrom } from 'rxjs';
    import { rxhttpInterceptor } from 'rxhttp/angular';
    import { provideRxHttp, RXHTTP_CLIENT } from 'rxhttp/angular/server';
    const server = createServer((req, res) => res.end('hi ' + req.url));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const platformRef = platformServer([{ provide: INITIAL_CONFIG, useValue: { document: '<html></html>', url: 'http://localhost/' } }]);
    const app = await createApplication({ providers: [
      provideZonelessChangeDetection(),
      provideHttpClient(withFetch(), withInterceptors([rxhttpInterceptor({ retry: { maxAttempts: 2 } })])),
      provideRxHttp({ groups: { users: 'static://127.0.0.1:' + server.address().port } }),
    ] }, { platformRef });
    const text = await firstValueFrom(app.injector.get(HttpClient).get('http://users/u', { responseType: 'text' }));
    const calls = app.injector.get(RXHTTP_CLIENT).groups.map((g) => g.name);
    app.destroy();
    platformRef.destroy();
    server.close();
    console.log(JSON.stringify({ text, calls }));
  `);
    assert.deepEqual(JSON.parse(out), { text: 'hi /u', calls: ['users'] });
  },
);
