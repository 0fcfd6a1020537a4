import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY, NEVER, of, throwError, type ObservableInput } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { XhttpError } from '../../lib/errors.js';
import {
  DEFAULT_LOOKUP_TIMEOUT,
  DEFAULT_NO_TTL_PERIOD,
  MIN_REFRESH_PERIOD,
  refreshPeriod,
  ttlRefresh,
  type LookupResult,
  type TtlRefreshOptions,
} from '../../lib/resolver/ttl.js';
import type { Address } from '../../lib/types.js';

const MAX_LOOKUPS = 1_000;
const testScheduler = (): TestScheduler => new TestScheduler((a, b) => assert.deepEqual(a, b));
const A: readonly Address[] = [{ host: '10.0.0.1', port: 80 }];
const B: readonly Address[] = [{ host: '10.0.0.2', port: 80 }];

/**
 * Runs `ttlRefresh` over a scripted lookup in virtual time for `untilMs`, recording when each
 * lookup ran and what (or which error) the stream produced.
 */
function drive(
  script: (n: number) => ObservableInput<LookupResult>,
  options: Omit<TtlRefreshOptions, 'scheduler'>,
  untilMs: number,
): { lookups: number[]; values: [number, readonly Address[]][]; error?: [number, unknown] } {
  const ts = testScheduler();
  const out: ReturnType<typeof drive> = { lookups: [], values: [] };
  ts.run(({ flush }) => {
    const sub = ttlRefresh(
      () => {
        out.lookups.push(ts.now());
        // A regression that stops honouring unsubscribe must fail, not spin flush() forever.
        if (out.lookups.length > MAX_LOOKUPS) throw new Error('runaway refresh loop');
        return script(out.lookups.length);
      },
      { ...options, scheduler: ts },
    ).subscribe({
      next: (v) => out.values.push([ts.now(), v]),
      error: (e: unknown) => (out.error = [ts.now(), e]),
    });
    ts.schedule(() => sub.unsubscribe(), untilMs);
    flush();
  });
  return out;
}

const ttl = (ms: number | undefined, addresses = A) => of<LookupResult>({ addresses, ttlMs: ms });

test('refreshPeriod clamps the TTL to [minTtl, maxTtl]', () => {
  const o = { minTtl: 1_000, maxTtl: 60_000, scheduler: testScheduler() };
  assert.equal(refreshPeriod(0, o), 1_000);
  assert.equal(refreshPeriod(999, o), 1_000);
  assert.equal(refreshPeriod(5_000, o), 5_000);
  assert.equal(refreshPeriod(3_600_000, o), 60_000);
});

test('refreshPeriod never goes below MIN_REFRESH_PERIOD, even with minTtl 0 and a zero TTL', () => {
  const o = { minTtl: 0, maxTtl: 60_000, scheduler: testScheduler() };
  assert.equal(refreshPeriod(0, o), MIN_REFRESH_PERIOD);
  assert.equal(refreshPeriod(0, { ...o, maxTtl: 0 }), MIN_REFRESH_PERIOD);
});

test('refreshPeriod: no TTL means the no-TTL period, clamped too; a broken TTL means minTtl', () => {
  const o = { minTtl: 1_000, maxTtl: 300_000, scheduler: testScheduler() };
  assert.equal(refreshPeriod(undefined, o), DEFAULT_NO_TTL_PERIOD);
  assert.equal(refreshPeriod(undefined, { ...o, maxTtl: 2_000 }), 2_000);
  assert.equal(refreshPeriod(undefined, { ...o, noTtlPeriod: 10 }), 1_000);
  assert.equal(refreshPeriod(Number.NaN, o), 1_000);
  assert.equal(refreshPeriod(-5, o), 1_000);
  assert.equal(refreshPeriod(Infinity, o), 1_000);
});

test('re-resolves when the TTL expires (TTL inside the clamp)', () => {
  const r = drive(() => ttl(700), { minTtl: 500, maxTtl: 2_000 }, 2_500);
  assert.deepEqual(r.lookups, [0, 700, 1_400, 2_100]);
  assert.deepEqual(
    r.values.map(([t]) => t),
    [0, 700, 1_400, 2_100],
  );
  assert.equal(r.error, undefined);
});

test('a TTL below minTtl refreshes every minTtl', () => {
  const r = drive(() => ttl(100), { minTtl: 500, maxTtl: 2_000 }, 2_200);
  assert.deepEqual(r.lookups, [0, 500, 1_000, 1_500, 2_000]);
});

test('a TTL above maxTtl refreshes every maxTtl', () => {
  const r = drive(() => ttl(3_600_000), { minTtl: 500, maxTtl: 2_000 }, 5_000);
  assert.deepEqual(r.lookups, [0, 2_000, 4_000]);
});

test('each answer sets the next period: the TTL is read per lookup', () => {
  const ttls = [1_000, 300, 1_500];
  const r = drive((n) => ttl(ttls[n - 1] ?? 10_000), { minTtl: 500, maxTtl: 10_000 }, 3_500);
  assert.deepEqual(r.lookups, [0, 1_000, 1_500, 3_000]);
});

test('an answer without TTL waits the no-TTL period, clamped', () => {
  const r = drive(() => ttl(undefined), { minTtl: 500, maxTtl: 2_000, noTtlPeriod: 1_200 }, 3_000);
  assert.deepEqual(r.lookups, [0, 1_200, 2_400]);
  const capped = drive(() => ttl(undefined), { minTtl: 500, maxTtl: 2_000 }, 5_000);
  assert.deepEqual(capped.lookups, [0, 2_000, 4_000]);
});

test('a failed lookup errors the stream at once (the group keeps the list and backs off)', () => {
  const boom = new XhttpError('NO_ADDRESS', 'DNS A/AAAA svc: ENOTFOUND');
  const r = drive(
    (n) => (n === 3 ? throwError(() => boom) : ttl(500, n === 1 ? A : B)),
    { minTtl: 500, maxTtl: 2_000 },
    5_000,
  );
  assert.deepEqual(r.lookups, [0, 500, 1_000]);
  assert.deepEqual(r.values, [
    [0, A],
    [500, B],
  ]);
  assert.deepEqual(r.error, [1_000, boom]);
});

test('a rejected Promise from the lookup errors the stream', async () => {
  const boom = new Error('ESERVFAIL');
  const stream = ttlRefresh(() => Promise.reject(boom), {
    minTtl: 10,
    maxTtl: 10,
    scheduler: testScheduler(),
  });
  await assert.rejects(
    new Promise((resolve, reject) => stream.subscribe({ next: resolve, error: reject })),
    (e) => e === boom,
  );
});

test('a lookup that never answers fails with TIMEOUT after lookupTimeout', () => {
  const r = drive(
    (n) => (n === 1 ? ttl(1_000) : NEVER),
    { minTtl: 500, maxTtl: 2_000, lookupTimeout: 800 },
    10_000,
  );
  assert.deepEqual(r.lookups, [0, 1_000]);
  assert.equal(r.error?.[0], 1_800);
  assert.ok(r.error[1] instanceof XhttpError);
  assert.equal(r.error[1].code, 'TIMEOUT');
});

test('the default lookup timeout bounds a hung lookup', () => {
  const r = drive(() => NEVER, { minTtl: 500, maxTtl: 2_000 }, 60_000);
  assert.equal(r.error?.[0], DEFAULT_LOOKUP_TIMEOUT);
});

test('a lookup that completes without an answer is a failure, not a silent end of refresh', () => {
  const r = drive(() => EMPTY, { minTtl: 500, maxTtl: 2_000 }, 5_000);
  assert.equal(r.error?.[0], 0);
  assert.equal((r.error?.[1] as XhttpError).code, 'NO_ADDRESS');
});

test('only the first value of a multi-valued lookup counts: the loop never forks', () => {
  const r = drive(
    () => of<LookupResult[]>({ addresses: A, ttlMs: 500 }, { addresses: B, ttlMs: 500 }),
    { minTtl: 500, maxTtl: 2_000 },
    2_100,
  );
  assert.deepEqual(r.lookups, [0, 500, 1_000, 1_500, 2_000]);
  assert.ok(r.values.every(([, v]) => v === A));
});

test('unsubscribing stops the loop: no lookup and no timer after it', () => {
  const ts = testScheduler();
  let lookups = 0;
  ts.run(({ flush }) => {
    const sub = ttlRefresh(
      () => {
        if (++lookups > MAX_LOOKUPS) throw new Error('runaway refresh loop');
        return ttl(500);
      },
      { minTtl: 500, maxTtl: 500, scheduler: ts },
    ).subscribe();
    ts.schedule(() => sub.unsubscribe(), 1_200);
    flush();
    // flush() returned: no scheduled action remains, so nothing would run later either.
    assert.equal(ts.actions.length, 0);
  });
  assert.equal(lookups, 3);
});
