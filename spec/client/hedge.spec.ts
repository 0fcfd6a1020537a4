import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualTimeScheduler } from 'rxjs';
import type { Dispatcher } from 'undici';
import { AddressGroup, type CallEvent, type XResponse } from '../../lib/index.js';
import { XhttpError } from '../../lib/errors.js';
import { LoadStats } from '../../lib/balancer/load-stats.js';
import { CircuitBreakers } from '../../lib/breaker/breakers.js';
import { resolveBreakerConfig } from '../../lib/breaker/config.js';
import { Call, SharedPickContext } from '../../lib/client/call.js';
import { buildCallSpec } from '../../lib/client/request.js';
import { LiveCalls } from '../../lib/client/live-calls.js';
import type { Runtime } from '../../lib/client/runtime.js';
import { EventBus } from '../../lib/events/bus.js';
import { clockFromScheduler } from '../../lib/internal/clock.js';
import {
  RetryBudget,
  resolveRetryBudget,
  type RetryBudgetConfig,
} from '../../lib/resilience/retry-budget.js';
import type { CallOptions } from '../../lib/types.js';

// Hedging on virtual time: the real Call, balancer, LoadStats, budgets and breakers, with hosts
// whose answers are scheduled on a VirtualTimeScheduler (no sockets: the end-to-end side of these
// behaviours, sockets released and servers aborted, is in hedge-e2e.spec.ts).

interface Answer {
  readonly ms: number;
  readonly status?: number;
}

interface World {
  readonly vts: VirtualTimeScheduler;
  readonly rt: Runtime;
  readonly events: CallEvent[];
  readonly group: AddressGroup;
  /** Requests each host received, in order, by `host:port`: `sent` or `aborted`. */
  readonly seen: Map<string, string[]>;
  call(
    options: CallOptions,
    method?: string,
  ): { result: () => XResponse | XhttpError | undefined; call: Call };
  /**
   * Runs `n` calls with `options` that every host answers in 1 ms, outside the script: they fill
   * the group's hedge budget (it starts empty, as Finagle's) and count in nothing else the spec reads.
   */
  prime(n: number, options: CallOptions): void;
}

/**
 * A world of `hosts` hosts (127.0.0.1:1, 127.0.0.2:1, …) where host `i` answers its request `n`
 * (0-based, per host), request `g` of the whole world, as `script(i, n, g)` says.
 */
function world(
  hosts: number,
  script: (host: number, n: number, g: number) => Answer,
  opts: { budget?: RetryBudgetConfig | false; breaker?: boolean; balancer?: 'round-robin' } = {},
): World {
  const vts = new VirtualTimeScheduler();
  const clock = clockFromScheduler(vts);
  const bus = new EventBus();
  const events: CallEvent[] = [];
  bus.events$.subscribe((e) => events.push(e));
  const loadStats = new LoadStats(clock);
  loadStats.attach(bus.events$);
  const budgetConfig = resolveRetryBudget(opts.budget ?? { ratio: 1, minRetriesPerSecond: 1000 });
  const budget = budgetConfig === undefined ? undefined : new RetryBudget(budgetConfig, clock);
  budget?.attach(bus.events$);
  const breakers = opts.breaker
    ? new CircuitBreakers(
        resolveBreakerConfig({
          minimumRequestThreshold: 4,
          failureRateThreshold: 0.5,
          counterSlidingWindow: 60_000,
        }),
        clock,
        (e) => bus.emit(e),
      )
    : undefined;
  breakers?.attach(bus.events$);
  const seen = new Map<string, string[]>();
  const counts = new Map<string, number>();
  let priming = false;
  let global = 0;
  const dispatchers = new Map<string, Dispatcher>();
  const dispatcherFor = (key: string, host: number): Dispatcher => {
    let d = dispatchers.get(key);
    if (d !== undefined) return d;
    d = {
      dispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
        let a: Answer = { ms: 1 };
        let log: string[] = [];
        if (!priming) {
          const n = counts.get(key) ?? 0;
          counts.set(key, n + 1);
          log = seen.get(key) ?? [];
          seen.set(key, log);
          a = script(host, n, global++);
        }
        const i = log.push('sent') - 1;
        const answer = vts.schedule(() => {
          handler.onHeaders!(
            a.status ?? 200,
            [Buffer.from('x-host'), Buffer.from(key)],
            () => undefined,
            'x',
          );
          handler.onData!(Buffer.from(key));
          handler.onComplete!([]);
        }, a.ms);
        handler.onConnect!(() => {
          answer.unsubscribe();
          log[i] = 'aborted';
        });
        return true;
      },
    } as unknown as Dispatcher;
    dispatchers.set(key, d);
    return d;
  };
  let ids = 0;
  const random = () => 0.5;
  const rt: Runtime = {
    clock,
    bus,
    random,
    breakers,
    loadStats,
    pickContext: new SharedPickContext(random, loadStats),
    budget,
    timeouts: { connect: 10_000, headers: 10_000, body: 10_000, attempt: 0 },
    dispatcher: (_g, address) =>
      dispatcherFor(`${address.host}:${address.port}`, Number(address.host.split('.')[3]) - 1),
    attemptHeaders: undefined,
    deadlineHeader: undefined,
    nextCallId: () => ++ids,
    calls: new LiveCalls(),
    bulkheads: new Map(),
    hedging: undefined,
  };
  const list = Array.from({ length: hosts }, (_, i) => `127.0.0.${i + 1}:1`).join(',');
  const group = new AddressGroup(`static://${list}`, {
    scheduler: vts,
    ...(opts.balancer ? { loadBalancer: opts.balancer } : {}),
  });
  const defaults = {
    requestTimeout: 10_000,
    maxResponseBytes: 1_000,
    headers: {},
    redirect: 'manual' as const,
  };
  return {
    vts,
    rt,
    events,
    group,
    seen,
    call(options, method = 'GET') {
      let result: XResponse | XhttpError | undefined;
      const spec = buildCallSpec({ group, path: '/', method }, group, '/', options, defaults);
      const call = new Call(rt, spec, {
        next: (r) => (result = r),
        error: (e) => (result = e),
        complete: () => undefined,
      });
      call.start();
      return { result: () => result, call };
    },
    prime(n, options) {
      priming = true;
      for (let i = 0; i < n; i++) this.call(options);
      vts.flush();
      priming = false;
      events.length = 0;
    },
  };
}

const ofCall = (events: CallEvent[], callId: number) =>
  events.filter((e) => 'callId' in e && e.callId === callId);

test('a hedge goes to another host after the delay; the first answer wins and the loser is cancelled', () => {
  // The first request takes 100 ms, the rest 5 ms.
  const w = world(2, (_h, _n, g) => ({ ms: g === 0 ? 100 : 5 }));
  const hedge = { delay: 10, maxExtraLoad: 1 };
  w.prime(1, { hedge });
  const { result, call } = w.call({ hedge });
  w.vts.flush();
  const res = result() as XResponse;
  assert.equal(res.status, 200);
  assert.equal(res.attempts, 2, 'the hedge (attempt 2) answered');
  const first = ofCall(w.events, call.callId).find((e) => e.type === 'attempt-start')!;
  assert.ok(first.type === 'attempt-start');
  assert.notEqual(res.address.host, first.address.host, 'the hedge went to the other host');
  const evs = ofCall(w.events, call.callId);
  const hedgeStart = evs.find((e) => e.type === 'attempt-start' && e.attempt === 2);
  assert.ok(
    hedgeStart?.type === 'attempt-start' && hedgeStart.hedge === true && hedgeStart.hedgeDelayMs === 10,
  );
  assert.equal(hedgeStart.time - first.time, 10, 'sent at the delay');
  const loser = evs.find((e) => e.type === 'attempt-end' && e.attempt === 1);
  assert.ok(loser?.type === 'attempt-end');
  assert.equal(loser.cancelled, true);
  assert.equal(loser.lostTo, 2);
  assert.equal(loser.verdict, 'ignored');
  assert.equal(loser.time - first.time, 15, 'cancelled when the winner answered');
  assert.deepEqual(w.seen.get(first.key), ['aborted'], 'the loser was aborted on the wire');
  const end = evs.at(-1)!;
  assert.ok(end.type === 'call-end' && end.outcome === 'ok' && end.durationMs === 15 && end.attempts === 2);
  // The loser's end comes before the call's end: every scan sees the attempt closed first.
  assert.deepEqual(
    evs.map((e) => `${e.type}${'attempt' in e ? `:${e.attempt}` : ''}`),
    ['call-start', 'attempt-start:1', 'attempt-start:2', 'attempt-end:2', 'attempt-end:1', 'call-end'],
  );
});

test('no hedge when the first attempt answers within the delay', () => {
  const w = world(2, () => ({ ms: 5 }));
  const { result, call } = w.call({ hedge: { delay: 10 } });
  w.vts.flush();
  assert.equal((result() as XResponse).attempts, 1);
  assert.equal(ofCall(w.events, call.callId).filter((e) => e.type === 'attempt-start').length, 1);
});

test('maxAttempts 3: a second hedge at twice the delay, each to a host not tried yet', () => {
  const w = world(3, (_h, _n, g) => ({ ms: g < 2 ? 100 : 5 }));
  const hedge = { delay: 10, maxAttempts: 3, maxExtraLoad: 1 };
  w.prime(2, { hedge });
  const { result, call } = w.call({ hedge });
  w.vts.flush();
  const res = result() as XResponse;
  assert.equal(res.attempts, 3);
  const starts = ofCall(w.events, call.callId).filter((e) => e.type === 'attempt-start');
  const t0 = starts[0]!.time;
  assert.deepEqual(
    starts.map((e) => e.time - t0),
    [0, 10, 20],
  );
  assert.equal(new Set(starts.map((e) => (e.type === 'attempt-start' ? e.key : ''))).size, 3, 'three hosts');
  assert.deepEqual(
    ofCall(w.events, call.callId)
      .filter((e) => e.type === 'attempt-end')
      .map((e) => (e.type === 'attempt-end' ? [e.attempt, e.cancelled, e.lostTo] : [])),
    [
      [3, false, undefined],
      [1, true, 3],
      [2, true, 3],
    ],
  );
});

test('a failed hedge lets the other attempt run on; a 503 is not a winner', () => {
  // The first request is answered 200 after 50 ms; the hedge gets a 503 after 5 ms.
  const w = world(2, (_h, _n, g) => (g === 0 ? { ms: 50 } : { ms: 5, status: 503 }));
  const hedge = { delay: 10, maxExtraLoad: 1 };
  w.prime(1, { hedge });
  const { result, call } = w.call({ hedge, retry: { maxAttempts: 1 } });
  w.vts.flush();
  const res = result() as XResponse;
  assert.equal(res.status, 200);
  assert.equal(res.attempts, 1, 'the first attempt answered in the end');
  const ends = ofCall(w.events, call.callId).filter((e) => e.type === 'attempt-end');
  assert.deepEqual(
    ends.map((e) => (e.type === 'attempt-end' ? [e.attempt, e.status, e.cancelled] : [])),
    [
      [2, 503, false],
      [1, 200, false],
    ],
  );
});

test('when every attempt of a round fails, the retry policy decides, and the retry is hedged again', () => {
  // Requests 0 to 2: 503 after 20 ms; then 200 after 20 ms.
  const w = world(4, (_h, _n, g) => ({ ms: 20, status: g < 3 ? 503 : 200 }));
  const hedge = { delay: 10, maxExtraLoad: 1 };
  w.prime(2, { hedge });
  const { result, call } = w.call({
    hedge,
    retry: { maxAttempts: 2, backoff: { initialDelay: 5, jitter: 'none' } },
  });
  w.vts.flush();
  const res = result() as XResponse;
  const evs = ofCall(w.events, call.callId);
  const t0 = evs[0]!.time;
  const retry = evs.find((e) => e.type === 'retry-scheduled');
  // Round 1: attempt 1 at 0 (503 at 20), hedge 2 at 10 (503 at 30): the last failure decides at 30.
  assert.ok(retry?.type === 'retry-scheduled' && retry.attempt === 3 && retry.delayMs === 5);
  assert.equal(retry.time - t0, 30);
  // Round 2: attempt 3 at 35 (503 at 55), hedge 4 at 45 (200 at 65): the hedge wins.
  const starts = evs.filter((e) => e.type === 'attempt-start').map((e) => e.time - t0);
  assert.deepEqual(starts, [0, 10, 35, 45]);
  assert.equal(res.status, 200);
  // maxAttempts 2 counts rounds, not attempts: four attempts, two rounds.
  assert.equal(res.attempts, 4);
});

test('a POST is not hedged unless nonIdempotent says so', () => {
  const w = world(2, () => ({ ms: 50 }));
  w.prime(2, { hedge: { delay: 10, maxExtraLoad: 1 } });
  const post = w.call({ hedge: { delay: 10, maxExtraLoad: 1 }, body: 'x' } as CallOptions, 'POST');
  w.vts.flush();
  assert.equal((post.result() as XResponse).attempts, 1);
  assert.equal(ofCall(w.events, post.call.callId).filter((e) => e.type === 'attempt-start').length, 1);
  const allowed = w.call({ hedge: { delay: 10, nonIdempotent: true, maxExtraLoad: 1 }, body: 'x' } as CallOptions, 'POST');
  w.vts.flush();
  assert.equal(ofCall(w.events, allowed.call.callId).filter((e) => e.type === 'attempt-start').length, 2);
});

test('unsubscribing cancels every attempt in flight, hedges included', () => {
  const w = world(3, () => ({ ms: 100 }));
  const hedge = { delay: 10, maxAttempts: 3, maxExtraLoad: 1 };
  w.prime(2, { hedge });
  const { result, call } = w.call({ hedge });
  w.vts.schedule(() => call.unsubscribe(), 30);
  w.vts.flush();
  assert.equal(result(), undefined, 'an unsubscribed call delivers nothing');
  const ends = ofCall(w.events, call.callId).filter((e) => e.type === 'attempt-end');
  assert.equal(ends.length, 3);
  const t0 = ofCall(w.events, call.callId)[0]!.time;
  for (const e of ends)
    assert.ok(e.type === 'attempt-end' && e.cancelled && e.verdict === 'ignored' && e.time - t0 === 30);
  assert.deepEqual([...w.seen.values()].flat(), ['aborted', 'aborted', 'aborted']);
  const end = ofCall(w.events, call.callId).at(-1)!;
  assert.ok(end.type === 'call-end' && end.outcome === 'cancelled');
});

test('the deadline ends every attempt in flight with the call timeout', () => {
  const w = world(2, () => ({ ms: 500 }));
  w.prime(1, { hedge: { delay: 10, maxExtraLoad: 1 } });
  const { result, call } = w.call({ hedge: { delay: 10, maxExtraLoad: 1 }, timeout: 100 });
  w.vts.flush();
  const e = result() as XhttpError;
  assert.equal(e.code, 'TIMEOUT');
  const ends = ofCall(w.events, call.callId).filter((x) => x.type === 'attempt-end');
  assert.equal(ends.length, 2);
  for (const x of ends)
    assert.ok(x.type === 'attempt-end' && x.errorCode === 'TIMEOUT' && x.timeoutPhase === 'call');
});

test('the hedge budget caps hedges at maxExtraLoad of the calls, whatever the latency', () => {
  // Every answer takes 100 ms; the delay is 10 ms, so every call wants a hedge.
  const w = world(5, () => ({ ms: 100 }));
  for (let i = 0; i < 1_000; i++)
    w.vts.schedule(() => w.call({ hedge: { delay: 10, maxExtraLoad: 0.1 } }), i * 5);
  w.vts.flush();
  const hedges = w.events.filter((e) => e.type === 'attempt-start' && e.hedge).length;
  const refused = w.events.filter((e) => e.type === 'hedge-refused' && e.reason === 'budget').length;
  assert.ok(hedges <= 100, `${hedges} hedges for 1 000 calls at maxExtraLoad 0.1`);
  assert.ok(hedges >= 90, `${hedges} hedges: the budget grants what it holds`);
  assert.equal(hedges + refused, 1_000, 'every call asked once; each was sent or refused');
});

test('a hedge draws on the client retry budget too', () => {
  // No retry budget to spare: ratio 0 and no minimum.
  const w = world(2, () => ({ ms: 100 }), { budget: { ratio: 0, minRetriesPerSecond: 0 } });
  const { call } = w.call({ hedge: { delay: 10, maxExtraLoad: 1 } });
  w.vts.flush();
  const evs = ofCall(w.events, call.callId);
  assert.equal(evs.filter((e) => e.type === 'attempt-start').length, 1);
  assert.ok(evs.some((e) => e.type === 'hedge-refused' && e.reason === 'budget'));
});

test('an adaptive delay waits for enough samples, then hedges at the live percentile', () => {
  // 90 % of answers in 4 ms, 10 % in 100 ms (every tenth request of each host).
  const w = world(5, (_h, n) => ({ ms: n % 10 === 9 ? 100 : 4 }));
  const opts: CallOptions = { hedge: { delay: { percentile: 0.5 }, minSamples: 20, maxExtraLoad: 1 } };
  for (let i = 0; i < 200; i++) w.vts.schedule(() => w.call(opts), i * 200);
  w.vts.flush();
  const hedges = w.events.filter((e) => e.type === 'attempt-start' && e.hedge);
  assert.ok(hedges.length > 0, 'hedged once the window filled');
  const first = hedges[0]!;
  assert.ok(first.type === 'attempt-start');
  // The p50 of answers in 4 ms is the upper bound of 4 ms's bucket (4.5 ms): within 13 % of 4.
  assert.ok(first.hedgeDelayMs! >= 4 && first.hedgeDelayMs! <= 4.5, `delay ${first.hedgeDelayMs}`);
  // Before 20 latencies were recorded, no call hedged.
  const firstHedgedCall = first.callId;
  assert.ok(firstHedgedCall > 20, `first hedged call ${firstHedgedCall}`);
});

test('a hedge that cannot finish before the deadline is not sent, and the timeline says so', () => {
  // Both hosts take 80 ms; deadline 100 ms; the delay 30 ms leaves 70 ms, less than 80.
  const w = world(2, () => ({ ms: 80 }));
  // Warm the load statistics so both hosts' latency is known.
  for (let i = 0; i < 10; i++) w.vts.schedule(() => w.call({}), i * 100);
  w.vts.flush();
  const { result, call } = w.call({ hedge: { delay: 30 }, timeout: 100 });
  w.vts.flush();
  const res = result() as XResponse;
  assert.equal(res.status, 200);
  const refused = ofCall(w.events, call.callId).find((e) => e.type === 'hedge-refused');
  assert.ok(refused?.type === 'hedge-refused' && refused.reason === 'deadline-insufficient');
  assert.ok(refused.expectedMs! >= 70 && refused.remainingMs === 70, JSON.stringify(refused));
  const entry = res.timeline.entries.find((e) => e.kind === 'hedge-refused');
  assert.deepEqual(entry, {
    kind: 'hedge-refused',
    atMs: 30,
    attempt: 2,
    reason: 'deadline-insufficient',
    expectedMs: refused.expectedMs,
    remainingMs: 70,
  });
});

test('the timeline of a call with a hedge, a retry and a budget refusal', () => {
  // The first request: 503 after 30 ms; every other one 503 after 5 ms.
  // The retry budget holds two withdrawals: the hedge takes one, the retry the other, so round 2's
  // retry is refused.
  const w = world(2, (_h, _n, g) => ({ ms: g === 0 ? 30 : 5, status: 503 }), {
    budget: { ratio: 0, minRetriesPerSecond: 0.2, ttl: 10_000 },
  });
  w.prime(1, { hedge: { delay: 10, maxExtraLoad: 1 } });
  const { result } = w.call({
    hedge: { delay: 10, maxExtraLoad: 1 },
    retry: { maxAttempts: 3, backoff: { initialDelay: 10, jitter: 'none' } },
  });
  w.vts.flush();
  const e = result() as XhttpError | XResponse;
  assert.equal((e as XResponse).status, 503, 'the call ends with the last 503');
  const t = (e as XResponse).timeline;
  const first = t.entries.find((x) => x.kind === 'attempt')!;
  const other = (key: string) => (first.kind === 'attempt' && key === first.key ? 'A' : 'B');
  const lines = t.entries.map((x) => {
    switch (x.kind) {
      case 'attempt':
        return `${x.atMs} attempt ${x.attempt} ${other(x.key)}${x.hedge ? ' (hedge)' : ''} → ${x.endMs} ${x.outcome} ${x.status ?? ''}`.trim();
      case 'hedge':
        return `${x.atMs} hedge ${x.attempt} after ${x.delayMs}`;
      case 'retry':
        return `${x.atMs} retry ${x.attempt} in ${x.delayMs} (${x.reason})`;
      case 'retry-refused':
      case 'hedge-refused':
        return `${x.atMs} ${x.kind} ${x.attempt} ${x.reason}`;
      default:
        return `${x.atMs} ${x.kind}`;
    }
  });
  assert.deepEqual(lines, [
    '0 attempt 1 A → 30 response 503',
    '10 hedge 2 after 10',
    '10 attempt 2 B (hedge) → 15 response 503',
    '30 retry 3 in 10 (503)',
    '40 attempt 3 B → 45 response 503',
    '45 retry-refused 4 budget',
  ]);
});

test('hedges never open a breaker: the slow host keeps losing and its breaker stays closed', () => {
  // Host 1 always takes 200 ms, host 2 always 5 ms; round robin puts every other call on host 1 first.
  const w = world(2, (h) => ({ ms: h === 0 ? 200 : 5 }), { breaker: true, balancer: 'round-robin' });
  w.prime(5, { hedge: { delay: 10, maxExtraLoad: 1 } });
  for (let i = 0; i < 200; i++)
    w.vts.schedule(() => w.call({ hedge: { delay: 10, maxExtraLoad: 1 } }), i * 20);
  w.vts.flush();
  const lost = w.events.filter((e) => e.type === 'attempt-end' && e.lostTo !== undefined);
  assert.ok(lost.length >= 50, `${lost.length} losers`);
  for (const e of lost) assert.ok(e.type === 'attempt-end' && e.verdict === 'ignored');
  assert.equal(w.events.filter((e) => e.type === 'breaker-transition').length, 0, 'no breaker changed state');
  assert.equal(w.rt.breakers!.state('127.0.0.1:1'), 'closed');
});
