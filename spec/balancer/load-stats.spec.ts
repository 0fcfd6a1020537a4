import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subject } from 'rxjs';
import { LoadStats } from '../../lib/balancer/load-stats.js';
import type { ErrorCode } from '../../lib/errors.js';
import {
  addressKey,
  type AttemptEndEvent,
  type AttemptStartEvent,
  type CallEvent,
} from '../../lib/events/events.js';
import type { Clock } from '../../lib/internal/clock.js';
import type { Address } from '../../lib/types.js';

const A: Address = { host: '10.0.0.1', port: 80 };
const B: Address = { host: '::1', port: 8080 };

/** A hand-driven clock: specs move `t`; LoadStats never sets timers. */
function manualClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    setTimer: () => assert.fail('LoadStats must not set timers'),
  };
  return c;
}

let callId = 0;
function start(address: Address, time: number): AttemptStartEvent {
  const key = addressKey(address);
  return {
    type: 'attempt-start',
    time,
    callId: ++callId,
    group: 'g',
    method: 'GET',
    attempt: 1,
    address,
    key,
    breakerKey: key,
    path: '/',
  };
}

function end(
  address: Address,
  time: number,
  durationMs: number,
  extra: { status?: number; errorCode?: ErrorCode; cancelled?: boolean } = {},
): AttemptEndEvent {
  const key = addressKey(address);
  return {
    type: 'attempt-end',
    time,
    callId,
    group: 'g',
    method: 'GET',
    attempt: 1,
    address,
    key,
    breakerKey: key,
    durationMs,
    cancelled: extra.cancelled ?? false,
    verdict: extra.cancelled ? 'ignored' : 'success',
    ...(extra.status === undefined ? {} : { status: extra.status }),
    ...(extra.errorCode === undefined ? {} : { errorCode: extra.errorCode }),
  };
}

function setup() {
  const clock = manualClock();
  const stats = new LoadStats(clock);
  const events = new Subject<CallEvent>();
  const sub = stats.attach(events);
  return { clock, stats, events, sub };
}

describe('LoadStats', () => {
  it('counts outstanding attempts per host from attempt-start / attempt-end', () => {
    const { stats, events } = setup();
    events.next(start(A, 0));
    events.next(start(A, 0));
    events.next(start(B, 0));
    assert.equal(stats.load(A).outstanding, 2);
    assert.equal(stats.load(B).outstanding, 1);
    assert.equal(stats.host('[::1]:8080').outstanding, 1);
    events.next(end(A, 5, 5, { status: 200 }));
    assert.equal(stats.load(A).outstanding, 1);
    events.next(end(A, 6, 6, { status: 200 }));
    events.next(end(A, 7, 7, { status: 200 })); // an unmatched end never drives it negative
    assert.equal(stats.load(A).outstanding, 0);
  });

  it('reports zeroes, unsampled, for an unknown host', () => {
    const { stats } = setup();
    assert.deepEqual(stats.load(A), {
      outstanding: 0,
      cost: 0,
      sampled: false,
      typical: 0,
      failure: 0,
      since: -Infinity,
    });
    assert.deepEqual(stats.host('nope:1'), {
      outstanding: 0,
      latencyMs: 0,
      ok: 0,
      errors: 0,
      timeouts: 0,
      successRate: 1,
    });
  });

  it('feeds latency samples into the peak EWMA, decayed when read', () => {
    const { clock, stats, events } = setup();
    events.next(start(A, 0));
    assert.equal(stats.load(A).sampled, false, 'in flight, no sample yet');
    events.next(end(A, 30, 30, { status: 200 }));
    assert.deepEqual(stats.load(A, 30), {
      outstanding: 0,
      cost: 30,
      sampled: true,
      typical: 30,
      failure: 0,
      since: -Infinity,
    });
    events.next(start(A, 40));
    events.next(end(A, 340, 300, { status: 200 }));
    assert.equal(stats.load(A, 340).cost, 300, 'jumps to the peak');
    assert.ok(Math.abs(stats.load(A, 340).typical! - 57) < 1e-9, 'the typical moves a tenth of the way');
    const tau = stats.load(A, 10_340).cost;
    assert.ok(Math.abs(tau - 300 / Math.E) < 1e-9, `decays with τ: ${tau}`);
    clock.t = 10_340;
    assert.ok(Math.abs(stats.load(A).cost - tau) < 1e-9, 'reads the clock when no `now` is given');
    assert.ok(Math.abs(stats.host('10.0.0.1:80').latencyMs - tau) < 1e-9);
  });

  it("samples a streamed response at its headers: the time its body took is the reader's", () => {
    const { stats, events } = setup();
    events.next(start(A, 0));
    // A 20 ms answer whose body was read over 5 s: the host is as fast as its headers.
    events.next({ ...end(A, 5_000, 5_000, { status: 200 }), headersMs: 20 });
    assert.deepEqual(stats.load(A, 5_000), {
      outstanding: 0,
      cost: 20,
      sampled: true,
      typical: 20,
      failure: 0,
      since: -Infinity,
    });
  });

  it("takes a failed attempt's latency, but only decrements for a cancelled one", () => {
    const { stats, events } = setup();
    events.next(start(A, 0));
    events.next(end(A, 1_000, 1_000, { errorCode: 'TIMEOUT' }));
    assert.equal(stats.load(A, 1_000).cost, 1_000);
    events.next(start(B, 0));
    events.next(start(B, 0));
    events.next(end(B, 5_000, 5_000, { errorCode: 'ABORTED', cancelled: true }));
    assert.deepEqual(stats.load(B, 5_000), {
      outstanding: 1,
      cost: 0,
      sampled: false,
      typical: 0,
      failure: 0,
      since: -Infinity,
    });
    assert.equal(stats.host(addressKey(B)).errors, 0);
  });

  it('keeps rolling ok / error / timeout counts and a success rate', () => {
    const { clock, stats, events } = setup();
    const outcomes: { status?: number; errorCode?: ErrorCode }[] = [
      { status: 200 },
      { status: 404 },
      { status: 503 },
      { errorCode: 'TIMEOUT' },
      { errorCode: 'CONNECT' },
      { status: 200 },
      { status: 200 },
      { status: 200 },
    ];
    for (const o of outcomes) {
      events.next(start(A, 0));
      events.next(end(A, 1, 1, o));
    }
    clock.t = 1;
    assert.deepEqual(stats.host(addressKey(A)), {
      outstanding: 0,
      latencyMs: 1,
      ok: 5,
      errors: 3,
      timeouts: 1,
      successRate: 5 / 8,
    });
    // Still counted half a window later (the previous bucket), gone a full window after that.
    events.next(start(A, 12_000));
    events.next(end(A, 12_000, 1, { status: 200 }));
    clock.t = 12_000;
    assert.equal(stats.host(addressKey(A)).ok, 6);
    clock.t = 25_000;
    assert.equal(stats.host(addressKey(A)).ok, 1);
    assert.equal(stats.host(addressKey(A)).errors, 0);
    clock.t = 60_000;
    assert.deepEqual(
      { ...stats.host(addressKey(A)), latencyMs: 0 },
      { outstanding: 0, latencyMs: 0, ok: 0, errors: 0, timeouts: 0, successRate: 1 },
    );
  });

  it('forgets hosts that left every group, and ignores their late ends', () => {
    const { stats, events } = setup();
    events.next(start(A, 0));
    events.next(start(B, 0));
    assert.equal(stats.load(A).outstanding, 1); // caches A's record by object
    stats.retain(new Set([addressKey(B)]));
    assert.equal(stats.load(A).outstanding, 0);
    events.next(end(A, 5, 5, { status: 200 }));
    assert.equal(stats.load(A).sampled, false);
    events.next(start(A, 10)); // back in a group: a fresh record
    assert.equal(stats.load(A).outstanding, 1);
    assert.equal(stats.load(B).outstanding, 1);
  });

  it('starts the slow-start ramp of a host whose health checks pass again, not of one that always passed', () => {
    const { stats, events } = setup();
    const check = (address: typeof A, time: number, health: 'passing' | 'failing') =>
      events.next({
        type: 'health-check',
        time,
        group: 'g',
        address,
        key: addressKey(address),
        ok: health === 'passing',
        durationMs: 1,
        health,
      });
    events.next(start(A, 0));
    events.next(start(B, 0));
    check(A, 1_000, 'passing');
    check(B, 1_000, 'failing');
    check(B, 4_000, 'failing');
    assert.equal(stats.load(B).since, -Infinity, 'failing is no ramp');
    check(B, 7_000, 'passing');
    assert.equal(stats.load(B).since, 7_000, 'recovered at 7 s: its ramp starts then');
    check(B, 12_000, 'passing');
    assert.equal(stats.load(B).since, 7_000, 'one ramp per recovery');
    assert.equal(stats.load(A).since, -Infinity, 'a host that never failed does not ramp');
  });

  it('stops on unsubscribe', () => {
    const { stats, events, sub } = setup();
    sub.unsubscribe();
    events.next(start(A, 0));
    assert.equal(stats.load(A).outstanding, 0);
  });

  it('rejects a non-positive decay with INVALID_ARGUMENT', () => {
    assert.throws(() => new LoadStats(manualClock(), { decayMs: 0 }), {
      code: 'INVALID_ARGUMENT',
      field: 'decayMs',
    });
  });
});
