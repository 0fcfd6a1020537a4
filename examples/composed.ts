// client.request$ written out as rxhttp/operators, run against two loopback backends: `flaky`
// answers 503 to its first request, `down` refuses connections once closed. The README's
// "Composing the chain yourself" section is the region below.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let flakyHits = 0;
const flaky = createServer((_req, res) => {
  res.statusCode = ++flakyHits === 1 ? 503 : 200;
  res.end(JSON.stringify({ id: 42, from: 'flaky' }));
});
await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
const port = (flaky.address() as AddressInfo).port;

// #region readme
import { catchError, lastValueFrom, of, tap, type Observable } from 'rxjs';
import { AddressGroup, Client, type ComposedCall, type XResponse } from 'rxhttp';
import { deadline, pick, retryBackoff } from 'rxhttp/operators';

const client = new Client({ requestTimeout: 5_000 });
const users = new AddressGroup(`static://127.0.0.1:${port}`); // `port`: the loopback backend above
client.events$.subscribe((e) => e.type === 'retry-scheduled' && console.log('retry in', e.delayMs, 'ms'));

// client.request$(req, options), stage by stage: the same events on events$, event for event.
const asRequest$ = (call: ComposedCall): Observable<XResponse> =>
  pick(call.group, call.attempt$, { breakers: call.breakers, events: call }).pipe(
    // pick + breaker gate → the attempt step (one exchange: attempt-start … attempt-end)
    retryBackoff(call.retry), // decide: retry-scheduled / retry-refused, back-off, budget, deadline
    deadline(call.timeout, { events: call }), // the call's deadline: TimeoutError phase 'call'
  );
const options = { retry: { maxAttempts: 3, backoff: { initialDelay: 20 } } };
const res = await lastValueFrom(client.compose$({ group: users, path: '/users/42' }, options, asRequest$));
console.log('status', res.status, 'after', res.attempts, 'attempts'); // 200 after 2

// Your own stages between them: a log of every attempt, a cache that answers when retries fail.
const cache = new Map<string, XResponse>();
const cached = (call: ComposedCall): Observable<XResponse> =>
  pick(call.group, call.attempt$, { breakers: call.breakers, events: call }).pipe(
    tap((r) => console.log(`attempt ${r.attempts}: ${r.status} from ${r.address.host}`)),
    retryBackoff(call.retry),
    tap((r) => r.ok && cache.set(call.path, r)),
    catchError((err: unknown) => {
      const hit = cache.get(call.path);
      if (hit === undefined) throw err;
      console.log('served from cache after', String(err));
      return of(hit);
    }),
    deadline(call.timeout, { events: call }),
  );
await lastValueFrom(client.compose$({ group: users, path: '/users/42' }, options, cached));
flaky.closeAllConnections();
flaky.close(); // from now on: CONNECT errors, then the cached answer
const fallback = await lastValueFrom(client.compose$({ group: users, path: '/users/42' }, options, cached));
console.log('fallback status', fallback.status); // 200, from the cache
await client.close();
users.close();
// #endregion readme
