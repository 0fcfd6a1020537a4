import { test } from 'node:test';
import assert from 'node:assert/strict';
import { of, throwError, lastValueFrom, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import type { CallEvent } from '../../lib/index.js';
import {
  FailFastError,
  pick,
  retryBackoff,
  traced,
  type EventSink,
  type HostBreakers,
} from '../../lib/operators/index.js';
import type { Address } from '../../lib/types.js';

const A: Address = { host: '10.0.0.1', port: 80 };
const B: Address = { host: '10.0.0.2', port: 80 };
const C: Address = { host: '10.0.0.3', port: 80 };
const group = { name: 'api', addresses: [A, B, C] };

/** A sink that keeps what it is given, on a virtual clock. */
function sink(vts = new VirtualTimeScheduler(VirtualAction, Infinity)): EventSink & { events: CallEvent[] } {
  let ids = 0;
  const events: CallEvent[] = [];
  return {
    events,
    emit: (e) => events.push(e),
    now: () => vts.now(),
    nextCallId: () => ++ids,
    scheduler: vts,
  };
}

/** Breakers with a fixed state per host (open ones refuse their permit). */
function breakersOf(open: Set<Address>): HostBreakers {
  const byKey = new Map([A, B, C].map((a) => [`${a.host}:${a.port}`, a]));
  return {
    allClosed: open.size === 0,
    key: (a) => `${a.host}:${a.port}`,
    state: (k) => (open.has(byKey.get(k)!) ? 'open' : 'closed'),
    canAttempt: (k) => !open.has(byKey.get(k)!),
    tryAcquire: (k) => !open.has(byKey.get(k)!),
  };
}

test('pick picks again on each re-subscription and avoids the hosts this call already tried', async () => {
  const vts = new VirtualTimeScheduler(VirtualAction, Infinity);
  const seen: string[] = [];
  const result = lastValueFrom(
    pick(group, (a) => (seen.push(a.host), of({ status: seen.length < 3 ? 503 : 200 }))).pipe(
      retryBackoff({ maxAttempts: 3, backoff: { initialDelay: 10, jitter: 'none' }, scheduler: vts }),
    ),
  );
  vts.flush();
  assert.equal((await result).status, 200);
  assert.equal(new Set(seen).size, 3, `three attempts, three different hosts: ${seen.join(', ')}`);
});

test('pick leaves a host with an open breaker out while another remains', async () => {
  const breakers = breakersOf(new Set([A, B]));
  for (let i = 0; i < 5; i++) {
    const host = await lastValueFrom(pick(group, (a) => of(a.host), { breakers }));
    assert.equal(host, C.host);
  }
});

test('every breaker refusing: FailFastError and a fail-fast event, the attempt never subscribed', async () => {
  const s = sink();
  let subscribed = 0;
  const error = await lastValueFrom(
    traced(s, { group, path: '/x' }, (call) =>
      pick(group, () => (subscribed++, of(1)), { breakers: breakersOf(new Set([A, B, C])), events: call }),
    ),
  ).catch((e: unknown) => e);
  assert.ok(error instanceof FailFastError);
  assert.equal(subscribed, 0);
  assert.deepEqual(
    s.events.map((e) => e.type),
    ['call-start', 'fail-fast', 'call-end'],
  );
  const end = s.events[2] as Extract<CallEvent, { type: 'call-end' }>;
  assert.equal(end.errorCode, 'FAIL_FAST');
  assert.equal(end.outcome, 'error');
});

test('an empty group errors with NO_ADDRESS; a throwing balancer with INVALID_ARGUMENT naming it', async () => {
  const empty = await lastValueFrom(pick({ name: 'none', addresses: [] }, () => of(1))).catch(
    (e: unknown) => e,
  );
  assert.equal((empty as { code?: string }).code, 'NO_ADDRESS');
  const broken = {
    ...group,
    balancer: {
      pick: () => {
        throw new Error('boom');
      },
    },
  };
  const e = await lastValueFrom(pick(broken, () => of(1))).catch((x: unknown) => x);
  assert.equal((e as { code?: string }).code, 'INVALID_ARGUMENT');
  assert.equal((e as { field?: string }).field, 'loadBalancer.pick');
});

test('a fail-fast is not retried by retryBackoff in the same call: the call ends at once', async () => {
  const s = sink();
  let attempts = 0;
  const error = await lastValueFrom(
    traced(s, { group }, (call) =>
      pick(group, () => (attempts++, throwError(() => new Error('x'))), {
        breakers: breakersOf(new Set([A, B, C])),
        events: call,
      }).pipe(retryBackoff({ maxAttempts: 3, events: call })),
    ),
  ).catch((x: unknown) => x);
  assert.ok(error instanceof FailFastError);
  assert.equal(attempts, 0);
  assert.deepEqual(
    s.events.map((e) => e.type),
    ['call-start', 'fail-fast', 'call-end'],
  );
});
