// First: Angular's packages are partially compiled and JIT-compile as they load.
import '@angular/compiler';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HttpErrorResponse,
  HttpEventType,
  HttpHeaders,
  HttpRequest,
  HttpResponse,
  type HttpEvent,
  type HttpHandlerFn,
} from '@angular/common/http';
import { NEVER, concat, of, throwError, timer, mergeMap, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ANGULAR_SKIP } from '../helpers/angular-node.js';
import { OriginBreakers, rxhttpInterceptor } from '../../lib/angular/index.js';
import type { RxHttpInterceptorOptions } from '../../lib/angular/index.js';
import { FailFastError, TimeoutError, retryBudget } from '../../lib/operators/index.js';

// The interceptor's timing on virtual time: the back-off delays, Retry-After, the deadline cap,
// the budget, the breaker's open window. The interceptor is called as Angular calls it, with real
// HttpRequest / HttpResponse / HttpErrorResponse objects; `next` is a scripted downstream handler
// (the part the Node and Chromium specs drive with real servers) whose answers take 10 ms.

type Answer = number | 'hang' | { status: number; headers: Record<string, string> };

interface Run {
  /** Virtual times at which the downstream handler was subscribed (one per attempt). */
  readonly sent: number[];
  /** The call's end: time and the response's status, or the error. */
  readonly end: { time: number; status?: number; error?: unknown };
  readonly events: HttpEvent<unknown>[];
}

function runInterceptor(
  answers: readonly Answer[],
  options: (scheduler: TestScheduler) => RxHttpInterceptorOptions,
  req = new HttpRequest('GET', 'http://api.test/items?id=1'),
  unsubscribeAt?: number,
): Run {
  const scheduler = new TestScheduler(assert.deepEqual);
  const sent: number[] = [];
  const events: HttpEvent<unknown>[] = [];
  let end: Run['end'] = { time: -1 };
  scheduler.run(() => {
    const next: HttpHandlerFn = (r) => {
      const answer = answers[sent.length] ?? answers.at(-1)!;
      sent.push(scheduler.now());
      if (answer === 'hang') return concat(of({ type: HttpEventType.Sent } as HttpEvent<unknown>), NEVER);
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      const reply: Observable<HttpEvent<unknown>> = timer(10, scheduler).pipe(
        mergeMap(() =>
          status >= 200 && status < 300
            ? of(new HttpResponse({ status, body: 'ok', headers: new HttpHeaders(headers), url: r.url }))
            : throwError(
                () =>
                  new HttpErrorResponse({
                    status,
                    error: 'no',
                    headers: new HttpHeaders(headers),
                    url: r.url,
                  }),
              ),
        ),
      );
      return concat(of({ type: HttpEventType.Sent } as HttpEvent<unknown>), reply);
    };
    const sub = rxhttpInterceptor(options(scheduler))(req, next).subscribe({
      next: (e) => {
        events.push(e);
        if (e instanceof HttpResponse) end = { time: scheduler.now(), status: e.status };
      },
      error: (error: unknown) => (end = { time: scheduler.now(), error }),
    });
    if (unsubscribeAt !== undefined) scheduler.schedule(() => sub.unsubscribe(), unsubscribeAt);
  });
  return { sent, end, events };
}

const noJitter = { initialDelay: 100, multiplier: 2, jitter: 'none' } as const;

test('retries wait the back-off: 100 then 200 ms after each 10 ms answer', { skip: ANGULAR_SKIP }, () => {
  const r = runInterceptor([503, 503, 200], (scheduler) => ({
    scheduler,
    retry: { maxAttempts: 3, backoff: noJitter },
  }));
  assert.deepEqual(r.sent, [0, 110, 320]);
  assert.deepEqual(r.end, { time: 330, status: 200 });
  assert.deepEqual(
    r.events.map((e) => e.type),
    [HttpEventType.Response],
    'the attempts’ Sent events are not passed on',
  );
});

test(
  'Retry-After (seconds) of a 429 replaces the back-off when retryOn lets 429 through',
  { skip: ANGULAR_SKIP },
  () => {
    const r = runInterceptor([{ status: 429, headers: { 'Retry-After': '2' } }, 200], (scheduler) => ({
      scheduler,
      retry: {
        maxAttempts: 2,
        backoff: noJitter,
        retryOn: (o) => o.status === 429 || o.status === 503,
      },
    }));
    assert.deepEqual(r.sent, [0, 2_010]);
    assert.equal(r.end.status, 200);
    // Off: the back-off instead.
    const off = runInterceptor([{ status: 429, headers: { 'retry-after': '2' } }, 200], (scheduler) => ({
      scheduler,
      retry: {
        maxAttempts: 2,
        backoff: noJitter,
        retryOn: (o) => o.status === 429,
        respectRetryAfter: false,
      },
    }));
    assert.deepEqual(off.sent, [0, 110]);
  },
);

test('by default a 429 and a 500 are answers, not retried', { skip: ANGULAR_SKIP }, () => {
  for (const status of [429, 500]) {
    const r = runInterceptor([status, 200], (scheduler) => ({
      scheduler,
      retry: { maxAttempts: 3, backoff: noJitter },
    }));
    assert.deepEqual(r.sent, [0], String(status));
    assert.ok(r.end.error instanceof HttpErrorResponse && r.end.error.status === status);
  }
});

test(
  'the deadline caps the retries: one that could not start in time is not made',
  { skip: ANGULAR_SKIP },
  () => {
    // Attempts at 0 and 110; the next would start at 120 + 200 = 320, past the 250 ms deadline.
    const r = runInterceptor([503], (scheduler) => ({
      scheduler,
      timeout: 250,
      retry: { maxAttempts: 5, backoff: noJitter },
    }));
    assert.deepEqual(r.sent, [0, 110]);
    assert.equal(r.end.time, 120);
    assert.ok(r.end.error instanceof HttpErrorResponse && r.end.error.status === 503, 'the last answer');
  },
);

test(
  'hanging attempts time out per attempt, then the deadline ends the call with phase call',
  { skip: ANGULAR_SKIP },
  () => {
    const r = runInterceptor(['hang'], (scheduler) => ({
      scheduler,
      timeout: 1_000,
      retry: {
        maxAttempts: 100,
        timeoutPerAttempt: 300,
        backoff: { initialDelay: 50, jitter: 'none', multiplier: 1 },
      },
    }));
    // 0–300 times out, 350–650 times out, 700 starts; a retry at 1050 would pass the deadline.
    assert.deepEqual(r.sent, [0, 350, 700]);
    const e = r.end.error;
    assert.ok(e instanceof HttpErrorResponse && e.error instanceof TimeoutError);
    assert.equal(e.error.phase, 'call');
    assert.equal(r.end.time, 1_000);
    assert.equal(e.url, 'http://api.test/items', 'no query string');
  },
);

test('an empty retry budget refuses every retry', { skip: ANGULAR_SKIP }, () => {
  const r = runInterceptor([503, 200], (scheduler) => ({
    scheduler,
    retryBudget: retryBudget({ ratio: 0, minRetriesPerSecond: 0 }, scheduler),
    retry: { maxAttempts: 3, backoff: noJitter },
  }));
  assert.deepEqual(r.sent, [0]);
  assert.ok(r.end.error instanceof HttpErrorResponse && r.end.error.status === 503);
});

test('unsubscribing during the back-off cancels the retry', { skip: ANGULAR_SKIP }, () => {
  const r = runInterceptor(
    [503, 200],
    (scheduler) => ({ scheduler, retry: { maxAttempts: 3, backoff: noJitter } }),
    undefined,
    50,
  );
  assert.deepEqual(r.sent, [0]);
  assert.deepEqual(r.end, { time: -1 });
});

test(
  'an open breaker fails fast until its open window passes, then admits a trial',
  { skip: ANGULAR_SKIP },
  () => {
    const scheduler = new TestScheduler(assert.deepEqual);
    const breakers = new OriginBreakers(
      { minimumRequestThreshold: 1, counterUpdateInterval: 1, circuitOpenWindow: 5_000 },
      { scheduler },
    );
    const origin = 'http://api.test';
    let sent = 0;
    const outcomes: Array<[number, string]> = [];
    scheduler.run(() => {
      const intercept = rxhttpInterceptor({ breakers, scheduler });
      const next: HttpHandlerFn = () => {
        sent++;
        return throwError(() => new HttpErrorResponse({ status: 502 }));
      };
      for (const at of [0, 10, 20, 5_030]) {
        scheduler.schedule(() => {
          intercept(new HttpRequest('GET', `${origin}/x`), next).subscribe({
            error: (e: HttpErrorResponse) =>
              outcomes.push([at, e.error instanceof FailFastError ? 'fail-fast' : String(e.status)]),
          });
        }, at);
      }
    });
    assert.deepEqual(outcomes, [
      [0, '502'],
      [10, '502'],
      [20, 'fail-fast'],
      [5_030, '502'],
    ]);
    assert.equal(sent, 3, 'the fail-fast request was not sent');
    assert.equal(breakers.peek(origin)?.state, 'open', 'the trial failed: open again');
  },
);

test(
  'a POST is not retried on a 503, nor on a network failure (status 0): it may have been processed',
  { skip: ANGULAR_SKIP },
  () => {
    const post = new HttpRequest('POST', 'http://api.test/orders', { a: 1 });
    const r = runInterceptor(
      [503, 200],
      (scheduler) => ({ scheduler, retry: { maxAttempts: 3, backoff: noJitter } }),
      post,
    );
    assert.deepEqual(r.sent, [0]);
    const net = runInterceptor(
      [0, 200],
      (scheduler) => ({ scheduler, retry: { maxAttempts: 3, backoff: noJitter } }),
      post,
    );
    assert.deepEqual(net.sent, [0]);
    // A GET is retried on a network failure.
    const get = runInterceptor([0, 200], (scheduler) => ({
      scheduler,
      retry: { maxAttempts: 3, backoff: noJitter },
    }));
    assert.deepEqual(get.sent, [0, 110]);
  },
);

test(
  'network failures (status 0) and attempt timeouts count against the breaker; a 4xx does not',
  { skip: ANGULAR_SKIP },
  () => {
    const cases: Array<[Answer, string]> = [
      [0, 'open'],
      ['hang', 'open'],
      [404, 'closed'],
    ];
    for (const [answer, state] of cases) {
      const scheduler = new TestScheduler(assert.deepEqual);
      const breakers = new OriginBreakers(
        { minimumRequestThreshold: 2, counterUpdateInterval: 1 },
        { scheduler },
      );
      scheduler.run(() => {
        const intercept = rxhttpInterceptor({
          breakers,
          scheduler,
          retry: { maxAttempts: 1, timeoutPerAttempt: 100 },
        });
        const next: HttpHandlerFn = () =>
          answer === 'hang' ? NEVER : throwError(() => new HttpErrorResponse({ status: answer as number }));
        for (const at of [0, 200, 400])
          scheduler.schedule(
            () => intercept(new HttpRequest('GET', 'http://api.test/'), next).subscribe({ error: () => {} }),
            at,
          );
      });
      assert.equal(breakers.peek('http://api.test')?.state, state, String(answer));
    }
  },
);
