import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Subject } from 'rxjs';
import type { CallEvent } from '../../lib/events/events.js';
import { Tracing } from '../../lib/observability/tracing.js';
import {
  createSpecTracer,
  startZipkinCollector,
  type JsonSpan,
  type ZipkinCollector,
} from '../helpers/zipkin-collector.js';
import { eventFixtures } from '../helpers/events.js';

/** A query that must never reach a span, although events already carry the path alone. */
const PATH = '/secret/42?token=x';
const { scoped, attemptStart, attemptEnd } = eventFixtures('users', PATH);

/** Emits a two-attempt call (503, then 200) and returns the headers `headersFor` gave each attempt. */
function twoAttemptCall(
  events$: Subject<CallEvent>,
  tracing: Tracing,
  callId: number,
  emitCallStart: () => void = () => events$.next({ ...scoped(callId), type: 'call-start', path: PATH }),
): Record<string, string>[] {
  emitCallStart();
  const s1 = attemptStart(callId, 1);
  events$.next(s1);
  const h1 = tracing.headersFor(s1);
  events$.next(attemptEnd(s1, { status: 503, verdict: 'failure' }));
  events$.next({
    ...scoped(callId),
    type: 'retry-scheduled',
    attempt: 2,
    delayMs: 120,
    delayReason: 'backoff',
    reason: '503',
  });
  const s2 = attemptStart(callId, 2, '127.0.0.2');
  events$.next(s2);
  const h2 = tracing.headersFor(s2);
  events$.next(attemptEnd(s2, { status: 200 }));
  events$.next({
    ...scoped(callId),
    type: 'call-end',
    durationMs: 200,
    attempts: 2,
    status: 200,
    outcome: 'ok',
  });
  return [h1, h2];
}

describe('Tracing (zipkin-js, HttpLogger JSON v2, loopback collector)', () => {
  let collector: ZipkinCollector;
  before(async () => {
    collector = await startZipkinCollector();
  });
  after(async () => {
    await collector.close();
  });
  beforeEach(() => {
    collector.spans.length = 0;
    collector.bodies.length = 0;
  });

  it('makes one CLIENT span per attempt, sharing a trace id under a local root when no context is current', async () => {
    const spec = createSpecTracer(collector.endpoint);
    const events$ = new Subject<CallEvent>();
    const tracing = new Tracing(spec.tracer);
    const sub = tracing.attach(events$);
    const [h1, h2] = twoAttemptCall(events$, tracing, 1);
    spec.flush();
    const spans = await collector.waitForSpans(3);
    sub.unsubscribe();
    spec.close();

    const clients = spans.filter((s) => s.kind === 'CLIENT');
    assert.equal(clients.length, 2);
    const [first, second] = clients.sort(
      (a, b) => Number(a.tags?.['rxhttp.attempt']) - Number(b.tags?.['rxhttp.attempt']),
    ) as [JsonSpan, JsonSpan];
    const root = spans.find((s) => s.kind === undefined);
    assert.ok(root, 'a local root span for the call');
    assert.equal(root.parentId, undefined);
    assert.equal(root.name, 'get');
    for (const span of [first, second]) {
      assert.equal(span.traceId, root.traceId);
      assert.equal(span.parentId, root.id);
      assert.equal(span.name, 'get');
      assert.equal(span.localEndpoint?.serviceName, 'spec-client');
      assert.equal(span.remoteEndpoint?.serviceName, 'users');
      assert.equal(span.remoteEndpoint?.port, 8080);
      assert.equal(span.tags?.['http.method'], 'GET');
      assert.equal(span.tags?.['http.path'], '/secret/{id}');
      assert.ok((span.duration ?? 0) >= 1);
    }
    assert.notEqual(first.id, second.id);
    assert.equal(first.remoteEndpoint?.ipv4, '127.0.0.1');
    assert.equal(second.remoteEndpoint?.ipv4, '127.0.0.2');
    assert.deepEqual(
      {
        status: first.tags?.['http.status_code'],
        error: first.tags?.['error'],
        attempt: first.tags?.['rxhttp.attempt'],
      },
      { status: '503', error: '503', attempt: '1' },
    );
    assert.deepEqual(
      {
        status: second.tags?.['http.status_code'],
        error: second.tags?.['error'],
        attempt: second.tags?.['rxhttp.attempt'],
      },
      { status: '200', error: undefined, attempt: '2' },
    );
    assert.deepEqual(
      second.annotations?.map((a) => a.value),
      ['rxhttp.retry reason=503 delay_ms=120 delay_reason=backoff'],
    );

    assert.deepEqual(h1, {
      'X-B3-TraceId': first.traceId,
      'X-B3-SpanId': first.id,
      'X-B3-ParentSpanId': root.id,
      'X-B3-Sampled': '1',
    });
    assert.equal(h2?.['X-B3-SpanId'], second.id);
    assert.equal(collector.strayPaths.length, 0, 'JSON v2 goes to /api/v2/spans');
    assert.deepEqual(spec.transportErrors, []);
  });

  it('makes attempts children of the span current at call-start', async () => {
    const spec = createSpecTracer(collector.endpoint);
    const { tracer } = spec;
    const events$ = new Subject<CallEvent>();
    const tracing = new Tracing(tracer, { remoteServiceName: 'user-service' });
    const sub = tracing.attach(events$);
    const parent = tracer.createRootId();
    twoAttemptCall(events$, tracing, 7, () =>
      tracer.scoped(() =>
        tracer.letId(parent, () => events$.next({ ...scoped(7), type: 'call-start', path: PATH })),
      ),
    );
    spec.flush();
    const spans = await collector.waitForSpans(2);
    sub.unsubscribe();
    spec.close();

    assert.equal(spans.length, 2, 'no extra root span when a parent is current');
    for (const span of spans) {
      assert.equal(span.kind, 'CLIENT');
      assert.equal(span.traceId, parent.traceId);
      assert.equal(span.parentId, parent.spanId);
      assert.equal(span.remoteEndpoint?.serviceName, 'user-service');
    }
  });

  it('never posts a query value, authorization or cookie', async () => {
    const spec = createSpecTracer(collector.endpoint);
    const events$ = new Subject<CallEvent>();
    const tracing = new Tracing(spec.tracer);
    const sub = tracing.attach(events$);
    twoAttemptCall(events$, tracing, 3);
    spec.flush();
    await collector.waitForSpans(3);
    sub.unsubscribe();
    spec.close();
    const posted = collector.bodies.join('\n');
    for (const forbidden of ['token', '?', 'Authorization', 'authorization', 'Cookie', 'cookie']) {
      assert.ok(!posted.includes(forbidden), `posted JSON holds ${forbidden}`);
    }
  });

  it('writes the single b3 header on request and records fail-fast as a local span', async () => {
    const spec = createSpecTracer(collector.endpoint);
    const events$ = new Subject<CallEvent>();
    const tracing = new Tracing(spec.tracer, { b3Single: true });
    const sub = tracing.attach(events$);
    events$.next({ ...scoped(4), type: 'call-start', path: '/x' });
    const s1 = attemptStart(4, 1);
    events$.next(s1);
    const h = tracing.headersFor(s1);
    assert.equal(h['b3'], `${h['X-B3-TraceId']}-${h['X-B3-SpanId']}-1-${h['X-B3-ParentSpanId']}`);
    events$.next(attemptEnd(s1, { errorCode: 'TIMEOUT', timeoutPhase: 'headers', verdict: 'failure' }));
    events$.next({
      ...scoped(4),
      type: 'retry-scheduled',
      attempt: 2,
      delayMs: 50,
      delayReason: 'backoff',
      reason: 'timeout',
    });
    events$.next({ ...scoped(4), type: 'fail-fast', attempt: 2 });
    events$.next({
      ...scoped(4),
      type: 'call-end',
      durationMs: 60,
      attempts: 1,
      errorCode: 'FAIL_FAST',
      outcome: 'error',
    });
    spec.flush();
    const spans = await collector.waitForSpans(3);
    sub.unsubscribe();
    spec.close();

    const client = spans.find((s) => s.kind === 'CLIENT');
    assert.equal(client?.tags?.['error'], 'timeout');
    assert.equal(client?.tags?.['rxhttp.timeout_phase'], 'headers');
    const failFast = spans.find((s) => s.name === 'rxhttp.fail-fast');
    assert.ok(failFast, 'fail-fast span');
    assert.equal(failFast.kind, undefined);
    assert.equal(failFast.tags?.['error'], 'fail_fast');
    assert.equal(failFast.tags?.['rxhttp.attempt'], '2');
    assert.deepEqual(failFast.annotations?.map((a) => a.value).sort(), [
      'rxhttp.fail-fast',
      'rxhttp.retry reason=timeout delay_ms=50 delay_reason=backoff',
    ]);
    const root = spans.find((s) => s.parentId === undefined);
    assert.equal(root?.tags?.['error'], 'fail_fast');
    assert.equal(failFast.parentId, root?.id);
  });

  it('propagates an unsampled decision and records nothing', async () => {
    const spec = createSpecTracer(collector.endpoint, { sampled: false });
    const events$ = new Subject<CallEvent>();
    const tracing = new Tracing(spec.tracer);
    const sub = tracing.attach(events$);
    const [h1] = twoAttemptCall(events$, tracing, 5);
    assert.equal(h1?.['X-B3-Sampled'], '0');
    spec.flush();
    await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    spec.close();
    assert.equal(collector.spans.length, 0);
  });

  it('finishes spans still open when detached, so none is left half-reported', async () => {
    const spec = createSpecTracer(collector.endpoint);
    const events$ = new Subject<CallEvent>();
    const tracing = new Tracing(spec.tracer);
    const sub = tracing.attach(events$);
    events$.next({ ...scoped(6), type: 'call-start', path: '/x' });
    const s1 = attemptStart(6, 1);
    events$.next(s1);
    events$.complete();
    assert.ok(sub.closed);
    spec.flush();
    const spans = await collector.waitForSpans(2);
    spec.close();
    for (const span of spans) assert.ok(span.annotations?.some((a) => a.value === 'rxhttp.detached'));
  });

  it('asks the sampler once per call, so a counting sampler keeps its rate', () => {
    let decisions = 0;
    const spec = createSpecTracer(collector.endpoint, { sample: () => (decisions++, false) });
    const tracing = new Tracing(spec.tracer);
    const events$ = new Subject<CallEvent>();
    const sub = tracing.attach(events$);
    const atStart = decisions;
    twoAttemptCall(events$, tracing, 11);
    twoAttemptCall(events$, tracing, 12);
    assert.equal(decisions - atStart, 2);
    sub.unsubscribe();
    spec.close();
  });

  it('returns headers even when headersFor runs before the subscriber saw the attempt', () => {
    const spec = createSpecTracer(collector.endpoint);
    const tracing = new Tracing(spec.tracer);
    const events$ = new Subject<CallEvent>();
    const sub = tracing.attach(events$);
    const s1 = attemptStart(8, 1);
    const before = tracing.headersFor(s1);
    events$.next(s1);
    assert.deepEqual(tracing.headersFor(s1), before, 'one span per attempt, whatever the order');
    events$.next(attemptEnd(s1, { status: 200 }));
    sub.unsubscribe();
    spec.close();
  });
});
