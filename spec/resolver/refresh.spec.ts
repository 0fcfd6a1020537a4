import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Observable, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { XhttpError } from '../../lib/errors.js';
import { seededRandom } from '../../lib/internal/random.js';
import {
  DEFAULT_RESOLVE_RETRY_INITIAL,
  DEFAULT_RESOLVE_RETRY_MAX,
  resolveRetryDelay,
  watchAddresses,
} from '../../lib/resolver/refresh.js';
import { ttlRefresh, type LookupResult } from '../../lib/resolver/ttl.js';
import type { Address } from '../../lib/types.js';

const MAX_SUBSCRIPTIONS = 1_000;
const testScheduler = (): TestScheduler => new TestScheduler((a, b) => assert.deepEqual(a, b));
const a1: Address = { host: '10.0.0.1', port: 80 };
const a2: Address = { host: '10.0.0.2', port: 80 };
const a3: Address = { host: '10.0.0.3', port: 80 };

test('resolveRetryDelay: exponential from initial, capped at max, jittered within [cap/2, cap]', () => {
  const random = seededRandom(7);
  for (let failures = 1; failures <= 40; failures++) {
    const cap = Math.min(30_000, 1_000 * 2 ** (failures - 1));
    for (let i = 0; i < 200; i++) {
      const d = resolveRetryDelay(failures, random, 1_000, 30_000);
      assert.ok(d >= cap / 2 && d <= cap, `failure ${failures}: ${d} outside [${cap / 2}, ${cap}]`);
    }
  }
  assert.equal(
    resolveRetryDelay(1, () => 0, 1_000, 30_000),
    500,
  );
  assert.equal(
    resolveRetryDelay(3, () => 0.5, 1_000, 30_000),
    3_000,
  );
  assert.equal(resolveRetryDelay(1_000_000, () => 0.999, 1_000, 30_000) <= 30_000, true);
});

test('resolveRetryDelay: jitter spreads the delays (seeded: the same on every run)', () => {
  const draw = (seed: number) => {
    const random = seededRandom(seed);
    return Array.from({ length: 50 }, () => resolveRetryDelay(4, random, 1_000, 30_000));
  };
  const delays = draw(42);
  assert.deepEqual(delays, draw(42));
  assert.ok(new Set(delays).size > 40, 'delays should differ from one another');
  const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
  assert.ok(mean > 5_000 && mean < 7_000, `mean ${mean} should sit near 6 000 (uniform over [4 000, 8 000])`);
});

test('resolveRetryDelay: a broken random source still yields a finite delay within bounds', () => {
  for (const r of [Number.NaN, -1, 1, 7, Infinity]) {
    const d = resolveRetryDelay(2, () => r, 1_000, 30_000);
    assert.ok(Number.isFinite(d) && d >= 1_000 && d <= 2_000, `random ${r} gave ${d}`);
  }
  assert.equal(
    resolveRetryDelay(0, () => 0, 1_000, 30_000),
    500,
  );
});

/**
 * Subscribes `watchAddresses` over `source` in virtual time until `untilMs`; returns the emitted
 * lists with their times, the failures reported, and when the source was (re-)subscribed.
 */
function watch(
  source: (n: number) => Observable<readonly Address[]>,
  untilMs: number,
  seed = 1,
): { values: [number, readonly Address[]][]; errors: [number, unknown][]; subscribed: number[] } {
  const ts = testScheduler();
  const out: ReturnType<typeof watch> = { values: [], errors: [], subscribed: [] };
  ts.run(({ flush }) => {
    const sub = watchAddresses(
      () => {
        out.subscribed.push(ts.now());
        if (out.subscribed.length > MAX_SUBSCRIPTIONS) throw new Error('runaway re-subscription');
        return source(out.subscribed.length);
      },
      { scheduler: ts, random: seededRandom(seed), onError: (e) => out.errors.push([ts.now(), e]) },
    ).subscribe((v) => out.values.push([ts.now(), v]));
    ts.schedule(() => sub.unsubscribe(), untilMs);
    flush();
  });
  return out;
}

test('back-off on error: delays grow, stay bounded, and follow the seeded jitter exactly', () => {
  const boom = new XhttpError('TIMEOUT', 'DNS lookup did not answer');
  const r = watch(() => throwError(() => boom), 600_000, 99);
  const gaps = r.subscribed.slice(1).map((t, i) => t - r.subscribed[i]!);
  const random = seededRandom(99);
  const expected = gaps.map((_, i) =>
    resolveRetryDelay(i + 1, random, DEFAULT_RESOLVE_RETRY_INITIAL, DEFAULT_RESOLVE_RETRY_MAX),
  );
  assert.deepEqual(gaps, expected);
  assert.ok(gaps.length >= 10, `expected many retries in 10 virtual minutes, got ${gaps.length}`);
  assert.ok(gaps[0]! >= 500 && gaps[0]! <= 1_000);
  assert.ok(gaps.every((g) => g <= DEFAULT_RESOLVE_RETRY_MAX));
  // The schedule's cap doubles until the max: late gaps are all in the capped band.
  assert.ok(gaps.slice(-5).every((g) => g >= DEFAULT_RESOLVE_RETRY_MAX / 2));
  // Each failure is reported, and nothing is emitted.
  assert.equal(r.errors.length, r.subscribed.length);
  assert.ok(r.errors.every(([, e]) => e === boom));
  assert.deepEqual(r.values, []);
});

test('a good answer resets the back-off', () => {
  const boom = new Error('SERVFAIL');
  // fail, fail, fail, then a good list followed by a failure, then fail on.
  const r = watch(
    (n) =>
      n === 4
        ? new Observable<readonly Address[]>((s) => (s.next([a1]), s.error(boom)))
        : throwError(() => boom),
    60_000,
    3,
  );
  const gaps = r.subscribed.slice(1).map((t, i) => t - r.subscribed[i]!);
  // Gaps 1–3 grow (caps 1 s, 2 s, 4 s); after the success the next gap is back under 1 s.
  assert.ok(gaps[2]! >= 2_000, `third gap ${gaps[2]}`);
  assert.ok(gaps[3]! <= 1_000, `the gap after a success should restart at the initial delay, got ${gaps[3]}`);
  assert.deepEqual(
    r.values.map(([, v]) => v),
    [[a1]],
  );
});

test('no emission on an unchanged list, in any order; a change is emitted', () => {
  const ts = testScheduler();
  ts.run(({ cold, expectObservable }) => {
    const source = cold('a 99ms b 99ms c 99ms d 99ms e', {
      a: [a1, a2],
      b: [a2, a1],
      c: [a1, a2],
      d: [a1, a2, a3],
      e: [a3, a2, a1],
    });
    const out = watchAddresses(() => source, { scheduler: ts, random: () => 0.5, onError: () => undefined });
    expectObservable(out).toBe('a 299ms d', { a: [a1, a2], d: [a1, a2, a3] });
  });
});

test('weights and priorities are part of the identity: a changed weight is emitted', () => {
  const ts = testScheduler();
  ts.run(({ cold, expectObservable }) => {
    const w1 = { ...a1, weight: 1 };
    const w5 = { ...a1, weight: 5 };
    const source = cold('a 9ms b 9ms c', { a: [w1], b: [w1], c: [w5] });
    const out = watchAddresses(() => source, { scheduler: ts, random: () => 0.5, onError: () => undefined });
    expectObservable(out).toBe('a 19ms c', { a: [w1], c: [w5] });
  });
});

test('an error keeps the last good list: re-subscribing to the same list emits nothing', () => {
  const boom = new Error('ETIMEOUT');
  const r = watch((n) => {
    if (n === 1) return new Observable<readonly Address[]>((s) => (s.next([a1, a2]), s.error(boom)));
    if (n === 2) return of([a2, a1]);
    return of([a3]);
  }, 10_000);
  // The second subscription re-reads the same set; it is not emitted again.
  assert.deepEqual(
    r.values.map(([, v]) => v),
    [[a1, a2]],
  );
  assert.equal(r.errors.length, 1);
});

test('an empty answer counts as a failure: reported, and the last good list stays', () => {
  const ts = testScheduler();
  const errors: unknown[] = [];
  ts.run(({ cold, expectObservable }) => {
    const source = cold('a 9ms e 9ms b', { a: [a1], e: [], b: [a1] });
    const out = watchAddresses(() => source, {
      scheduler: ts,
      random: () => 0.5,
      onError: (e) => errors.push(e),
    });
    expectObservable(out).toBe('a', { a: [a1] });
  });
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as XhttpError).code, 'NO_ADDRESS');
});

test('the TTL loop under watchAddresses: failure keeps the list, recovery with the same list is silent', () => {
  // The DNS resolvers' shape, with a scripted lookup instead of DNS: ok, ok (same), fail, fail, ok (same), ok (new).
  const script: (LookupResult | Error)[] = [
    { addresses: [a1, a2], ttlMs: 1_000 },
    { addresses: [a2, a1], ttlMs: 1_000 },
    new Error('ETIMEOUT'),
    new Error('ETIMEOUT'),
    { addresses: [a1, a2], ttlMs: 1_000 },
    { addresses: [a1, a2, a3], ttlMs: 1_000 },
  ];
  const ts = testScheduler();
  let n = 0;
  const values: [number, readonly Address[]][] = [];
  const errors: number[] = [];
  ts.run(({ flush }) => {
    const lookup = () => {
      const step = script[Math.min(n++, script.length - 1)]!;
      return step instanceof Error ? throwError(() => step) : of(step);
    };
    const sub = watchAddresses(() => ttlRefresh(lookup, { minTtl: 500, maxTtl: 5_000, scheduler: ts }), {
      scheduler: ts,
      random: () => 0.5,
      onError: () => errors.push(ts.now()),
    }).subscribe((v) => values.push([ts.now(), v]));
    ts.schedule(() => sub.unsubscribe(), 20_000);
    flush();
  });
  // t=0 [a1,a2]; t=1000 same (silent); t=2000 fail → retry after 750 (cap 1 000, random 0.5);
  // t=2750 fail → retry after 1 500; t=4250 same list (silent); t=5250 the new list.
  assert.deepEqual(errors, [2_000, 2_750]);
  assert.deepEqual(values, [
    [0, [a1, a2]],
    [5_250, [a1, a2, a3]],
  ]);
});
