import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

// The package imports itself by name through package.json "exports" (dist/, built by `npm test`).
test("import { Client, AddressGroup } from 'rxhttp' works from outside lib/ (built dist with types)", async () => {
  assert.ok(
    existsSync('dist/index.js') && existsSync('dist/index.d.ts'),
    'run `npm run build` first (npm test does)',
  );
  const mod = await import('rxhttp');
  assert.equal(typeof mod.Client, 'function');
  assert.equal(typeof mod.AddressGroup, 'function');
  assert.equal(typeof mod.XhttpError, 'function');
  assert.equal(typeof mod.registerResolver, 'function');
  const client = new mod.Client();
  const group = new mod.AddressGroup('static://127.0.0.1:9');
  assert.equal(group.addresses.length, 1);
  group.close();
  await client.close();
});
