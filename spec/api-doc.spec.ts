import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// docs/api.md is the public reference: it must name everything the entry points export, and no
// comment in lib/ may send a reader to a file the package does not have.

const ENTRIES = [
  'lib/index.ts',
  'lib/dashboard/index.ts',
  'lib/nest/index.ts',
  'lib/operators/index.ts',
  'lib/angular/index.ts',
  'lib/angular/server/index.ts',
];

/** Names an entry file exports, values and types alike (`export { A, type B as C } from …`). */
function exportedNames(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const names: string[] = [];
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(',')) {
      const words = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/);
      const name = (words[1] ?? words[0])!.trim();
      if (name !== '') names.push(name);
    }
  }
  return names;
}

test('docs/api.md names every export of every entry point (rxhttp, /dashboard, /nest, /operators, /angular, /angular/server)', () => {
  const doc = readFileSync('docs/api.md', 'utf8');
  const missing: string[] = [];
  for (const entry of ENTRIES) {
    const names = exportedNames(entry);
    assert.ok(names.length > 3, `found the exports of ${entry}`);
    for (const name of names) if (!new RegExp(`\\b${name}\\b`).test(doc)) missing.push(`${entry}: ${name}`);
  }
  assert.deepEqual(missing, [], 'exports absent from docs/api.md');
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no comment in lib/ points at a design note the package does not ship', () => {
  const offenders = sources('lib').flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
      .filter(({ line }) => /\b(?:API|DESIGN|ALGORITHMS|STYLE)\.md\b/.test(line))
      .map(({ at }) => at),
  );
  assert.deepEqual(offenders, []);
});
