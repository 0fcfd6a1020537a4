import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XhttpError } from '../../lib/errors.js';
import {
  backoffDelay,
  DEFAULT_INITIAL_DELAY,
  DEFAULT_JITTER,
  DEFAULT_MAX_DELAY,
  DEFAULT_MULTIPLIER,
  MAX_TIMER_DELAY,
  resolveBackoff,
  type ResolvedBackoff,
} from '../../lib/resilience/backoff.js';
import type { Jitter } from '../../lib/types.js';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function invalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof XhttpError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.field, field, `expected field ${field}, got ${e.field} (${e.message})`);
    return true;
  });
}

const b = (jitter: Jitter, extra: Partial<ResolvedBackoff> = {}): ResolvedBackoff => ({
  initialDelay: 100,
  maxDelay: 10_000,
  multiplier: 2,
  jitter,
  ...extra,
});

const DRAWS = 5_000;

test('defaults: 100 ms doubling to 10 s with full jitter', () => {
  assert.deepEqual(resolveBackoff(undefined), {
    initialDelay: DEFAULT_INITIAL_DELAY,
    maxDelay: DEFAULT_MAX_DELAY,
    multiplier: DEFAULT_MULTIPLIER,
    jitter: DEFAULT_JITTER,
  });
  assert.deepEqual(resolveBackoff({}), {
    initialDelay: 100,
    maxDelay: 10_000,
    multiplier: 2,
    jitter: 'full',
  });
  assert.deepEqual(resolveBackoff({ multiplier: 3, jitter: 'none' }), {
    initialDelay: 100,
    maxDelay: 10_000,
    multiplier: 3,
    jitter: 'none',
  });
});

test('a lone initialDelay or maxDelay bends the other default instead of failing', () => {
  assert.deepEqual(resolveBackoff({ maxDelay: 50 }), {
    initialDelay: 50,
    maxDelay: 50,
    multiplier: 2,
    jitter: 'full',
  });
  assert.deepEqual(resolveBackoff({ initialDelay: 20_000 }), {
    initialDelay: 20_000,
    maxDelay: 20_000,
    multiplier: 2,
    jitter: 'full',
  });
  assert.deepEqual(resolveBackoff({ initialDelay: 0, maxDelay: 0 }), {
    initialDelay: 0,
    maxDelay: 0,
    multiplier: 2,
    jitter: 'full',
  });
});

test('every invalid back-off option throws INVALID_ARGUMENT naming it', () => {
  for (const bad of [-1, Number.NaN, Infinity, -Infinity, '100', null, MAX_TIMER_DELAY + 1]) {
    invalid(() => resolveBackoff({ initialDelay: bad } as never), 'retry.backoff.initialDelay');
    invalid(() => resolveBackoff({ maxDelay: bad } as never), 'retry.backoff.maxDelay');
  }
  invalid(() => resolveBackoff({ initialDelay: 500, maxDelay: 100 }), 'retry.backoff.initialDelay');
  for (const bad of [0.5, 0, -2, Number.NaN, Infinity, '2', null])
    invalid(() => resolveBackoff({ multiplier: bad } as never), 'retry.backoff.multiplier');
  for (const bad of ['Full', 'exponential', '', null, 1])
    invalid(() => resolveBackoff({ jitter: bad } as never), 'retry.backoff.jitter');
  invalid(() => resolveBackoff({ delay: 1 } as never), 'retry.backoff.delay');
  invalid(() => resolveBackoff(JSON.parse('{"__proto__": {"initialDelay": 1}}')), 'retry.backoff.__proto__');
  invalid(() => resolveBackoff({ constructor: 1 } as never), 'retry.backoff.constructor');
  invalid(() => resolveBackoff(5 as never), 'retry.backoff');
  invalid(() => resolveBackoff([] as never), 'retry.backoff');
  invalid(() => resolveBackoff(null as never, 'options.retry.backoff'), 'options.retry.backoff');
  invalid(() => resolveBackoff({ maxDelay: -1 }, 'options.retry.backoff'), 'options.retry.backoff.maxDelay');
});

test('inherited properties never configure the back-off', () => {
  const proto = Object.prototype as Record<string, unknown>;
  proto.jitter = 'none';
  try {
    assert.equal(resolveBackoff({}).jitter, 'full');
  } finally {
    delete proto.jitter;
  }
});

test('none: initialDelay · multiplier^n, capped at maxDelay', () => {
  const never = () => assert.fail('no jitter draws');
  const delays = Array.from({ length: 10 }, (_, n) => backoffDelay(n, 0, b('none'), never));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
  assert.equal(backoffDelay(3, 0, b('none', { multiplier: 3 }), never), 2700);
  assert.equal(backoffDelay(5, 0, b('none', { multiplier: 1 }), never), 100);
});

test('full jitter: U(0, t), spread over the whole range', () => {
  const random = mulberry32(1);
  for (let n = 0; n < 12; n++) {
    const t = Math.min(10_000, 100 * 2 ** n);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (let i = 0; i < DRAWS; i++) {
      const d = backoffDelay(n, 0, b('full'), random);
      assert.ok(d >= 0 && d < t, `n=${n}: ${d} outside [0, ${t})`);
      min = Math.min(min, d);
      max = Math.max(max, d);
      sum += d;
    }
    assert.ok(min < t * 0.01 && max > t * 0.99, `n=${n}: draws cover [0, t)`);
    assert.ok(Math.abs(sum / DRAWS / t - 0.5) < 0.03, `n=${n}: mean ≈ t/2`);
  }
});

test('equal jitter: t/2 + U(0, t/2)', () => {
  const random = mulberry32(2);
  for (let n = 0; n < 12; n++) {
    const t = Math.min(10_000, 100 * 2 ** n);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < DRAWS; i++) {
      const d = backoffDelay(n, 0, b('equal'), random);
      assert.ok(d >= t / 2 && d < t, `n=${n}: ${d} outside [${t / 2}, ${t})`);
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    assert.ok(min < t * 0.51 && max > t * 0.99, `n=${n}: draws cover [t/2, t)`);
  }
});

test('decorrelated jitter: min(cap, U(base, 3 · previous)), previous starting at base', () => {
  const random = mulberry32(3);
  const cfg = b('decorrelated');
  for (let run = 0; run < 500; run++) {
    let previous = cfg.initialDelay;
    for (let n = 0; n < 20; n++) {
      const d = backoffDelay(n, previous, cfg, random);
      assert.ok(d >= 100 && d <= 10_000, `${d} outside [100, 10 000]`);
      assert.ok(d === 10_000 || d < 3 * previous, `${d} not below 3 · ${previous}`);
      previous = d;
    }
  }
  // The first retry draws from U(100, 300).
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < DRAWS; i++) {
    const d = backoffDelay(0, 100, cfg, random);
    min = Math.min(min, d);
    max = Math.max(max, d);
  }
  assert.ok(min >= 100 && min < 102 && max < 300 && max > 298, `first retry in [100, 300): ${min}..${max}`);
  // A previous delay below the base (or garbage) restarts from the base.
  for (const previous of [0, -5, Number.NaN, Infinity]) {
    const d = backoffDelay(4, previous, cfg, () => 0.999_999);
    assert.ok(d >= 100 && d < 300, `previous ${previous} → ${d}`);
  }
});

test('maxDelay caps every jitter kind, even for huge retry indexes', () => {
  const random = mulberry32(4);
  for (const jitter of ['none', 'full', 'equal', 'decorrelated'] as const) {
    const cfg = b(jitter, { initialDelay: 50, maxDelay: 700, multiplier: 5 });
    for (const n of [0, 1, 2, 3, 10, 100, 2000, Number.MAX_SAFE_INTEGER, Infinity]) {
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(n, 700, cfg, random);
        assert.ok(Number.isFinite(d) && d >= 0 && d <= 700, `${jitter} n=${n}: ${d}`);
      }
    }
  }
  assert.equal(backoffDelay(2000, 0, b('none'), Math.random), 10_000);
});

test('zero initial delay means no back-off at all, never NaN', () => {
  for (const jitter of ['none', 'full', 'equal', 'decorrelated'] as const) {
    const cfg = b(jitter, { initialDelay: 0, maxDelay: 0 });
    for (const n of [0, 5, 5000])
      assert.equal(
        backoffDelay(n, 0, cfg, () => 0.7),
        0,
        jitter,
      );
  }
});

test('a misbehaving random source cannot push a delay out of bounds', () => {
  for (const r of [-1, 1, 2, Number.NaN, Infinity]) {
    for (const jitter of ['full', 'equal', 'decorrelated'] as const) {
      const d = backoffDelay(2, 100, b(jitter), () => r);
      const t = jitter === 'decorrelated' ? 300 : 400;
      const lower = jitter === 'equal' ? 200 : jitter === 'decorrelated' ? 100 : 0;
      assert.ok(d >= lower && d < t, `${jitter} r=${r}: ${d}`);
    }
  }
});

test('the same seed gives the same schedule', () => {
  const schedule = (seed: number) => {
    const random = mulberry32(seed);
    return Array.from({ length: 8 }, (_, n) => backoffDelay(n, 0, b('full'), random));
  };
  assert.deepEqual(schedule(42), schedule(42));
  assert.notDeepEqual(schedule(42), schedule(43));
});
