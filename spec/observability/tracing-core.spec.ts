import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subject } from 'rxjs';
import { addressKey, type AttemptStartEvent, type CallEvent } from '../../lib/events/events.js';
import type { TraceBackend } from '../../lib/observability/trace-backend.js';
import { Tracing } from '../../lib/observability/tracing.js';

/** A span as the recording backend saw it. */
interface Recorded {
  readonly id: number;
  readonly parent: number | undefined;
  name?: string;
  kind?: 'client' | 'local';
  tags: Record<string, string>;
  notes: string[];
  finished: boolean;
}

/**
 * A {@link TraceBackend} that records what the core asks of it: the assertions on the core's
 * vocabulary, whatever the tracer (zipkin-js and OpenTelemetry map the same calls).
 */
function recordingBackend(current: number | undefined) {
  const spans = new Map<number, Recorded>();
  let next = 0;
  const make = (parent: number | undefined): number => {
    const id = ++next;
    spans.set(id, { id, parent, tags: {}, notes: [], finished: false });
    return id;
  };
  const span = (id: number) => spans.get(id)!;
  const backend: TraceBackend<number> = {
    childOfCurrent: () =>
      current === undefined ? { id: make(undefined) } : { id: make(current), parent: current },
    newChild: (parent) => make(parent),
    inject: (id, headers = {}) => Object.assign(headers, { 'x-span': String(id) }),
    spanName: (method) => method.toLowerCase(),
    recorded: () => true,
    now: () => 0,
    atSystemTime: (ms) => ms,
    startClient(id, name) {
      Object.assign(span(id), { name, kind: 'client' });
    },
    startLocal(id, name) {
      Object.assign(span(id), { name, kind: 'local' });
    },
    annotate: (id, value) => void span(id).notes.push(value),
    tag(id, key, value) {
      span(id).tags[key] = value;
    },
    finish(id) {
      span(id).finished = true;
    },
  };
  if (current !== undefined)
    spans.set(current, { id: current, parent: undefined, tags: {}, notes: [], finished: false });
  next = current ?? 0;
  return { backend, spans };
}

const address = Object.freeze({ host: 'users.internal', port: 8080 });
const scoped = { time: 0, callId: 1, group: 'users', method: 'GET' };
const start = (attempt: number): AttemptStartEvent => ({
  ...scoped,
  type: 'attempt-start',
  attempt,
  address,
  key: addressKey(address),
  breakerKey: addressKey(address),
  path: '/users/42?token=x',
});
const end = (attempt: number, extra: object) =>
  ({
    ...scoped,
    type: 'attempt-end',
    attempt,
    address,
    key: addressKey(address),
    breakerKey: 'k',
    durationMs: 1,
    ...extra,
  }) as CallEvent;

describe('Tracing core over a recording backend', () => {
  it('a retried call: sibling client spans under the caller, the retry noted on the next, one inject each', () => {
    const { backend, spans } = recordingBackend(100);
    const tracing = new Tracing(backend);
    const events$ = new Subject<CallEvent>();
    const sub = tracing.attach(events$);
    events$.next({ ...scoped, type: 'call-start', path: '/users/42?token=x' });
    events$.next(start(1));
    assert.deepEqual(tracing.headersFor(start(1)), { 'x-span': '101' });
    events$.next(end(1, { status: 503, cancelled: false, verdict: 'failure' }));
    events$.next({
      ...scoped,
      type: 'retry-scheduled',
      attempt: 2,
      delayMs: 10,
      delayReason: 'backoff',
      reason: '503',
    });
    events$.next(start(2));
    assert.deepEqual(tracing.headersFor(start(2), { a: '1' }), { a: '1', 'x-span': '102' });
    events$.next(end(2, { status: 200, cancelled: false, verdict: 'success' }));
    events$.next({ ...scoped, type: 'call-end', durationMs: 2, attempts: 2, status: 200, outcome: 'ok' });
    sub.unsubscribe();

    const first = spans.get(101)!;
    const second = spans.get(102)!;
    for (const s of [first, second]) {
      assert.equal(s.parent, 100, 'siblings under the caller');
      assert.equal(s.kind, 'client');
      assert.equal(s.name, 'get');
      assert.equal(s.tags['http.path'], '/users/{id}', 'a route template, no query');
      assert.equal(s.tags['server.address'], 'users.internal');
      assert.ok(s.finished);
    }
    assert.equal(first.tags['http.status_code'], '503');
    assert.equal(first.tags['error'], '503');
    assert.deepEqual(second.notes, ['rxhttp.retry reason=503 delay_ms=10 delay_reason=backoff']);
    assert.equal(second.tags['error'], undefined);
    assert.equal(spans.get(100)!.finished, false, "the caller's span is not ours to finish");
  });

  it('a cancelled attempt is noted, not tagged as an error; no context: a local root span per call', () => {
    const { backend, spans } = recordingBackend(undefined);
    const events$ = new Subject<CallEvent>();
    const sub = new Tracing(backend).attach(events$);
    events$.next({ ...scoped, type: 'call-start', path: '/a' });
    events$.next(start(1));
    events$.next(end(1, { errorCode: 'ABORTED', cancelled: true, verdict: 'ignored' }));
    events$.next({
      ...scoped,
      type: 'call-end',
      durationMs: 1,
      attempts: 1,
      errorCode: 'ABORTED',
      outcome: 'cancelled',
    });
    sub.unsubscribe();
    const root = spans.get(1)!;
    const attempt = spans.get(2)!;
    assert.equal(root.kind, 'local');
    assert.equal(attempt.parent, 1);
    assert.deepEqual(attempt.notes, ['rxhttp.cancelled']);
    assert.equal(attempt.tags['error'], undefined);
    assert.deepEqual(root.notes, ['rxhttp.cancelled']);
    assert.ok(root.finished && attempt.finished);
  });

  it('unsubscribing finishes the spans still open, noted rxhttp.detached', () => {
    const { backend, spans } = recordingBackend(100);
    const events$ = new Subject<CallEvent>();
    const sub = new Tracing(backend).attach(events$);
    events$.next({ ...scoped, type: 'call-start', path: '/a' });
    events$.next(start(1));
    sub.unsubscribe();
    assert.deepEqual(spans.get(101)!.notes, ['rxhttp.detached']);
    assert.ok(spans.get(101)!.finished);
  });
});
