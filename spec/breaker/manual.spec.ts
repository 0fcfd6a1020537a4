import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subject } from 'rxjs';
import { CircuitBreakers } from '../../lib/breaker/breakers.js';
import { resolveBreakerConfig } from '../../lib/breaker/config.js';
import {
  applyManual,
  breakerSnapshot,
  reduceManual,
  rejectsUntil,
  type ManualTransition,
} from '../../lib/breaker/manual.js';
import { closedBreaker } from '../../lib/breaker/reducer.js';
import { addressKey, type BreakerTransitionEvent, type CallEvent } from '../../lib/events/events.js';
import type { Address, XRequest } from '../../lib/types.js';

// The manual core shared by the standalone CircuitBreaker and the client's keyed breakers, and the
// keyed breakers' use of it, on a clock that moves only when told to.

const CONFIG = resolveBreakerConfig({ minimumRequestThreshold: 2, counterUpdateInterval: 100 });
const A: Address = { host: '10.0.0.1', port: 80 };
const B: Address = { host: '10.0.0.2', port: 80 };
const KA = addressKey(A);
const KB = addressKey(B);
const REQ = { method: 'GET', path: '/' } as XRequest;

function setup() {
  const clock = { t: 0, now: () => clock.t, setTimer: () => () => undefined };
  const bus = new Subject<CallEvent>();
  const transitions: (BreakerTransitionEvent & ManualTransition)[] = [];
  const breakers = new CircuitBreakers(CONFIG, clock, (e) => {
    transitions.push(e);
    bus.next(e);
  });
  breakers.attach(bus);
  const end = (verdict: 'success' | 'failure', address: Address = A) =>
    bus.next({
      type: 'attempt-end',
      time: clock.t,
      callId: 1,
      group: 'g',
      method: 'GET',
      attempt: 1,
      address,
      key: addressKey(address),
      breakerKey: addressKey(address),
      durationMs: 1,
      cancelled: false,
      verdict,
    });
  return { clock, breakers, transitions, end };
}

describe('manual core', () => {
  it('forced: requests follow the override, results change nothing; reset starts afresh', () => {
    const s = closedBreaker(0);
    const open = applyManual(s, 'forceOpen', 5);
    assert.deepEqual(open.override, { to: 'open', since: 5 });
    assert.equal(open.state, s, 'the window underneath is kept as it was');
    assert.equal(reduceManual(s, open.override, 'request', 6, CONFIG).admitted, false);
    assert.equal(reduceManual(s, open.override, 'failure', 6, CONFIG).state, s);
    const closed = applyManual(s, 'forceClose', 7);
    assert.equal(reduceManual(s, closed.override, 'request', 8, CONFIG).admitted, true);
    assert.equal(rejectsUntil(s, open.override, 8), Infinity);
    assert.equal(rejectsUntil(s, closed.override, 8), 8);
    const reset = applyManual(s, 'reset', 9);
    assert.deepEqual([reset.override, reset.state.since, reset.state.name], [undefined, 9, 'closed']);
    assert.deepEqual(breakerSnapshot(s, open.override), {
      state: 'open',
      failureRate: 0,
      total: 0,
      since: 5,
      decision: { failureRate: 0, total: 0 },
      forced: 'open',
    });
  });
});

describe('CircuitBreakers manual control', () => {
  it('forceOpen refuses, counts as not closed, and a fail fast over it is remembered until a command', () => {
    const { clock, breakers, transitions } = setup();
    assert.equal(breakers.allClosed, true);
    breakers.manual(KA, 'forceOpen');
    breakers.manual(KB, 'forceOpen');
    assert.equal(breakers.allClosed, false);
    assert.deepEqual(
      [breakers.state(KA), breakers.canAttempt(KA), breakers.tryAcquire(KA)],
      ['open', false, false],
    );
    const list = [A, B]; // the group's list: remembered by identity
    breakers.noteAllRejecting(REQ, list, clock.t);
    clock.t += 10 * 60_000;
    assert.equal(breakers.allRejecting(list, clock.t), true, 'forced open does not time out');
    breakers.manual(KB, 'reset');
    assert.equal(breakers.allRejecting(list, clock.t), false, 'a command ends the remembered verdict');
    assert.equal(breakers.tryAcquire(KB), true);
    assert.deepEqual(
      transitions.map((e) => [e.breakerKey, e.from, e.to, e.cause, e.forced]),
      [
        [KA, 'closed', 'open', 'forceOpen', 'open'],
        [KB, 'closed', 'open', 'forceOpen', 'open'],
        [KB, 'open', 'closed', 'reset', undefined],
      ],
    );
  });

  it('forceClose admits an open breaker and stops counting; results after reset count afresh', () => {
    const { clock, breakers, end } = setup();
    end('failure');
    end('failure');
    clock.t = 100;
    end('failure');
    assert.equal(breakers.state(KA), 'open');
    breakers.manual(KA, 'forceClose');
    assert.equal(breakers.allClosed, true, 'forced closed shows closed');
    assert.equal(breakers.tryAcquire(KA), true);
    for (let i = 0; i < 10; i++) end('failure');
    assert.deepEqual([breakers.snapshot(KA)?.state, breakers.snapshot(KA)?.forced], ['closed', 'closed']);
    breakers.manual(KA, 'reset');
    end('success');
    assert.deepEqual([breakers.snapshot(KA)?.total, breakers.snapshot(KA)?.forced], [1, undefined]);
  });

  it('retain keeps an overridden breaker whose host left every group; drops it once reset', () => {
    const { breakers } = setup();
    breakers.manual(KA, 'forceClose');
    breakers.retain(new Set());
    assert.equal(breakers.has(KA), true);
    breakers.manual(KA, 'reset');
    breakers.retain(new Set());
    assert.equal(breakers.has(KA), false);
  });

  it('publishes one map per command on snapshots$, forced shown', () => {
    const { breakers } = setup();
    const maps: ReadonlyMap<string, { forced?: string }>[] = [];
    breakers.snapshots$.subscribe((m) => maps.push(m));
    breakers.manual(KA, 'forceOpen');
    assert.equal(maps.length, 2, 'the replay, then one for the command (a new breaker included)');
    assert.equal(maps[1]!.get(KA)?.forced, 'open');
  });
});
