import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, lastValueFrom, tap, type Observable } from 'rxjs';
import { AddressGroup, Client, type CallEvent, type ComposedCall, type XResponse } from '../../lib/index.js';
import { deadline, pick, retryBackoff } from '../../lib/operators/index.js';
import { startBackend, staticTarget, waitFor } from '../helpers/loopback.js';

/** client.request$ written out: the chain the README shows. */
const written = (call: ComposedCall): Observable<XResponse> =>
  pick(call.group, call.attempt$, {
    ...(call.breakers ? { breakers: call.breakers } : {}),
    events: call,
  }).pipe(retryBackoff(call.retry), deadline(call.timeout, { events: call }));

/** What of an event does not depend on wall-clock time. */
function shape(e: CallEvent): string {
  switch (e.type) {
    case 'attempt-start':
      return `${e.type} #${e.attempt}`;
    case 'attempt-end':
      return `${e.type} #${e.attempt} ${e.status ?? e.errorCode} ${e.verdict}`;
    case 'retry-scheduled':
      return `${e.type} #${e.attempt} ${e.delayMs} ${e.delayReason} ${e.reason}`;
    case 'call-end':
      return `${e.type} ${e.outcome} ${e.status ?? e.errorCode} ${e.attempts}`;
    default:
      return e.type;
  }
}

test('compose$ with the written-out chain emits what request$ emits on a real loopback group', async (t) => {
  // The first request of each run, whichever host gets it, is a 503; the retry gets a 200.
  let hits = 0;
  const flaky = (_req: unknown, res: import('node:http').ServerResponse) => (
    (res.statusCode = ++hits === 1 ? 503 : 200),
    res.end()
  );
  const down = await startBackend(flaky);
  const up = await startBackend(flaky);
  t.after(() => Promise.all([down.close(), up.close()]));
  const run = async (how: 'fused' | 'composed'): Promise<string[]> => {
    hits = 0;
    const client = new Client({ random: () => 0.5 });
    const group = new AddressGroup(staticTarget(down, up), { loadBalancer: 'round-robin' });
    const events: string[] = [];
    client.events$.subscribe((e) => e.type !== 'resolver-update' && events.push(shape(e)));
    const options = { retry: { maxAttempts: 3, backoff: { initialDelay: 5, jitter: 'none' as const } } };
    const req = { group, path: '/users/1' };
    const res = await lastValueFrom(
      how === 'fused' ? client.request$(req, options) : client.compose$(req, options, written),
    );
    assert.equal(res.status, 200);
    assert.equal(res.attempts, 2);
    assert.equal(res.timeline.outcome, 'ok', 'the composed call has its timeline too');
    assert.ok(res.timeline.entries.length >= 3);
    await client.close();
    group.close();
    return events;
  };
  const fused = await run('fused');
  const composed = await run('composed');
  assert.deepEqual(composed, fused);
  assert.ok(fused.includes('retry-scheduled #2 5 backoff 503'), fused.join('\n'));
});

test("the client's breakers count composed calls: a failing host's breaker opens and the pick leaves it out", async (t) => {
  const down = await startBackend((_req, res) => ((res.statusCode = 500), res.end()));
  const up = await startBackend();
  t.after(() => Promise.all([down.close(), up.close()]));
  const client = new Client({ circuitBreaker: { minimumRequestThreshold: 2, counterUpdateInterval: 1 } });
  const group = new AddressGroup(staticTarget(down, up), { loadBalancer: 'round-robin' });
  t.after(() => (group.close(), client.close()));
  // A stage of one's own between pick and the retry: a log of every attempt's status.
  const log: number[] = [];
  const logged = (call: ComposedCall): Observable<XResponse> =>
    pick(call.group, call.attempt$, {
      ...(call.breakers ? { breakers: call.breakers } : {}),
      events: call,
    }).pipe(
      tap((res) => log.push(res.status)),
      retryBackoff(call.retry),
      deadline(call.timeout, { events: call }),
    );
  for (let i = 0; i < 8; i++) await lastValueFrom(client.compose$({ group, path: '/' }, undefined, logged));
  const states = await firstValueFrom(client.breakers$);
  assert.equal(states.get(down.hostPort)?.state, 'open');
  const before = down.hits;
  for (let i = 0; i < 4; i++) await lastValueFrom(client.compose$({ group, path: '/' }, undefined, logged));
  assert.equal(down.hits, before, 'no request to the open host');
  assert.ok(log.includes(500) && log.includes(200));
});

test('unsubscribing a composed call aborts the attempt: attempt-end and call-end say cancelled', async (t) => {
  const hang = await startBackend(() => undefined);
  t.after(() => hang.close());
  const client = new Client();
  const group = new AddressGroup(staticTarget(hang));
  t.after(() => (group.close(), client.close()));
  const events: CallEvent[] = [];
  client.events$.subscribe((e) => events.push(e));
  const sub = client.compose$({ group, path: '/' }, undefined, written).subscribe();
  await waitFor(() => hang.hits === 1);
  sub.unsubscribe();
  const end = events.find((e) => e.type === 'attempt-end');
  assert.ok(end?.type === 'attempt-end' && end.cancelled && end.verdict === 'ignored');
  const callEnd = events.find((e) => e.type === 'call-end');
  assert.ok(callEnd?.type === 'call-end' && callEnd.outcome === 'cancelled');
  await waitFor(() => hang.aborted === 1);
});

test('compose$ refuses what it does not do (a streamed response) with INVALID_ARGUMENT naming the field', async () => {
  const client = new Client();
  const group = new AddressGroup('static://127.0.0.1:9');
  const e = await lastValueFrom(
    client.compose$({ group, path: '/' }, { responseType: 'stream' }, written),
  ).catch((x: unknown) => x);
  assert.equal((e as { code?: string }).code, 'INVALID_ARGUMENT');
  assert.equal((e as { field?: string }).field, 'responseType');
  group.close();
  await client.close();
});

test('client.close() ends a composed call in back-off at once: ABORTED, call-end cancelled, nothing sent after', async (t) => {
  const down = await startBackend((_req, res) => ((res.statusCode = 503), res.end()));
  t.after(() => down.close());
  const client = new Client();
  const group = new AddressGroup(staticTarget(down));
  t.after(() => group.close());
  const events: CallEvent[] = [];
  client.events$.subscribe((e) => events.push(e));
  const options = { retry: { maxAttempts: 3, backoff: { initialDelay: 300, jitter: 'none' as const } } };
  const result = lastValueFrom(client.compose$({ group, path: '/' }, options, written)).catch(
    (e: unknown) => e,
  );
  await waitFor(() => events.some((e) => e.type === 'retry-scheduled'));
  await client.close();
  const error = (await result) as { code?: string };
  assert.equal(error.code, 'ABORTED');
  const end = events.find((e) => e.type === 'call-end');
  assert.ok(end?.type === 'call-end' && end.outcome === 'cancelled' && end.errorCode === 'ABORTED');
  await new Promise((r) => setTimeout(r, 400)); // past the back-off: no retry may go out
  assert.equal(down.hits, 1);
});

test("the caller's signal aborts a composed call in flight: ABORTED, the attempt and the call end cancelled", async (t) => {
  const hang = await startBackend(() => undefined);
  t.after(() => hang.close());
  const client = new Client();
  const group = new AddressGroup(staticTarget(hang));
  t.after(() => (group.close(), client.close()));
  const events: CallEvent[] = [];
  client.events$.subscribe((e) => events.push(e));
  const ac = new AbortController();
  const result = lastValueFrom(client.compose$({ group, path: '/' }, { signal: ac.signal }, written)).catch(
    (e: unknown) => e,
  );
  await waitFor(() => hang.hits === 1);
  ac.abort();
  assert.equal(((await result) as { code?: string }).code, 'ABORTED');
  const attemptEnd = events.find((e) => e.type === 'attempt-end');
  assert.ok(attemptEnd?.type === 'attempt-end' && attemptEnd.cancelled);
  const end = events.find((e) => e.type === 'call-end');
  assert.ok(end?.type === 'call-end' && end.outcome === 'cancelled' && end.errorCode === 'ABORTED');
  await waitFor(() => hang.aborted === 1);
});
