import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlowCalls } from '../../lib/dashboard/slow-calls.js';
import { entryView, slowCallView } from '../../lib/dashboard/timeline-view.js';
import { slowCalls } from '../../lib/dashboard/render-timeline.js';
import type { DashboardView } from '../../lib/dashboard/view-model.js';
import type { CallEvent } from '../../lib/events/events.js';
import type { CallTimeline, TimelineEntry } from '../../lib/timeline.js';
import { eventFixtures } from '../helpers/events.js';

// The dashboard's slow-call fold and its view, fed synthetic events: what is kept, what is not,
// and that memory has a ceiling whatever the traffic.

const { scoped, attemptStart, attemptEnd } = eventFixtures('users', '/users/42');

/** The events of one call taking `ms`: one attempt, or a 503, a retry and a 200 when `retried`. */
function call(callId: number, ms: number, retried = false): CallEvent[] {
  const start: CallEvent = { ...scoped(callId), type: 'call-start', path: '/users/42' };
  const first = attemptStart(callId, 1, '10.0.0.1', 80);
  const events: CallEvent[] = [start, first];
  if (retried) {
    events.push(
      { ...attemptEnd(first, { status: 503, verdict: 'failure' }), time: 10 },
      {
        ...scoped(callId),
        time: 10,
        type: 'retry-scheduled',
        attempt: 2,
        delayMs: 25,
        delayReason: 'retry-after',
        reason: '503',
      },
    );
    const second = { ...attemptStart(callId, 2, '10.0.0.2', 80), time: 35 };
    events.push(second, { ...attemptEnd(second, { status: 200 }), time: ms });
  } else {
    events.push({ ...attemptEnd(first, { status: 200 }), time: ms });
  }
  events.push({
    ...scoped(callId),
    time: ms,
    type: 'call-end',
    durationMs: ms,
    attempts: retried ? 2 : 1,
    status: 200,
    outcome: 'ok',
  });
  return events;
}

describe('SlowCalls', () => {
  it('keeps a slow call’s timeline, not a fast one’s', () => {
    const slow = new SlowCalls({ thresholdMs: 100, keep: 10 });
    for (const e of call(1, 20)) slow.onEvent(e);
    for (const e of call(2, 150, true)) slow.onEvent(e);
    assert.deepEqual(
      slow.calls.map((t) => t.callId),
      [2],
    );
    const v = slowCallView(slow.calls[0]!);
    assert.deepEqual(
      v.entries.map((e) => [e.kind, e.atMs, e.address, e.durationMs, e.outcome, e.failed]),
      [
        ['attempt', 0, '10.0.0.1:80', 10, '503', true],
        ['retry', 10, undefined, undefined, undefined, undefined],
        ['attempt', 35, '10.0.0.2:80', 115, '200', false],
      ],
    );
    assert.equal(v.entries[1]!.detail, 'retry #2 in 25 ms (Retry-After honoured) after 503');
    assert.deepEqual(
      [v.method, v.group, v.path, v.durationMs, v.outcome],
      ['GET', 'users', '/users/42', 150, 'ok 200'],
    );
    assert.equal(slow.followed, 0, 'an ended call is not followed any more');
  });

  it('memory stays bounded: the newest N kept, and at most maxFollowed calls in flight', () => {
    const slow = new SlowCalls({ thresholdMs: 0, keep: 10, maxFollowed: 100 });
    for (let id = 1; id <= 20_000; id++) for (const e of call(id, id % 7, id % 3 === 0)) slow.onEvent(e);
    assert.equal(slow.calls.length, 10);
    assert.deepEqual(
      slow.calls.map((t) => t.callId),
      Array.from({ length: 10 }, (_, i) => 20_000 - i),
      'newest first',
    );
    assert.equal(slow.followed, 0);
    // Calls that never end (a leak elsewhere) cannot grow it past maxFollowed.
    for (let id = 30_000; id < 31_000; id++) slow.onEvent({ ...scoped(id), type: 'call-start', path: '/' });
    assert.equal(slow.followed, 100);
    slow.clear();
    assert.equal(slow.followed, 0);
  });

  it('decisions read in words: budget refused, deadline skip, breaker skip, fail fast', () => {
    const entries: TimelineEntry[] = [
      { kind: 'retry-refused', atMs: 5, attempt: 2, reason: 'budget' },
      {
        kind: 'retry-refused',
        atMs: 6,
        attempt: 3,
        reason: 'deadline-insufficient',
        expectedMs: 90,
        remainingMs: 40,
      },
      { kind: 'breaker-skip', atMs: 7, attempt: 1, breakerKey: '10.0.0.3:80' },
      { kind: 'fail-fast', atMs: 8, attempt: 1 },
    ];
    assert.deepEqual(
      entries.map((e) => entryView(e).detail),
      [
        'retry #2 not made: retry budget spent',
        'retry #3 not made: skipped for the deadline: hosts take ~90 ms, 40 ms left',
        'breaker 10.0.0.3:80 refused attempt #1: it went to another host',
        'every breaker refused attempt #1: nothing sent',
      ],
    );
    const hedging: TimelineEntry[] = [
      { kind: 'hedge', atMs: 10, attempt: 2, delayMs: 10 },
      {
        kind: 'attempt',
        atMs: 0,
        endMs: 15,
        attempt: 1,
        address: { host: '10.0.0.1', port: 80 },
        key: '10.0.0.1:80',
        outcome: 'cancelled',
        lostTo: 2,
      },
      { kind: 'hedge-refused', atMs: 20, attempt: 3, reason: 'budget' },
    ];
    assert.deepEqual(
      hedging.map((e) => [entryView(e).detail, entryView(e).outcome]),
      [
        ['no answer after 10 ms: hedge #2 sent to another host', undefined],
        ['attempt #1', 'lost to #2'],
        ['hedge #3 not sent: hedge or retry budget spent', undefined],
      ],
    );
  });

  it('an entry kind it does not know shows generically, every value escaped', () => {
    // A kind from a later version (hedge entries are known now).
    const hedge = {
      kind: 'mirror',
      atMs: 12,
      attempt: 2,
      address: { host: '10.0.0.9', port: 80 },
      key: '10.0.0.9:80',
      note: '<img src=x onerror=alert(1)>',
    } as unknown as TimelineEntry;
    const v = entryView(hedge);
    assert.deepEqual([v.kind, v.atMs, v.address], ['mirror', 12, '10.0.0.9:80']);
    assert.equal(
      v.detail,
      'attempt 2, address 10.0.0.9:80, key 10.0.0.9:80, note <img src=x onerror=alert(1)>',
    );
    const timeline: CallTimeline = {
      callId: 1,
      group: '<b>g</b>',
      method: 'GET',
      path: '/"x"',
      start: 0,
      timeoutMs: Number.NaN,
      durationMs: 50,
      outcome: 'ok',
      status: 200,
      entries: [hedge, { kind: '<script>' } as unknown as TimelineEntry],
    };
    const html = slowCalls({
      slowCallMs: 10,
      slowCalls: [slowCallView(timeline)],
    } as unknown as DashboardView);
    assert.ok(!/<img|<script|<b>/.test(html), html);
    assert.ok(html.includes('&#60;img src=x onerror=alert(1)&#62;'));
    assert.ok(html.includes('data-kind="mirror"') && html.includes('kind-other'), 'an odd kind is no class');
  });
});
