// rxhttp/operators on a plain fetch Observable, not rxhttp's Client: a loopback backend answers
// 503 twice, then 200. The retry backs off and succeeds; a forced-open breaker fails fast without
// sending; a backend that never answers hits the attempt timeout, then the call deadline.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let hits = 0;
const server = createServer((req, res) => {
  if (req.url === '/hang') return; // never answers: the client's timeouts end it
  res.statusCode = ++hits <= 2 ? 503 : 200;
  res.end(String(res.statusCode));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// #region readme
import { Observable, lastValueFrom } from 'rxjs';
import {
  CircuitBreaker,
  TimeoutError,
  circuitBreaker,
  retryBackoff,
  attemptTimeout,
  deadline,
} from 'rxhttp/operators';

// Any cold Observable works; this one aborts the fetch when unsubscribed (by a timeout, say).
const fetch$ = (url: string) =>
  new Observable<Response>((subscriber) => {
    const ac = new AbortController();
    fetch(url, { signal: ac.signal })
      .then(async (res) => (await res.arrayBuffer(), subscriber.next(res), subscriber.complete()))
      .catch((err: unknown) => subscriber.error(err));
    return () => ac.abort();
  });

const breaker = new CircuitBreaker({ failureRateThreshold: 0.5, circuitOpenWindow: 10_000 });
const call = (url: string) =>
  fetch$(url).pipe(
    attemptTimeout(300), // each attempt: TimeoutError phase 'attempt', retried
    circuitBreaker(breaker), // refused: FailFastError, nothing sent; a status >= 500 is a failure
    retryBackoff({ maxAttempts: 3, backoff: { initialDelay: 50, jitter: 'none' }, deadline: 1_000 }),
    deadline(1_000), // the whole call: TimeoutError phase 'call'
  );

const res = await lastValueFrom(call(`${base}/`)); // 503, 503, then 200
console.log('status', res.status, 'after', hits, 'attempts');

breaker.forceOpen(); // manual control: forceOpen, forceClose, reset
await lastValueFrom(call(`${base}/`)).catch((err: unknown) => console.log('forced open:', String(err)));
breaker.reset();

// A host that never answers: attempts time out at 300, 650 and 1050 ms; the deadline comes first.
const phase = (err: unknown) => console.log('timeout phase:', err instanceof TimeoutError && err.phase);
await lastValueFrom(call(`${base}/hang`)).catch(phase); // 'call'
await lastValueFrom(fetch$(`${base}/hang`).pipe(attemptTimeout(100))).catch(phase); // 'attempt'
// #endregion readme

server.closeAllConnections();
server.close();
