import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_DECAY_MS,
  EMPTY_PEAK_EWMA,
  decayed,
  nextCost,
  observe,
} from '../../lib/balancer/peak-ewma.js';

const TAU = DEFAULT_DECAY_MS;
const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps * Math.max(1, Math.abs(expected)), `${actual} ≉ ${expected}`);

describe('peak EWMA', () => {
  it('uses τ = 10 s', () => assert.equal(TAU, 10_000));

  it('jumps to a latency peak at once', () => {
    let s = observe(EMPTY_PEAK_EWMA, 5, 1_000);
    assert.equal(s.cost, 5);
    s = observe(s, 200, 1_001);
    assert.equal(s.cost, 200);
    assert.equal(s.stamp, 1_001);
  });

  it('decays toward 0 with τ when read later', () => {
    const s = observe(EMPTY_PEAK_EWMA, 100, 0);
    close(decayed(s, 0), 100);
    close(decayed(s, TAU), 100 / Math.E);
    close(decayed(s, 2 * TAU), 100 / Math.E ** 2);
    close(decayed(s, 3 * TAU), 100 * Math.exp(-3));
    assert.ok(decayed(s, 100 * TAU) < 1e-40);
    assert.equal(s.cost, 100, 'reading does not change the state');
  });

  it('blends a lower sample by elapsed time: x(1−w) + cost·w, w = exp(−Δt/τ)', () => {
    const s = observe(EMPTY_PEAK_EWMA, 100, 0);
    const w = Math.exp(-1_000 / TAU);
    close(observe(s, 10, 1_000).cost, 10 * (1 - w) + 100 * w);
    // A sample at the same instant as the peak does not move it.
    close(observe(s, 10, 0).cost, 100);
  });

  it('treats a sample above the decayed cost as a new peak', () => {
    const s = observe(EMPTY_PEAK_EWMA, 100, 0);
    // After 3τ the reading is about 5; a 20 ms sample is a peak over that.
    assert.equal(observe(s, 20, 3 * TAU).cost, 20);
  });

  it('converges to a steady latency', () => {
    let s = observe(EMPTY_PEAK_EWMA, 500, 0);
    for (let t = 10; t <= 12 * TAU; t += 10) s = observe(s, 20, t); // 480·e^−12 left
    close(s.cost, 20, 1e-3);
  });

  it('never lets time run backwards or a negative latency in', () => {
    const s = observe(EMPTY_PEAK_EWMA, 50, 1_000);
    close(decayed(s, 500), 50);
    assert.equal(observe(s, 10, 500).stamp, 1_000);
    close(observe(s, 10, 500).cost, 50);
    assert.equal(nextCost(0, 0, -5, 10), 0);
  });

  it('honours a custom decay', () => {
    const s = observe(EMPTY_PEAK_EWMA, 100, 0, 1_000);
    close(decayed(s, 1_000, 1_000), 100 / Math.E);
  });
});
