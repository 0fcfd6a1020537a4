import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomInt, seededRandom } from '../../lib/internal/random.js';

describe('seededRandom', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 20 }, () => a());
    assert.deepEqual(
      Array.from({ length: 20 }, () => b()),
      xs,
    );
    assert.notDeepEqual(
      Array.from({ length: 20 }, () => c()),
      xs,
    );
  });

  it('stays in [0, 1) and is close to uniform over 100 000 draws', () => {
    const r = seededRandom(1);
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      assert.ok(x >= 0 && x < 1, `draw ${x} out of range`);
      bins[Math.floor(x * 10)]!++;
      sum += x;
    }
    assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.005);
    for (const b of bins) assert.ok(Math.abs(b - 10_000) < 400, `bin ${b}`);
  });

  it('accepts any number as a seed', () => {
    for (const seed of [0, -1, 1.5, 2 ** 40, Number.NaN]) {
      const x = seededRandom(seed)();
      assert.ok(x >= 0 && x < 1);
    }
  });
});

describe('randomInt', () => {
  it('covers [0, n) uniformly', () => {
    const r = seededRandom(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[randomInt(r, 3)]!++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 300, `count ${c}`);
  });

  it('clamps a misbehaving source into range', () => {
    assert.equal(
      randomInt(() => 1, 4),
      3,
    );
    assert.equal(
      randomInt(() => -0.5, 4),
      0,
    );
    assert.equal(
      randomInt(() => Number.NaN, 4),
      0,
    );
    assert.equal(
      randomInt(() => 0.999_999_999_999, 1),
      0,
    );
  });
});
