#!/usr/bin/env node
// Runs every spec under spec/ with node:test. Node 20 does not expand globs for --test, so we list
// the files ourselves. Extra arguments filter by substring: `node scripts/run-specs.mjs breaker`.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'helpers' && name !== 'artifacts') out.push(...walk(p));
    } else if (name.endsWith('.spec.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('spec').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no spec files matched');
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
