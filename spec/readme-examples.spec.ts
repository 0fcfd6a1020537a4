import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

// The README's code blocks are the examples/ files' `// #region readme` parts, verbatim: the consumer
// check (scripts/consumer-check.mjs) type-checks and runs those files against the packed library, so a
// README block that matches its file cannot drift from what works.
const MARKER = /<!-- example: (examples\/[\w.-]+\.ts) -->\n```ts\n([\s\S]*?)```/g;
const REGION = /^\/\/ #region readme\n([\s\S]*?)^\/\/ #endregion readme$/m;

function region(file: string): string {
  const m = REGION.exec(readFileSync(file, 'utf8'));
  assert.ok(m?.[1] !== undefined, `${file} has no // #region readme ... // #endregion readme`);
  return m[1];
}

test('every README block marked <!-- example: examples/x.ts --> is that file’s readme region, verbatim', () => {
  const readme = readFileSync('README.md', 'utf8');
  const blocks = [...readme.matchAll(MARKER)];
  assert.ok(blocks.length > 0, 'README.md has no example markers');
  for (const [, file, block] of blocks)
    assert.equal(block, region(file!), `README block for ${file} differs from the file`);
});

test('every examples/*.ts appears in the README exactly once', () => {
  const readme = readFileSync('README.md', 'utf8');
  const shown = [...readme.matchAll(MARKER)].map((m) => m[1]);
  const files = readdirSync('examples')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `examples/${f}`)
    .sort();
  assert.deepEqual([...shown].sort(), files);
});
