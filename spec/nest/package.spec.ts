import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Plain node, no tsx: the built dist/ as a user's app would load it through package.json "exports".
async function node(script: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
  return stdout.trim();
}

test('rxhttp/nest loads from the built package (run `npm run build` first; npm test does)', async () => {
  assert.ok(existsSync('dist/nest/index.js') && existsSync('dist/nest/index.d.ts'), 'dist/nest is built');
  const mod = await import('rxhttp/nest');
  for (const name of ['RxHttpModule', 'RxHttpService', 'RxHttpHealthIndicator'] as const)
    assert.equal(typeof mod[name], 'function', name);
  assert.equal(typeof mod.RxHttpModule.register, 'function');
  assert.equal(typeof mod.RxHttpModule.registerAsync, 'function');
  assert.equal(typeof mod.RxHttpModule.forRoot, 'function');
  assert.equal(typeof mod.RxHttpModule.forRootAsync, 'function');
});

test('the built rxhttp/nest boots a Nest application context under plain node and closes', async () => {
  const out = await node(`
    import { NestFactory } from '@nestjs/core';
    import { RxHttpModule, RxHttpService, RxHttpHealthIndicator } from 'rxhttp/nest';
    const app = await NestFactory.createApplicationContext(
      RxHttpModule.forRoot({ groups: { users: 'static://127.0.0.1:9' } }), { logger: false });
    const http = app.get(RxHttpService);
    const health = await app.get(RxHttpHealthIndicator).check();
    await app.close();
    console.log(JSON.stringify({ groups: [...http.groups.keys()], status: health.rxhttp.status }));
  `);
  assert.deepEqual(JSON.parse(out), { groups: ['users'], status: 'up' });
});

test('the core entry loads nothing of Nest nor reflect-metadata', async () => {
  const out = await node(`
    import { createRequire } from 'node:module';
    const before = typeof Reflect.getMetadata;
    await import('rxhttp');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({
      nest: loaded.filter((f) => f.includes('@nestjs')).length,
      reflect: loaded.filter((f) => f.includes('reflect-metadata')).length,
      getMetadata: [before, typeof Reflect.getMetadata],
    }));
  `);
  assert.deepEqual(JSON.parse(out), { nest: 0, reflect: 0, getMetadata: ['undefined', 'undefined'] });
});
