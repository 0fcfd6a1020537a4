import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { defer, of, throwError, type Observable } from 'rxjs';
import { TimeoutError, XhttpError, retryBackoff, retryBudget } from '../../lib/operators/index.js';

const scheduler = () => new TestScheduler((a, b) => assert.deepEqual(a, b));
const none = { jitter: 'none' as const, initialDelay: 10, multiplier: 2 };

/** A source that answers each subscription with the next of `answers` (the last one repeats). */
function script<T>(answers: Array<() => Observable<T>>): {
  source: Observable<T>;
  subscriptions: () => number;
} {
  let n = 0;
  return {
    source: defer(() => answers[Math.min(n++, answers.length - 1)]!()),
    subscriptions: () => n,
  };
}

test('a 503 then 503 then 200: re-subscribed after 10 then 20 ms (no jitter), the 200 emitted', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const s = script([
      () => cold('-a|', { a: { status: 503 } }),
      () => cold('-a|', { a: { status: 503 } }),
      () => cold('-a|', { a: { status: 200 } }),
    ]);
    // 1: first 503; +10 → 11 resubscribe, 12: 503; +20 → 32, 33: 200, 34 complete.
    expectObservable(s.source.pipe(retryBackoff({ maxAttempts: 3, backoff: none, scheduler: ts }))).toBe(
      '33ms a|',
      { a: { status: 200 } },
    );
  });
});

test('attempts exhausted: the last outcome goes on, value or error', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const v = cold('-a|', { a: { status: 502 } });
    expectObservable(v.pipe(retryBackoff({ maxAttempts: 2, backoff: none, scheduler: ts }))).toBe('12ms a|', {
      a: { status: 502 },
    });
    const err = new XhttpError('RESET', 'reset');
    const e = cold('-#', undefined, err);
    expectObservable(e.pipe(retryBackoff({ maxAttempts: 3, backoff: none, scheduler: ts }))).toBe(
      '- 10ms - 20ms - #',
      undefined,
      err,
    );
  });
});

test('not retried by default: a 500, a FAIL_FAST, a call-phase TIMEOUT; retried: a fetch TypeError, an attempt TIMEOUT', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const opts = { maxAttempts: 2, backoff: none, scheduler: ts };
    expectObservable(cold('-a|', { a: { status: 500 } }).pipe(retryBackoff(opts))).toBe('-a|', {
      a: { status: 500 },
    });
    const call = new TimeoutError('call', 5);
    expectObservable(cold('-#', undefined, call).pipe(retryBackoff(opts))).toBe('-#', undefined, call);
    const net = new TypeError('fetch failed');
    expectObservable(cold('-#', undefined, net).pipe(retryBackoff(opts))).toBe('- 10ms - #', undefined, net);
    const attempt = new TimeoutError('attempt', 5);
    expectObservable(cold('-#', undefined, attempt).pipe(retryBackoff(opts))).toBe(
      '- 10ms - #',
      undefined,
      attempt,
    );
  });
});

test('an error with a status (Angular HttpErrorResponse, axios) is retried by its status', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const opts = { maxAttempts: 2, backoff: none, scheduler: ts };
    const notFound = Object.assign(new Error('404'), { status: 404 });
    expectObservable(cold('-#', undefined, notFound).pipe(retryBackoff(opts))).toBe(
      '-#',
      undefined,
      notFound,
    );
    const gateway = Object.assign(new Error('502'), { response: { status: 502 } });
    expectObservable(cold('-#', undefined, gateway).pipe(retryBackoff(opts))).toBe(
      '- 10ms - #',
      undefined,
      gateway,
    );
  });
});

test('retryOn sees the attempt and the value or error', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const seen: unknown[] = [];
    const src = cold('-a|', { a: 'maybe' });
    const op = retryBackoff<string>({
      maxAttempts: 3,
      backoff: none,
      scheduler: ts,
      retryOn: (o) => (seen.push([o.attempt, o.value]), o.value === 'maybe'),
    });
    expectObservable(src.pipe(op)).toBe('- 10ms - 20ms - a|', { a: 'maybe' });
    ts.flush();
    assert.deepEqual(seen, [
      [1, 'maybe'],
      [2, 'maybe'],
    ]);
  });
});

test('Retry-After on a 503 (a Headers object or a record, own or under response) replaces the back-off', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const opts = { maxAttempts: 2, backoff: none, scheduler: ts };
    const fetchLike = { status: 503, headers: new Headers({ 'retry-after': '1' }) };
    expectObservable(cold('-a|', { a: fetchLike }).pipe(retryBackoff(opts))).toBe('- 1000ms - a|', {
      a: fetchLike,
    });
    const err = Object.assign(new Error('503'), {
      response: { status: 503, headers: { 'retry-after': '2' } },
    });
    expectObservable(cold('-#', undefined, err).pipe(retryBackoff({ ...opts, retryOn: () => true }))).toBe(
      '- 2000ms - #',
      undefined,
      err,
    );
    const off = { ...opts, respectRetryAfter: false };
    expectObservable(cold('-a|', { a: fetchLike }).pipe(retryBackoff(off))).toBe('- 10ms - a|', {
      a: fetchLike,
    });
  });
});

test('the four jitter kinds follow the back-off formulas with the injected random', () => {
  const delays = (jitter: 'full' | 'equal' | 'decorrelated' | 'none') => {
    const ts = scheduler();
    const at: number[] = [];
    ts.run(({ flush }) => {
      defer(() => (at.push(ts.now()), throwError(() => new TypeError('x'))))
        .pipe(
          retryBackoff({
            maxAttempts: 4,
            backoff: { jitter, initialDelay: 100, multiplier: 2, maxDelay: 1_000 },
            scheduler: ts,
            random: () => 0.5,
          }),
        )
        .subscribe({ error: () => {} });
      flush();
    });
    return at.slice(1).map((t, i) => t - at[i]!);
  };
  assert.deepEqual(delays('none'), [100, 200, 400]);
  assert.deepEqual(delays('full'), [50, 100, 200]);
  assert.deepEqual(delays('equal'), [75, 150, 300]);
  // min(cap, base + r·(3·prev − base)): 100 + 0.5·200 = 200, 100 + 0.5·500 = 350, 100 + 0.5·950 = 575
  assert.deepEqual(delays('decorrelated'), [200, 350, 575]);
});

test('deadline: a retry that could not start before it is not made', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const src = cold('-a|', { a: { status: 503 } });
    // 1: 503, retry at 11 (< 25): 12: 503, next retry would start at 32 ≥ 25: the 503 goes on.
    expectObservable(
      src.pipe(retryBackoff({ maxAttempts: 5, backoff: none, deadline: 25, scheduler: ts })),
    ).toBe('12ms a|', { a: { status: 503 } });
  });
});

test('a retry budget that cannot pay refuses the retry', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable }) => {
    const budget = retryBudget({ ratio: 0, minRetriesPerSecond: 0 }, ts);
    const src = cold('-a|', { a: { status: 503 } });
    expectObservable(src.pipe(retryBackoff({ maxAttempts: 5, backoff: none, budget, scheduler: ts }))).toBe(
      '-a|',
      {
        a: { status: 503 },
      },
    );
  });
});

test('a synchronous source is re-subscribed and its stale completion ignored', () => {
  const ts = scheduler();
  ts.run(({ expectObservable }) => {
    const s = script([() => of({ status: 503 }), () => of({ status: 200 })]);
    expectObservable(s.source.pipe(retryBackoff({ maxAttempts: 3, backoff: none, scheduler: ts }))).toBe(
      '10ms (a|)',
      {
        a: { status: 200 },
      },
    );
  });
});

test('unsubscribing cancels the pending delay: no further subscription', () => {
  const ts = scheduler();
  ts.run(({ cold, flush }) => {
    const s = script([() => cold('-a|', { a: { status: 503 } })]);
    const sub = s.source.pipe(retryBackoff({ maxAttempts: 3, backoff: none, scheduler: ts })).subscribe();
    ts.schedule(() => sub.unsubscribe(), 5);
    flush();
    assert.equal(s.subscriptions(), 1);
  });
});

test('bad options and a throwing retryOn fail with INVALID_ARGUMENT naming the field', () => {
  const field = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as XhttpError).field;
    }
    return 'none';
  };
  assert.equal(
    field(() => retryBackoff({ maxAttempts: 0 })),
    'retry.maxAttempts',
  );
  assert.equal(
    field(() => retryBackoff({} as never)),
    'retry.maxAttempts',
  );
  assert.equal(
    field(() => retryBackoff({ maxAttempts: 2, backoff: { jitter: 'x' as never } })),
    'retry.backoff.jitter',
  );
  assert.equal(
    field(() => retryBackoff({ maxAttempts: 2, deadline: -1 })),
    'retry.deadline',
  );
  assert.equal(
    field(() => retryBackoff({ maxAttempts: 2, nope: 1 } as never)),
    'retry.nope',
  );
  let error: unknown;
  of(1)
    .pipe(
      retryBackoff({
        maxAttempts: 2,
        retryOn: () => {
          throw new Error('bug');
        },
      }),
    )
    .subscribe({ error: (e: unknown) => (error = e) });
  assert.equal((error as XhttpError).field, 'retry.retryOn');
});
