import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findChromium, isCI, requireNode } from './helpers/ci-env.js';

test('isCI: CI=true and CI=1 and any other value count; unset, empty, false and 0 do not', () => {
  for (const v of ['true', '1', 'yes', 'TRUE', 'woodpecker']) assert.equal(isCI({ CI: v }), true, v);
  for (const v of [undefined, '', 'false', 'FALSE', '0', ' '])
    assert.equal(isCI({ CI: v }), false, String(v));
});

test('requireNode: skips with the version it needs on an older Node, runs on the same or newer', () => {
  const skip = requireNode(22, 3, 'Request.bytes()', '20.18.1');
  assert.ok(typeof skip === 'string' && skip.includes('Node 22.3') && skip.includes('20.18.1'), String(skip));
  assert.equal(requireNode(22, 3, 'x', '22.3.0'), false);
  assert.equal(requireNode(22, 3, 'x', '24.0.0'), false);
  assert.notEqual(requireNode(22, 3, 'x', '22.2.9'), false);
  assert.equal(requireNode(20, 0, 'x'), false, 'the running Node is at least 20.0');
});

test('findChromium: the first executable chromium on PATH wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ci-env-'));
  try {
    writeFileSync(join(dir, 'chromium-browser'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(dir, 'chromium'), 'not executable', { mode: 0o644 });
    assert.equal(findChromium(`/nonexistent${delimiter}${dir}`), join(dir, 'chromium-browser'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
