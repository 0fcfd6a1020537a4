import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';

// rxhttp/operators must run in a browser: it bundles for the browser platform (esbuild refuses a
// Node built-in there) and pulls in neither undici nor prom-client. The size goes to bench/RESULTS.md.
test('rxhttp/operators bundles for the browser with no Node built-in, no undici, no prom-client', async () => {
  // esbuild comes with tsx (a dev dependency), so this runs wherever the specs do.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: ['lib/operators/index.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    external: ['rxjs'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  assert.deepEqual(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.deepEqual(
    inputs.filter((f) => /node_modules|^node:/.test(f)),
    [],
    'only rxhttp sources in the bundle (rxjs external)',
  );
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  assert.deepEqual([...new Set(imports)].sort(), ['rxjs']);
  const bytes = result.outputFiles[0]!.contents;
  assert.ok(gzipSync(bytes).length > 0);
});
