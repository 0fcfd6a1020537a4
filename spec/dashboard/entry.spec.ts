import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { request } from 'undici';

// The subpath export resolves through package.json "exports" to dist/ (built by `npm test`): the
// page, script and stylesheet are TS string modules, so the build ships them with no copy step.
test("import { serveDashboard } from 'rxhttp/dashboard' serves the page from the built package", async () => {
  assert.ok(existsSync('dist/dashboard/index.js'), 'run `npm run build` first (npm test does)');
  const { serveDashboard } = await import('rxhttp/dashboard');
  const { Client } = await import('rxhttp');
  const client = new Client();
  const dashboard = await serveDashboard(client);
  try {
    for (const path of ['', 'app.js', 'app.css', 'snapshot.json']) {
      const res = await request(dashboard.url + path);
      assert.equal(res.statusCode, 200, path);
      assert.ok((await res.body.text()).length > 0);
    }
  } finally {
    await dashboard.close();
    await client.close();
  }
});
