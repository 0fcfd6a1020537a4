import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Observable, firstValueFrom, lastValueFrom } from 'rxjs';
import { startBackend, waitFor } from '../helpers/loopback.js';
import {
  CircuitBreaker,
  FailFastError,
  TimeoutError,
  attemptTimeout,
  circuitBreaker,
  deadline,
  retryBackoff,
} from '../../lib/operators/index.js';

// rxhttp/operators on an Observable that is not rxhttp's: the platform's fetch against a real
// loopback server. Unsubscribing aborts the request, as any well-made fetch Observable does.
function fetch$(url: string): Observable<Response> {
  return new Observable<Response>((subscriber) => {
    const ac = new AbortController();
    fetch(url, { signal: ac.signal })
      .then(async (res) => {
        await res.arrayBuffer(); // read the body: the connection goes back to the pool
        subscriber.next(res);
        subscriber.complete();
      })
      .catch((e: unknown) => subscriber.error(e));
    return () => ac.abort();
  });
}

async function outcome<T>(p: Promise<T>): Promise<T | Error> {
  return p.catch((e: unknown) => e as Error);
}

test('the breaker opens on a failing server and then fails fast without sending', async (t) => {
  const backend = await startBackend((_req, res) => {
    res.statusCode = 500;
    res.end('down');
  });
  t.after(() => backend.close());
  const breaker = new CircuitBreaker({
    minimumRequestThreshold: 2,
    counterUpdateInterval: 1,
    circuitOpenWindow: 60_000,
  });
  const call = () => firstValueFrom(fetch$(`http://${backend.hostPort}/`).pipe(circuitBreaker(breaker)));
  let failFast: unknown;
  for (let i = 0; i < 20 && failFast === undefined; i++) {
    const r = await outcome(call());
    if (r instanceof FailFastError) failFast = r;
    else assert.equal((r as Response).status, 500);
    await new Promise((resolve) => setTimeout(resolve, 2)); // the next 1 ms bucket
  }
  assert.ok(failFast instanceof FailFastError, 'the breaker opened');
  assert.equal(breaker.state, 'open');
  const hits = backend.hits;
  assert.ok((await outcome(call())) instanceof FailFastError);
  assert.equal(backend.hits, hits, 'nothing sent while open');
  breaker.forceClose();
  assert.equal(((await call()) as Response).status, 500, 'forceClose admits again');
  assert.equal(backend.hits, hits + 1);
});

test('the retry backs off and succeeds: 503, 503, then 200', async (t) => {
  const at: number[] = [];
  const backend = await startBackend((_req, res) => {
    at.push(performance.now());
    res.statusCode = at.length < 3 ? 503 : 200;
    res.end(String(res.statusCode));
  });
  t.after(() => backend.close());
  const res = await lastValueFrom(
    fetch$(`http://${backend.hostPort}/`).pipe(
      retryBackoff({ maxAttempts: 3, backoff: { initialDelay: 20, jitter: 'none' } }),
    ),
  );
  assert.equal(res.status, 200);
  assert.equal(backend.hits, 3);
  // Back-off without jitter: 20 ms, then 40 ms, at least (timers never fire early).
  assert.ok(at[1]! - at[0]! >= 19 && at[2]! - at[1]! >= 39, `gaps ${at[1]! - at[0]!}, ${at[2]! - at[1]!}`);
});

test('the timeouts fire with the right phase and abort the request', async (t) => {
  const backend = await startBackend(() => {
    /* never answers */
  });
  t.after(() => backend.close());
  const url = `http://${backend.hostPort}/`;
  const attempt = await outcome(firstValueFrom(fetch$(url).pipe(attemptTimeout(100))));
  assert.ok(attempt instanceof TimeoutError);
  assert.equal(attempt.phase, 'attempt');
  const call = await outcome(
    firstValueFrom(
      fetch$(url).pipe(
        attemptTimeout(100),
        retryBackoff({ maxAttempts: 10, backoff: { initialDelay: 10, jitter: 'none' } }),
        deadline(250),
      ),
    ),
  );
  assert.ok(call instanceof TimeoutError);
  assert.equal(call.phase, 'call');
  assert.ok(
    backend.hits >= 2,
    `hits ${backend.hits}: the first attempt and a retry after its attempt timeout`,
  );
  // Every request was abandoned by its client, none left hanging.
  await waitFor(() => backend.aborted === backend.hits);
});
