import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NEVER, Observable, defer, lastValueFrom, of, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import type { CallEvent } from '../../lib/index.js';
import { deadline, pick, retryBackoff, traced, type EventSink } from '../../lib/operators/index.js';

// traced + the operators given `events` on a source that is not rxhttp's (a fetch-like Observable
// of `{ status, headers }`): the call gets an id and the fused chain's call-level events, and the
// retry decision reads status and Retry-After off the values.

const group = { name: 'api', addresses: [{ host: '10.0.0.1', port: 80 }] };

function sink(vts: VirtualTimeScheduler): EventSink & { events: CallEvent[] } {
  let ids = 0;
  const events: CallEvent[] = [];
  return {
    events,
    emit: (e) => events.push(e),
    now: () => vts.now(),
    nextCallId: () => ++ids,
    scheduler: vts,
    random: () => 0.5,
  };
}

/** Answers with the next status of `statuses` (then 200), 10 ms after subscribe. */
function server(vts: VirtualTimeScheduler, statuses: number[], headers: Record<string, string> = {}) {
  return new Observable<{ status: number; headers: Record<string, string> }>((s) => {
    const t = vts.schedule(() => (s.next({ status: statuses.shift() ?? 200, headers }), s.complete()), 10);
    return () => t.unsubscribe();
  });
}

const kinds = (events: CallEvent[]) =>
  events.map((e) =>
    e.type === 'retry-scheduled' ? `${e.type} ${e.delayMs} ${e.delayReason} ${e.reason}` : e.type,
  );

test('traced: call-start, then call-end ok with the status, before the value; ids per subscription', async () => {
  const vts = new VirtualTimeScheduler(VirtualAction, Infinity);
  const s = sink(vts);
  const backend = server(vts, [204]);
  const call$ = traced(s, { group, method: 'GET', path: '/a' }, () => backend);
  const first = lastValueFrom(call$);
  const second = lastValueFrom(call$);
  vts.flush();
  assert.equal((await first).status, 204);
  await second;
  const ends = s.events.filter((e) => e.type === 'call-end');
  assert.deepEqual(
    ends.map((e) => [e.callId, e.outcome, e.status, e.durationMs]),
    [
      [1, 'ok', 204, 10],
      [2, 'ok', 200, 10],
    ],
  );
});

test('retryBackoff given the call: a 503 with Retry-After: 1 waits 1 s, with retry-scheduled in the call', async () => {
  const vts = new VirtualTimeScheduler(VirtualAction, Infinity);
  const s = sink(vts);
  const backend = server(vts, [503], { 'retry-after': '1' });
  const res = lastValueFrom(
    traced(s, { group, timeout: 5_000 }, (call) =>
      pick(group, () => backend, { events: call }).pipe(
        retryBackoff({ maxAttempts: 3, events: call }),
        deadline(5_000, { events: call }),
      ),
    ),
  );
  vts.flush();
  assert.equal((await res).status, 200);
  assert.deepEqual(kinds(s.events), ['call-start', 'retry-scheduled 1000 retry-after 503', 'call-end']);
  const end = s.events.at(-1) as Extract<CallEvent, { type: 'call-end' }>;
  assert.equal(end.attempts, 2);
  assert.equal(end.durationMs, 1_020);
});

test('deadline given the call: a source that never answers ends at the call deadline, phase call', async () => {
  const vts = new VirtualTimeScheduler(VirtualAction, Infinity);
  const s = sink(vts);
  const error = lastValueFrom(
    traced(s, { group, timeout: 300 }, (call) =>
      defer(() => NEVER).pipe(
        retryBackoff({ maxAttempts: 3, events: call }),
        deadline(300, { events: call }),
      ),
    ),
  ).catch((e: unknown) => e);
  vts.flush();
  const e = (await error) as { code?: string; phase?: string };
  assert.equal(e.code, 'TIMEOUT');
  assert.equal(e.phase, 'call');
  const end = s.events.at(-1) as Extract<CallEvent, { type: 'call-end' }>;
  assert.deepEqual([end.outcome, end.errorCode, end.durationMs], ['error', 'TIMEOUT', 300]);
});

test('unsubscribing a traced call emits call-end cancelled; a timeout of 0 sends nothing', async () => {
  const vts = new VirtualTimeScheduler(VirtualAction, Infinity);
  const s = sink(vts);
  let subscribed = 0;
  traced(s, { group }, () => (subscribed++, NEVER))
    .subscribe()
    .unsubscribe();
  const zero = await lastValueFrom(traced(s, { group, timeout: 0 }, () => (subscribed++, of(1)))).catch(
    (e: unknown) => e,
  );
  assert.equal((zero as { code?: string }).code, 'TIMEOUT');
  assert.equal(subscribed, 1);
  assert.deepEqual(
    s.events.filter((e) => e.type === 'call-end').map((e) => e.outcome),
    ['cancelled', 'error'],
  );
});
