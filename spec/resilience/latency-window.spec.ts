import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketOf, LatencyWindow, upperBound } from '../../lib/resilience/latency-window.js';

test('a bucket holds its latency: the upper bound is never below it and at most ~13 % above', () => {
  for (const ms of [0.07, 0.5, 1, 1.9, 2, 2.2, 3.7, 10, 99.9, 100, 1234, 60_000, 3_600_000]) {
    const ub = upperBound(bucketOf(ms));
    assert.ok(ub >= ms && ub <= ms * 1.13, `${ms} ms → ${ub}`);
  }
});

test('the percentile of the filling window, then of the last full one', () => {
  const w = new LatencyWindow(1_000, 0);
  assert.equal(w.percentile(0.5, 10, 0), undefined, 'no samples yet');
  for (let i = 0; i < 95; i++) w.record(2, 10);
  for (let i = 0; i < 5; i++) w.record(100, 10);
  // 100 samples: the p95 is the last fast one, the p99 a slow one.
  assert.ok(w.percentile(0.95, 100, 20)! < 2.3);
  assert.ok(w.percentile(0.99, 100, 20)! >= 100);
  assert.equal(w.percentile(0.95, 101, 20), undefined, 'fewer than minSamples');
  // Next window: only slow answers so far; the full window still rules.
  for (let i = 0; i < 200; i++) w.record(50, 1_100);
  assert.ok(w.percentile(0.5, 100, 1_200)! < 2.3);
  // And once that window is full, it does.
  assert.ok(w.percentile(0.5, 100, 2_050)! >= 50);
});

test('after an idle spell the filling window answers as soon as it holds minSamples', () => {
  const w = new LatencyWindow(1_000, 0);
  for (let i = 0; i < 100; i++) w.record(3, 500);
  assert.ok(w.percentile(0.5, 100, 1_500)! >= 3);
  // Idle for ten windows: the last full window is empty.
  assert.equal(w.percentile(0.5, 100, 11_000), undefined);
  for (let i = 0; i < 99; i++) w.record(7, 11_100);
  assert.equal(w.percentile(0.5, 100, 11_100), undefined);
  w.record(7, 11_100);
  const p = w.percentile(0.5, 100, 11_100)!;
  assert.ok(p >= 7 && p < 8, `${p}`);
});

test('memory stays fixed whatever the traffic and latency', () => {
  const w = new LatencyWindow(1_000, 0);
  for (let i = 0; i < 100_000; i++) w.record(Math.random() * 10 ** (i % 9), i / 10);
  // Extremes land in the first and last buckets, no growth, no NaN.
  w.record(Number.NaN, 10_001);
  w.record(-1, 10_001);
  w.record(1e300, 10_001);
  const p = w.percentile(0.999, 1, 10_001);
  assert.ok(p !== undefined && Number.isFinite(p));
});

test('a short idle spell keeps the last window that saw traffic (up to maxAgeMs)', () => {
  const w = new LatencyWindow(1_000, 0, 6_000);
  for (let i = 0; i < 100; i++) w.record(3, 500);
  // Idle for three windows: within maxAgeMs, the delay is still there at once.
  const p = w.percentile(0.5, 100, 3_500)!;
  assert.ok(p >= 3 && p < 4, `${p}`);
  // Idle past maxAgeMs: gone.
  assert.equal(w.percentile(0.5, 100, 8_000), undefined);
});
