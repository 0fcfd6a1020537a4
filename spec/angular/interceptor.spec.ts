// First: Angular's packages are partially compiled and JIT-compile as they load.
import '@angular/compiler';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpErrorResponse, provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { firstValueFrom } from 'rxjs';
import { startAngularApp, type AngularApp } from '../helpers/angular.js';
import { ANGULAR_SKIP } from '../helpers/angular-node.js';
import { startBackend, type Backend } from '../helpers/loopback.js';
import { OriginBreakers, rxhttpInterceptor } from '../../lib/angular/index.js';
import type { RxHttpInterceptorOptions } from '../../lib/angular/index.js';
import { FailFastError, TimeoutError, isXhttpError } from '../../lib/operators/index.js';

// Must-show 3 (Node): the real @angular/core and @angular/common/http, HttpClient with withFetch()
// and the functional interceptor, against real loopback servers. Nothing of Angular is mocked.

async function app(
  t: { after(fn: () => unknown): void },
  options: RxHttpInterceptorOptions,
): Promise<AngularApp> {
  const a = await startAngularApp([
    provideHttpClient(withFetch(), withInterceptors([rxhttpInterceptor(options)])),
  ]);
  t.after(() => a.close());
  return a;
}

async function server(
  t: { after(fn: () => unknown): void },
  handler: Parameters<typeof startBackend>[0],
): Promise<Backend> {
  const b = await startBackend(handler);
  t.after(() => b.close());
  return b;
}

/** The error a request ends with (or a failed assertion when it succeeded). */
async function failure(p: Promise<unknown>): Promise<HttpErrorResponse> {
  const e = await p.then(
    () => assert.fail('expected the request to fail'),
    (e: unknown) => e,
  );
  assert.ok(e instanceof HttpErrorResponse, `an HttpErrorResponse, got ${String(e)}`);
  return e;
}

const FAST = { initialDelay: 10, jitter: 'none' } as const;

test(
  'a failing-then-ok host: the GET is retried with back-off and succeeds',
  { skip: ANGULAR_SKIP },
  async (t) => {
    let n = 0;
    const flaky = await server(t, (_req, res) => {
      res.statusCode = ++n <= 2 ? 503 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ n }));
    });
    const { http } = await app(t, { retry: { maxAttempts: 3, backoff: FAST } });
    const body = await firstValueFrom(http.get<{ n: number }>(`http://${flaky.hostPort}/users/1`));
    assert.deepEqual(body, { n: 3 });
    assert.equal(flaky.hits, 3, 'two 503s retried, then the 200');
  },
);

test(
  'a POST is not retried by default (RetryOptions semantics), with retryNonIdempotent it is',
  { skip: ANGULAR_SKIP },
  async (t) => {
    let n = 0;
    const flaky = await server(t, (_req, res) => {
      res.statusCode = ++n % 2 === 1 ? 503 : 201;
      res.end('x');
    });
    const plain = await app(t, { retry: { maxAttempts: 3, backoff: FAST } });
    const e = await failure(firstValueFrom(plain.http.post(`http://${flaky.hostPort}/orders`, { a: 1 })));
    assert.equal(e.status, 503);
    assert.equal(flaky.hits, 1);

    n = 0;
    const eager = await app(t, { retry: { maxAttempts: 3, backoff: FAST, retryNonIdempotent: true } });
    const res = await firstValueFrom(
      eager.http.post(
        `http://${flaky.hostPort}/orders`,
        { a: 1 },
        { observe: 'response', responseType: 'text' },
      ),
    );
    assert.equal(res.status, 201);
    assert.equal(flaky.hits, 3);
  },
);

test(
  "Retry-After from the HttpErrorResponse's headers replaces the back-off",
  { skip: ANGULAR_SKIP },
  async (t) => {
    let n = 0;
    const busy = await server(t, (_req, res) => {
      if (++n === 1) {
        res.statusCode = 503;
        res.setHeader('retry-after', '0');
      }
      res.end('ok');
    });
    // The back-off alone (30 s) could not start before the deadline (10 s): only Retry-After's 0 s can.
    const { http } = await app(t, {
      retry: { maxAttempts: 2, backoff: { initialDelay: 30_000, jitter: 'none' } },
      timeout: 10_000,
    });
    assert.equal(await firstValueFrom(http.get(`http://${busy.hostPort}/`, { responseType: 'text' })), 'ok');
    assert.equal(busy.hits, 2);
  },
);

test(
  'a failing host opens its origin breaker: the next call fails fast, nothing reaches the server',
  { skip: ANGULAR_SKIP },
  async (t) => {
    const down = await server(t, (_req, res) => {
      res.statusCode = 500;
      res.end('down');
    });
    const up = await server(t, (_req, res) => res.end('up'));
    const breakers = new OriginBreakers({
      minimumRequestThreshold: 2,
      counterUpdateInterval: 1,
      circuitOpenWindow: 60_000,
    });
    const { http } = await app(t, { breakers });
    const origin = `http://${down.hostPort}`;
    const outcomes: Array<number | string> = [];
    for (let i = 0; i < 20 && !outcomes.includes('FAIL_FAST'); i++) {
      const e = await failure(firstValueFrom(http.get(`${origin}/x?token=secret`, { responseType: 'text' })));
      outcomes.push(e.status === 0 ? e.statusText : e.status);
      if (e.status === 0) {
        assert.ok(e.error instanceof FailFastError);
        assert.equal(e.url, `${origin}/x`, 'no query string in the error');
        assert.doesNotMatch(e.message, /secret/);
      }
      await new Promise((r) => setTimeout(r, 5)); // the breaker's counters update every 1 ms
    }
    assert.equal(outcomes.at(-1), 'FAIL_FAST');
    assert.ok(
      outcomes.slice(0, -1).every((s) => s === 500),
      String(outcomes),
    );
    assert.equal(down.hits, outcomes.length - 1, 'the fail-fast call sent nothing');
    assert.equal(breakers.peek(origin)?.state, 'open');
    // Per origin: another host is unaffected.
    assert.equal(await firstValueFrom(http.get(`http://${up.hostPort}/`, { responseType: 'text' })), 'up');
    assert.equal(breakers.peek(`http://${up.hostPort}`)?.state, 'closed');
    // Manual control through the same breakers: forceClose admits again.
    breakers.peek(origin)!.forceClose();
    const e = await failure(firstValueFrom(http.get(`${origin}/x`, { responseType: 'text' })));
    assert.equal(e.status, 500);
  },
);

test('4xx answers neither open the breaker nor get retried', { skip: ANGULAR_SKIP }, async (t) => {
  const missing = await server(t, (_req, res) => {
    res.statusCode = 404;
    res.end('no');
  });
  const breakers = new OriginBreakers({ minimumRequestThreshold: 1, counterUpdateInterval: 1 });
  const { http } = await app(t, { breakers, retry: { maxAttempts: 3, backoff: FAST } });
  for (let i = 0; i < 3; i++) {
    const e = await failure(firstValueFrom(http.get(`http://${missing.hostPort}/`)));
    assert.equal(e.status, 404);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(missing.hits, 3);
  assert.equal(breakers.peek(`http://${missing.hostPort}`)?.state, 'closed');
});

test(
  'the attempt timeout fires per attempt (phase attempt) and the attempts are retried',
  { skip: ANGULAR_SKIP },
  async (t) => {
    const hang = await server(t, () => undefined); // never answers
    const { http } = await app(t, { retry: { maxAttempts: 2, timeoutPerAttempt: 100, backoff: FAST } });
    const e = await failure(firstValueFrom(http.get(`http://${hang.hostPort}/`)));
    assert.equal(e.status, 0);
    assert.equal(e.statusText, 'TIMEOUT');
    assert.ok(e.error instanceof TimeoutError);
    assert.equal(e.error.phase, 'attempt');
    assert.equal(hang.hits, 2, 'each attempt timed out, the first was retried');
  },
);

test(
  'the deadline bounds the whole request (phase call) and is not retried',
  { skip: ANGULAR_SKIP },
  async (t) => {
    const hang = await server(t, () => undefined);
    const { http } = await app(t, { retry: { maxAttempts: 5, backoff: FAST }, timeout: 150 });
    const e = await failure(firstValueFrom(http.get(`http://${hang.hostPort}/`)));
    assert.ok(e.error instanceof TimeoutError);
    assert.equal(e.error.phase, 'call');
    assert.equal(hang.hits, 1);
  },
);

test(
  'bad options throw INVALID_ARGUMENT naming the field when the interceptor is made',
  { skip: ANGULAR_SKIP },
  () => {
    const cases: Array<[unknown, string]> = [
      [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
      [{ retry: {} }, 'retry.maxAttempts'],
      [{ retry: { maxAttempts: 2, timeoutPerAttempt: -1 } }, 'retry.timeoutPerAttempt'],
      [{ retry: { maxAttempts: 2, retryOn: 'yes' } }, 'retry.retryOn'],
      [{ retry: { maxAttempts: 2, backoff: { jitter: 'some' } } }, 'retry.backoff.jitter'],
      [{ timeout: 0 }, 'timeout'],
      [{ circuitBreaker: { failureRateThreshold: 2 } }, 'circuitBreaker.failureRateThreshold'],
      [{ breakers: {} }, 'breakers'],
      [{ breakers: new OriginBreakers(), circuitBreaker: {} }, 'circuitBreaker'],
      [{ retries: 3 }, 'rxhttpInterceptor.retries'],
    ];
    for (const [options, field] of cases) {
      assert.throws(
        () => rxhttpInterceptor(options as RxHttpInterceptorOptions),
        (e: unknown) => isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.field === field,
        field,
      );
    }
  },
);

test(
  'a throwing retryOn fails the request with INVALID_ARGUMENT naming retry.retryOn',
  { skip: ANGULAR_SKIP },
  async (t) => {
    const down = await server(t, (_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const { http } = await app(t, {
      retry: {
        maxAttempts: 3,
        retryOn: () => {
          throw new Error('boom');
        },
      },
    });
    const e = await failure(firstValueFrom(http.get(`http://${down.hostPort}/`)));
    assert.ok(isXhttpError(e.error));
    assert.equal(e.error.field, 'retry.retryOn');
    assert.equal(down.hits, 1);
  },
);
