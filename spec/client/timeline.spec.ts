import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';
import { TestScheduler } from 'rxjs/testing';
import { AddressGroup, Client, isXhttpError, type XResponse } from '../../lib/index.js';
import type { XhttpError } from '../../lib/errors.js';
import { LoadStats } from '../../lib/balancer/load-stats.js';
import { call$, SharedPickContext } from '../../lib/client/call.js';
import { buildCallSpec } from '../../lib/client/request.js';
import { LiveCalls } from '../../lib/client/live-calls.js';
import { foldTimeline } from '../../lib/client/timeline.js';
import type { Runtime } from '../../lib/client/runtime.js';
import { EventBus } from '../../lib/events/bus.js';
import type { CallEvent } from '../../lib/events/events.js';
import { clockFromScheduler } from '../../lib/internal/clock.js';
import { RetryBudget, resolveRetryBudget } from '../../lib/resilience/retry-budget.js';
import type { RetryOptions } from '../../lib/types.js';
import { closedPort } from '../helpers/e2e-util.js';

// The per-call timeline (XResponse.timeline, XhttpError.timeline) and deadline-aware retries, on
// virtual time through the real Call, decideRetry, load statistics and retry budget.

interface Script {
  status: number;
  /** Virtual ms before the response comes. */
  after: number;
  headers?: Record<string, string>;
}

/** Answers each request with the next scripted response after its virtual delay; aborts cancel it. */
function scripted(ts: TestScheduler, script: Script[]): Dispatcher {
  return {
    dispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
      const next = script.shift() ?? { status: 200, after: 0 };
      let answered = false;
      const action = ts.schedule(() => {
        answered = true;
        const raw = Object.entries(next.headers ?? {}).flatMap(([k, v]) => [Buffer.from(k), Buffer.from(v)]);
        handler.onHeaders!(next.status, raw, () => undefined, String(next.status));
        handler.onComplete!([]);
      }, next.after);
      handler.onConnect!(() => {
        if (!answered) action.unsubscribe();
      });
      return true;
    },
  } as unknown as Dispatcher;
}

function runtime(
  ts: TestScheduler,
  dispatcher: Dispatcher,
  withBudget = false,
): Runtime & { events: CallEvent[] } {
  const clock = clockFromScheduler(ts);
  const bus = new EventBus();
  const loadStats = new LoadStats(clock);
  loadStats.attach(bus.events$);
  const budget = withBudget
    ? new RetryBudget(resolveRetryBudget({ ratio: 0, minRetriesPerSecond: 2, ttl: 1_000 })!, clock)
    : undefined;
  budget?.attach(bus.events$);
  const events: CallEvent[] = [];
  bus.events$.subscribe((e) => events.push(e));
  let ids = 0;
  return {
    clock,
    bus,
    random: () => 0.5,
    breakers: undefined,
    loadStats,
    pickContext: new SharedPickContext(() => 0.5, loadStats),
    budget,
    timeouts: { connect: 10_000, headers: 10_000, body: 10_000, attempt: 0 },
    dispatcher: () => dispatcher,
    attemptHeaders: undefined,
    nextCallId: () => ++ids,
    calls: new LiveCalls(),
    bulkheads: new Map(),
    events,
  };
}

/** Runs one call to the end on virtual time; its response or error. */
function run(
  ts: TestScheduler,
  rt: Runtime,
  group: AddressGroup,
  options: { timeout?: number; retry?: RetryOptions },
): { res?: XResponse; err?: XhttpError; at?: number } {
  const out: { res?: XResponse; err?: XhttpError; at?: number } = {};
  const spec = buildCallSpec({ group, path: '/p' }, group, '/p', options, {
    requestTimeout: 30_000,
    maxResponseBytes: 1_000,
    headers: {},
    redirect: 'manual',
  });
  call$(rt, spec).subscribe({
    next: (r) => ((out.res = r), (out.at = ts.now())),
    error: (e: XhttpError) => ((out.err = e), (out.at = ts.now())),
  });
  ts.flush();
  return out;
}

const RETRY: RetryOptions = {
  maxAttempts: 4,
  retryOn: (o) => (o.response?.status ?? 0) >= 500,
  backoff: { initialDelay: 40, multiplier: 1, jitter: 'none' },
};

test('the timeline of a call with a Retry-After retry, a back-off retry and a budget refusal reads in order', () => {
  const ts = new TestScheduler(assert.deepEqual);
  ts.run(() => {
    const rt = runtime(
      ts,
      scripted(ts, [
        { status: 503, after: 10, headers: { 'retry-after': '0' } },
        { status: 503, after: 20 },
        { status: 502, after: 5 },
      ]),
      true,
    );
    const group = new AddressGroup('static://10.0.0.1:80,10.0.0.2:80', {
      scheduler: ts,
      loadBalancer: 'round-robin',
    });
    const { res } = run(ts, rt, group, { retry: RETRY });
    assert.ok(res, 'the last outcome is returned');
    assert.equal(res.status, 502);
    const t = res.timeline;
    const keys = t.entries.flatMap((e) => (e.kind === 'attempt' ? [e.key] : []));
    const [one, two] = keys as [string, string];
    assert.notEqual(one, two, 'the retry went to the other host');
    assert.deepEqual(
      t.entries.map((e) => ({ ...e, ...('address' in e ? { address: undefined } : {}) })),
      [
        {
          kind: 'attempt',
          attempt: 1,
          atMs: 0,
          address: undefined,
          key: one,
          endMs: 10,
          outcome: 'response',
          status: 503,
          verdict: 'ignored',
        },
        { kind: 'retry', atMs: 10, attempt: 2, delayMs: 0, delayReason: 'retry-after', reason: '503' },
        {
          kind: 'attempt',
          attempt: 2,
          atMs: 10,
          address: undefined,
          key: two,
          endMs: 30,
          outcome: 'response',
          status: 503,
          verdict: 'ignored',
        },
        { kind: 'retry', atMs: 30, attempt: 3, delayMs: 40, delayReason: 'backoff', reason: '503' },
        {
          kind: 'attempt',
          attempt: 3,
          atMs: 70,
          address: undefined,
          key: one,
          endMs: 75,
          outcome: 'response',
          status: 502,
          verdict: 'ignored',
        },
        { kind: 'retry-refused', atMs: 75, attempt: 4, reason: 'budget' },
      ],
    );
    assert.deepEqual(
      [t.outcome, t.status, t.durationMs, t.timeoutMs, t.method, t.path, t.callId],
      ['ok', 502, 75, 30_000, 'GET', '/p', 1],
    );
    assert.equal(res.timeline, t, 'folded once, then kept');
    group.close();
  });
});

test('a retry whose hosts cannot answer in the time left is skipped at once; the timeline says why (virtual time)', () => {
  const ts = new TestScheduler(assert.deepEqual);
  ts.run(() => {
    // Both hosts answer in 100 ms: two warm-up calls teach the load statistics so.
    const rt = runtime(
      ts,
      scripted(ts, [
        { status: 200, after: 100 },
        { status: 200, after: 100 },
        { status: 503, after: 100 },
        { status: 503, after: 100 },
        { status: 200, after: 100 },
      ]),
    );
    const group = new AddressGroup('static://10.0.0.1:80,10.0.0.2:80', {
      scheduler: ts,
      loadBalancer: 'round-robin',
    });
    run(ts, rt, group, {});
    run(ts, rt, group, {});
    // 150 ms: the first attempt's 503 comes at 100, leaving 50 minus the 1 ms back-off for a 100 ms host.
    const retry: RetryOptions = { maxAttempts: 3, backoff: { initialDelay: 1, jitter: 'none' } };
    const start = ts.now();
    const { res, err, at } = run(ts, rt, group, { timeout: 150, retry });
    assert.equal(err, undefined, 'not a TIMEOUT at the deadline');
    assert.ok(res);
    assert.equal(res.status, 503, 'the last outcome, at once');
    assert.equal(at! - start, 100, 'ended when the 503 came, not at the 150 ms deadline');
    assert.equal(res.attempts, 1);
    const refused = res.timeline.entries.at(-1);
    assert.deepEqual(refused, {
      kind: 'retry-refused',
      atMs: 100,
      attempt: 2,
      reason: 'deadline-insufficient',
      expectedMs: 100,
      remainingMs: 49,
    });
    const ev = rt.events.find((e) => e.type === 'retry-refused');
    assert.equal(ev?.type === 'retry-refused' && ev.reason, 'deadline-insufficient');
    // With time enough the same retry is made.
    const roomy = run(ts, rt, group, { timeout: 1_000, retry: { ...retry } });
    assert.equal(roomy.res?.status, 200);
    assert.deepEqual(
      roomy.res?.timeline.entries.map((e) => e.kind),
      ['attempt', 'retry', 'attempt'],
    );
    group.close();
  });
});

test('an unmeasured host is never refused on its account (virtual time)', () => {
  const ts = new TestScheduler(assert.deepEqual);
  ts.run(() => {
    const rt = runtime(
      ts,
      scripted(ts, [
        { status: 503, after: 100 },
        { status: 200, after: 10 },
      ]),
    );
    const group = new AddressGroup('static://10.0.0.1:80,10.0.0.2:80', {
      scheduler: ts,
      loadBalancer: 'round-robin',
    });
    const { res } = run(ts, rt, group, {
      timeout: 150,
      retry: { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' } },
    });
    assert.equal(res?.status, 200, 'the second host had no sample: the retry was made and fitted');
    group.close();
  });
});

test('an XhttpError carries its call timeline; an error raised before any call has none', async () => {
  const client = new Client({ circuitBreaker: false });
  const port = await closedPort();
  const group = new AddressGroup(`static://127.0.0.1:${port}`);
  try {
    const err = await client.get(group, '/x').then(
      () => assert.fail('a closed port answers nothing'),
      (e: unknown) => e,
    );
    assert.ok(isXhttpError(err));
    assert.equal(err.code, 'CONNECT');
    const t = err.timeline!;
    assert.deepEqual(
      [t.outcome, t.errorCode, t.entries.length, t.entries[0]?.kind],
      ['error', 'CONNECT', 1, 'attempt'],
    );
    const a = t.entries[0]!;
    assert.ok(
      a.kind === 'attempt' &&
        a.outcome === 'error' &&
        a.errorCode === 'CONNECT' &&
        a.key === `127.0.0.1:${port}`,
    );
    assert.equal(JSON.stringify(err).includes('entries'), false, 'not in the error JSON or logs');
    const bad = await client.get(group, 'no-slash').catch((e: unknown) => e);
    assert.ok(isXhttpError(bad) && bad.code === 'INVALID_ARGUMENT');
    assert.equal(bad.timeline, undefined);
  } finally {
    await client.close();
    group.close();
  }
});

test('the fold: a breaker skip before its attempt, a fail-fast, and an attempt still in flight', () => {
  const call = { callId: 7, group: 'g', method: 'GET' };
  const address = { host: '10.0.0.2', port: 80 };
  const t = foldTimeline(
    { type: 'call-start', time: 1_000, path: '/p', ...call },
    [
      {
        type: 'attempt-start',
        time: 1_002,
        attempt: 1,
        address,
        key: '10.0.0.2:80',
        breakerKey: '10.0.0.2:80',
        path: '/p',
        breakerSkipped: '10.0.0.1:80',
        ...call,
      },
      { type: 'fail-fast', time: 1_003, attempt: 2, ...call },
    ],
    undefined,
    500,
  );
  assert.deepEqual(t.entries, [
    { kind: 'breaker-skip', atMs: 2, attempt: 1, breakerKey: '10.0.0.1:80' },
    { kind: 'attempt', attempt: 1, atMs: 2, address, key: '10.0.0.2:80', outcome: 'in-flight' },
    { kind: 'fail-fast', atMs: 3, attempt: 2 },
  ]);
  assert.deepEqual([t.outcome, t.durationMs, t.start, t.timeoutMs], ['in-flight', undefined, 1_000, 500]);
});
