import { test } from 'node:test';
import assert from 'node:assert/strict';

// rxhttp/angular must run in a browser: it bundles for the browser platform (esbuild refuses a Node
// built-in there) with nothing of undici or prom-client; only rxjs and Angular are left outside.
// rxhttp/angular/server is the Node side and may not be reached from it.
test('rxhttp/angular bundles for the browser with no Node built-in, no undici, no rxhttp/angular/server', async () => {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: ['lib/angular/index.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    external: ['rxjs', '@angular/*'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  assert.deepEqual(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.deepEqual(
    inputs.filter((f) =>
      /node_modules|^node:|lib\/(client|transport|observability)\/|angular\/server/.test(f),
    ),
    [],
    'only browser-safe rxhttp sources in the bundle',
  );
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  assert.deepEqual([...new Set(imports)].sort(), ['@angular/common/http', 'rxjs']);
});
