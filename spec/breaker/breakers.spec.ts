import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { map, Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { CircuitBreakers } from '../../lib/breaker/breakers.js';
import { resolveBreakerConfig, type CircuitBreakerConfig } from '../../lib/breaker/config.js';
import { XhttpError } from '../../lib/errors.js';
import { addressKey, type BreakerTransitionEvent, type CallEvent } from '../../lib/events/events.js';
import { clockFromScheduler, type Clock } from '../../lib/internal/clock.js';
import type { Address, AttemptOutcome, BreakerSnapshot } from '../../lib/types.js';

const A: Address = { host: '10.0.0.1', port: 80 };
const B: Address = { host: '10.0.0.2', port: 80 };
const KA = addressKey(A);
const KB = addressKey(B);

/** A clock that moves only when told to. */
function manualClock(start = 0): Clock & { t: number } {
  const c = { t: start, now: () => c.t, setTimer: () => () => undefined };
  return c;
}

type Verdict = 'success' | 'failure' | 'ignored';

/** A registry wired to a Subject the way the client wires it to its bus (transitions fed back in). */
function setup(config: CircuitBreakerConfig = {}) {
  const clock = manualClock();
  const bus = new Subject<CallEvent>();
  const transitions: BreakerTransitionEvent[] = [];
  const breakers = new CircuitBreakers(resolveBreakerConfig(config), clock, (e) => {
    transitions.push(e);
    bus.next(e);
  });
  breakers.attach(bus);
  let callId = 0;
  const base = (address: Address, breakerKey: string) => ({
    time: clock.t,
    callId: ++callId,
    group: 'g',
    method: 'GET',
    attempt: 1,
    address,
    key: addressKey(address),
    breakerKey,
  });
  const start = (address: Address = A, breakerKey = addressKey(address)) =>
    bus.next({ type: 'attempt-start', ...base(address, breakerKey), path: '/' });
  const end = (verdict: Verdict, address: Address = A, breakerKey = addressKey(address), n = 1) => {
    for (let i = 0; i < n; i++)
      bus.next({
        type: 'attempt-end',
        ...base(address, breakerKey),
        durationMs: 1,
        cancelled: verdict === 'ignored',
        verdict,
      });
  };
  /** Opens A's breaker at t = 1_000 (ten failures in the first bucket, one rolling it over). */
  const openA = () => {
    end('failure', A, KA, 10);
    clock.t = 1_000;
    end('failure');
    assert.equal(breakers.state(KA), 'open');
  };
  return { clock, bus, breakers, transitions, start, end, openA };
}

describe('CircuitBreakers', () => {
  it('allClosed is true until a breaker opens, and again once it closes or is dropped', () => {
    const { clock, breakers, openA, end } = setup({ circuitOpenWindow: 100 });
    assert.equal(breakers.allClosed, true);
    openA();
    assert.equal(breakers.allClosed, false);
    clock.t += 200;
    assert.equal(breakers.tryAcquire(KA), true); // the lazy half-open trial
    assert.equal(breakers.allClosed, false);
    end('success');
    assert.equal(breakers.state(KA), 'closed');
    assert.equal(breakers.allClosed, true);
    const other = setup({ circuitOpenWindow: 100 });
    other.openA();
    assert.equal(other.breakers.allClosed, false);
    other.clock.t += 200; // past the window, nothing pending: retain may drop it
    other.breakers.retain(new Set());
    assert.equal(other.breakers.allClosed, true);
  });

  it('treats an unknown key as closed, without creating it', () => {
    const { breakers } = setup();
    assert.equal(breakers.state('nobody:1'), 'closed');
    assert.equal(breakers.canAttempt('nobody:1'), true);
    assert.equal(breakers.tryAcquire('nobody:1'), true);
    assert.equal(breakers.snapshots().size, 0);
  });

  it('opens on failures from attempt-end events, emits the transition and fails fast', () => {
    const { breakers, transitions, openA } = setup();
    openA();
    assert.deepEqual(transitions, [
      { type: 'breaker-transition', time: 1_000, breakerKey: KA, from: 'closed', to: 'open' },
    ]);
    assert.equal(breakers.canAttempt(KA), false);
    assert.equal(breakers.tryAcquire(KA), false);
    assert.deepEqual(breakers.snapshots().get(KA), {
      state: 'open',
      failureRate: 1,
      total: 10,
      since: 1_000,
      decision: { failureRate: 1, total: 10 },
    });
    assert.equal(breakers.state(KB), 'closed', 'breakers are per key');
  });

  it('a host failing 54 % shows it before its first bucket closes; the breaker trips no earlier', () => {
    const { clock, breakers, transitions, end } = setup();
    // One result every 10 ms, 7 of every 13 failing (53.8 %).
    const failed = (i: number) => i % 13 < 7;
    for (let i = 0; i < 50; i++) {
      clock.t = 10 * i;
      end(failed(i) ? 'failure' : 'success');
    }
    // t = 490, first bucket still filling: the live figures show the failing host at once…
    const early = breakers.snapshots().get(KA)!;
    assert.equal(early.state, 'closed');
    assert.equal(early.total, 50);
    assert.equal(early.failureRate, 28 / 50);
    // …while the decision's own figures (closed buckets only) are still empty, as Armeria keeps them.
    assert.deepEqual(early.decision, { failureRate: 0, total: 0 });

    for (let i = 50; i < 300 && breakers.state(KA) === 'closed'; i++) {
      clock.t = 10 * i;
      end(failed(i) ? 'failure' : 'success');
      if (clock.t === 1_500) {
        const mid = breakers.snapshots().get(KA)!;
        assert.equal(mid.total, 151, 'live: both buckets');
        assert.equal(mid.decision!.total, 100, 'decision: the closed first bucket');
      }
    }
    // Same decision timeline as before: the roll-over at 1 000 ms came with a success (no check), so
    // the first failure to close a bucket is the one at 2 000 ms, over 200 results at 55 %.
    assert.deepEqual(
      transitions.map((e) => `${e.from}>${e.to}@${e.time}`),
      ['closed>open@2000'],
    );
    assert.deepEqual(breakers.snapshots().get(KA)!.decision, { failureRate: 110 / 200, total: 200 });
  });

  it('ignores cancelled attempts and ignored verdicts entirely', () => {
    const { clock, breakers, transitions, end } = setup();
    end('ignored', A, KA, 50);
    clock.t = 1_000;
    end('ignored', A, KA, 5);
    clock.t = 2_000;
    end('ignored');
    assert.equal(breakers.state(KA), 'closed');
    assert.deepEqual(breakers.snapshots().get(KA), {
      state: 'closed',
      failureRate: 0,
      total: 0,
      since: 0,
      decision: { failureRate: 0, total: 0 },
    });
    assert.deepEqual(transitions, []);
  });

  it('goes half-open lazily on the first tryAcquire after the open window; canAttempt changes nothing', () => {
    const { clock, breakers, transitions, openA } = setup();
    openA();
    clock.t = 10_999;
    assert.equal(breakers.tryAcquire(KA), false);
    clock.t = 11_000;
    assert.equal(breakers.canAttempt(KA), true);
    assert.equal(breakers.canAttempt(KA), true);
    assert.equal(breakers.state(KA), 'open', 'canAttempt has no side effect');
    assert.equal(transitions.length, 1);
    assert.equal(breakers.tryAcquire(KA), true, 'the trial');
    assert.equal(breakers.state(KA), 'half-open');
    assert.deepEqual(transitions.at(-1), {
      type: 'breaker-transition',
      time: 11_000,
      breakerKey: KA,
      from: 'open',
      to: 'half-open',
    });
    assert.equal(breakers.tryAcquire(KA), false, 'one trial at a time');
    assert.equal(breakers.canAttempt(KA), false);
  });

  it('closes with a fresh count on trial success', () => {
    const { clock, breakers, transitions, openA, start, end } = setup();
    openA();
    clock.t = 11_000;
    assert.equal(breakers.tryAcquire(KA), true);
    start();
    clock.t = 11_200;
    end('success');
    assert.equal(breakers.state(KA), 'closed');
    assert.deepEqual(transitions.at(-1), {
      type: 'breaker-transition',
      time: 11_200,
      breakerKey: KA,
      from: 'half-open',
      to: 'closed',
    });
    assert.deepEqual(breakers.snapshots().get(KA), {
      state: 'closed',
      failureRate: 0,
      total: 0,
      since: 11_200,
      decision: { failureRate: 0, total: 0 },
    });
  });

  it('reopens on trial failure', () => {
    const { clock, breakers, transitions, openA, end } = setup();
    openA();
    clock.t = 11_000;
    breakers.tryAcquire(KA);
    clock.t = 11_500;
    end('failure');
    assert.equal(breakers.state(KA), 'open');
    assert.deepEqual(
      transitions.map((e) => `${e.from}>${e.to}@${e.time}`),
      ['closed>open@1000', 'open>half-open@11000', 'half-open>open@11500'],
    );
    // A failed trial is the second consecutive trip: open twice as long (ejection that grows).
    clock.t = 31_499;
    assert.equal(breakers.tryAcquire(KA), false);
    clock.t = 31_500;
    assert.equal(breakers.tryAcquire(KA), true);
  });

  it('admits another trial when a cancelled trial never reports', () => {
    const { clock, breakers, openA, start, end } = setup();
    openA();
    clock.t = 11_000;
    assert.equal(breakers.tryAcquire(KA), true);
    start();
    clock.t = 11_100;
    end('ignored'); // the trial was cancelled
    assert.equal(breakers.state(KA), 'half-open');
    clock.t = 13_999;
    assert.equal(breakers.tryAcquire(KA), false);
    clock.t = 14_000;
    assert.equal(breakers.tryAcquire(KA), true);
    assert.equal(breakers.state(KA), 'half-open');
  });

  it('snapshots$ replays the current map and emits on transitions and counted results', () => {
    const { clock, breakers, openA, end } = setup();
    end('success', B, KB);
    const seen: ReadonlyMap<string, BreakerSnapshot>[] = [];
    const sub = breakers.snapshots$.subscribe((m) => seen.push(m));
    assert.equal(seen.length, 1, 'replayed on subscribe');
    assert.deepEqual([...seen[0]!.keys()], [KB]);
    end('success', B, KB, 5); // same bucket: the live count moves, the decision's does not
    assert.equal(seen.length, 6);
    assert.deepEqual(seen[5]!.get(KB), {
      state: 'closed',
      failureRate: 0,
      total: 6,
      since: 0,
      decision: { failureRate: 0, total: 0 },
    });
    clock.t = 1_000;
    end('success', B, KB); // roll-over: the decision's count refreshes
    assert.equal(seen.length, 7);
    assert.equal(seen[6]!.get(KB)!.total, 7);
    assert.equal(seen[6]!.get(KB)!.decision!.total, 6);
    clock.t = 0;
    openA(); // A appears (first event) then, at 1_000, opens
    const last = seen.at(-1)!;
    assert.equal(last.get(KA)!.state, 'open');
    assert.equal(last.get(KB)!.state, 'closed');
    assert.notEqual(seen[0], last, 'each emission is a new map');
    assert.equal(seen[0]!.has(KA), false, 'earlier maps are not mutated');
    const late: ReadonlyMap<string, BreakerSnapshot>[] = [];
    breakers.snapshots$.subscribe((m) => late.push(m)).unsubscribe();
    assert.deepEqual(late, [last]);
    sub.unsubscribe();
  });

  it('retain drops breakers of gone hosts that would admit anyway, keeps the rest', () => {
    const { clock, breakers, openA, start, end } = setup();
    end('success', B, KB);
    const C: Address = { host: '10.0.0.3', port: 80 };
    start(C); // in flight
    openA();
    breakers.retain(new Set());
    assert.deepEqual(
      [...breakers.snapshots().keys()].sort(),
      [KA, addressKey(C)],
      'B closed and idle: dropped',
    );
    end('success', C);
    clock.t = 10_000;
    breakers.retain(new Set());
    assert.deepEqual([...breakers.snapshots().keys()], [KA], 'C finished: dropped; A still rejecting: kept');
    clock.t = 11_000;
    breakers.retain(new Set([KA]));
    assert.equal(breakers.state(KA), 'open', 'a live key is kept, whatever its state');
    breakers.retain(new Set());
    assert.equal(breakers.snapshots().size, 0, 'open past its window: would admit a trial anyway');
  });

  it('retain keeps a custom-keyed breaker while the address it serves is live', () => {
    const { breakers, end } = setup({ key: (req, a) => `${addressKey(a)}${req.path ?? ''}` });
    end('failure', A, `${KA}/orders`);
    breakers.retain(new Set([KA]));
    assert.equal(breakers.snapshots().has(`${KA}/orders`), true);
    breakers.retain(new Set([KB]));
    assert.equal(breakers.snapshots().has(`${KA}/orders`), false);
  });

  it('key and classify follow the config; an aborted outcome is ignored', () => {
    const outcome = (o: Partial<AttemptOutcome>): AttemptOutcome => ({
      attempt: 1,
      address: A,
      elapsedMs: 1,
      method: 'GET',
      ...o,
    });
    const { breakers } = setup();
    assert.equal(breakers.key({ path: '/x' }, A), KA);
    assert.equal(breakers.classify(outcome({ response: { status: 503, headers: {} } })), 'failure');
    assert.equal(breakers.classify(outcome({ response: { status: 404, headers: {} } })), 'success');
    assert.equal(breakers.classify(outcome({ error: new XhttpError('CONNECT', 'refused') })), 'failure');
    assert.equal(breakers.classify(outcome({ error: new XhttpError('ABORTED', 'cancelled') })), 'ignored');
    const custom = setup({
      isFailure: (o) => o.response?.status === 429,
      key: (req, a) => `${a.host}${req.path}`,
    }).breakers;
    assert.equal(custom.key({ path: '/x' }, A), '10.0.0.1/x');
    assert.equal(custom.classify(outcome({ response: { status: 429, headers: {} } })), 'failure');
    assert.equal(custom.classify(outcome({ response: { status: 503, headers: {} } })), 'success');
    assert.equal(custom.classify(outcome({ error: new XhttpError('ABORTED', 'cancelled') })), 'ignored');
  });

  it('close stops following events and completes snapshots$, still replaying to late subscribers', () => {
    const { breakers, end, openA } = setup();
    let completed = false;
    breakers.snapshots$.subscribe({ complete: () => (completed = true) });
    openA();
    breakers.close();
    assert.equal(completed, true);
    end('success', B, KB);
    assert.equal(breakers.snapshots().has(KB), false, 'no longer listening');
    const late: string[] = [];
    breakers.snapshots$.subscribe({
      next: (m) => late.push(m.get(KA)!.state),
      complete: () => late.push('|'),
    });
    assert.deepEqual(late, ['open', '|']);
  });

  it('runs in virtual time: open, lazy half-open, closed, as seen on snapshots$', () => {
    const ts = new TestScheduler((a, b) => assert.deepEqual(a, b));
    ts.run(({ cold, expectObservable }) => {
      const bus = new Subject<CallEvent>();
      const breakers = new CircuitBreakers(
        resolveBreakerConfig({
          minimumRequestThreshold: 2,
          counterUpdateInterval: 100,
          counterSlidingWindow: 1_000,
          circuitOpenWindow: 500,
        }),
        clockFromScheduler(ts),
        (e) => bus.next(e),
      );
      breakers.attach(bus);
      const ev = (verdict: Verdict): CallEvent => ({
        type: 'attempt-end',
        time: ts.now(),
        callId: 1,
        group: 'g',
        method: 'GET',
        attempt: 1,
        address: A,
        key: KA,
        breakerKey: KA,
        durationMs: 1,
        cancelled: false,
        verdict,
      });
      // two f at 0, f at 100 rolls over (2 of 2 failed) → open; request at 600 → trial; s at 650 → closed.
      cold('(ff) 96ms f 499ms r 49ms s', { f: 'failure', r: 'request', s: 'success' } as const).subscribe(
        (input) => {
          if (input === 'request') breakers.tryAcquire(KA);
          else bus.next(ev(input));
        },
      );
      const state$: Observable<string> = breakers.snapshots$.pipe(map((m) => m.get(KA)?.state ?? '-'));
      expectObservable(state$).toBe('(-a) 96ms b 499ms c 49ms d 1349ms |', {
        a: 'closed',
        b: 'open',
        c: 'half-open',
        d: 'closed',
      });
      ts.schedule(() => breakers.close(), 2_000);
    });
  });
});
