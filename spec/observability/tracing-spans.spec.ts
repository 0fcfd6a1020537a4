import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subject } from 'rxjs';
import zipkin from 'zipkin';
import type { CallEvent } from '../../lib/events/events.js';
import { Tracing, type TracingOptions } from '../../lib/observability/tracing.js';
import { systemClock } from '../../lib/internal/clock.js';
import type { JsonSpan } from '../helpers/zipkin-collector.js';
import { eventFixtures } from '../helpers/events.js';

/**
 * The exact Zipkin JSON v2 spans a real `BatchRecorder` builds from rxhttp's records, for every shape
 * of call: ids and timestamps are checked for consistency and then replaced by labels, so the rest
 * (names, kinds, tags, annotations, endpoints, parent links) is compared whole.
 */

const { scoped, attemptStart, attemptEnd } = eventFixtures('dns://users:80', '/users/42/orders?token=x');

interface Rig {
  readonly tracer: zipkin.Tracer;
  readonly events$: Subject<CallEvent>;
  readonly tracing: Tracing;
  /** The spans reported so far, as JSON v2. */
  readonly spans: JsonSpan[];
  /** Every record the tracer's recorder received, in order. */
  readonly records: zipkin.Record[];
}

function rig(
  options: TracingOptions = {},
  sample = zipkin.sampler.alwaysSample,
  tamper: (tracer: zipkin.Tracer) => void = () => undefined,
): Rig {
  const spans: JsonSpan[] = [];
  const records: zipkin.Record[] = [];
  const batch = new zipkin.BatchRecorder({
    logger: {
      logSpan: (span) => spans.push(JSON.parse(zipkin.jsonEncoder.JSON_V2.encode(span)) as JsonSpan),
    },
  });
  const recorder: zipkin.Recorder = {
    record(rec) {
      records.push(rec);
      batch.record(rec);
    },
  };
  const tracer = new zipkin.Tracer({
    ctxImpl: new zipkin.ExplicitContext(),
    recorder,
    sampler: new zipkin.sampler.Sampler(sample),
    localServiceName: 'spec-client',
  });
  tamper(tracer);
  const events$ = new Subject<CallEvent>();
  const tracing = new Tracing(tracer, options);
  tracing.attach(events$);
  return { tracer, events$, tracing, spans, records };
}

/** Epoch microseconds from the wall clock, to bound the tracer's timestamps. */
const wallMicros = (): number => Date.now() * 1000;

/**
 * Checks ids and timestamps, then returns the spans with ids replaced by labels in order of first
 * appearance (`t1`, `s1`…) and timestamps dropped. `slack` (µs) allows for a millisecond clock, where
 * zipkin's 1 µs minimum duration can end a child just after its parent.
 */
function normalize(spans: JsonSpan[], from: number, to: number, slack = 0): unknown[] {
  const traces = new Map<string, string>();
  const ids = new Map<string, string>();
  const label = (map: Map<string, string>, prefix: string, id: string): string => {
    let l = map.get(id);
    if (l === undefined) map.set(id, (l = `${prefix}${map.size + 1}`));
    return l;
  };
  const byId = new Map(spans.map((s) => [s.id, s]));
  return spans.map((s) => {
    assert.match(s.traceId, /^[0-9a-f]{16}(?:[0-9a-f]{16})?$/);
    assert.match(s.id, /^[0-9a-f]{16}$/);
    const start = s.timestamp ?? NaN;
    const end = start + (s.duration ?? NaN);
    assert.ok(Number.isInteger(start) && start >= from - 2000 && start <= to + 2000, `timestamp ${start}`);
    assert.ok(Number.isInteger(s.duration) && (s.duration ?? 0) >= 1, `duration ${s.duration}`);
    for (const a of s.annotations ?? []) {
      assert.ok(a.timestamp >= start && a.timestamp <= end, `annotation ${a.value} inside its span`);
    }
    const parent = s.parentId === undefined ? undefined : byId.get(s.parentId);
    if (parent !== undefined) {
      const pStart = parent.timestamp ?? NaN;
      assert.ok(
        start >= pStart && end <= pStart + (parent.duration ?? NaN) + slack,
        `${s.name} inside its parent`,
      );
    }
    const out: Record<string, unknown> = { traceId: label(traces, 't', s.traceId) };
    if (s.parentId !== undefined) out['parentId'] = label(ids, 's', s.parentId);
    out['id'] = label(ids, 's', s.id);
    for (const key of ['name', 'kind', 'localEndpoint', 'remoteEndpoint', 'tags'] as const) {
      if (s[key] !== undefined) out[key] = s[key];
    }
    if (s.annotations !== undefined) out['annotations'] = s.annotations.map((a) => a.value);
    return out;
  });
}

const local = { serviceName: 'spec-client' };

/** A call retried once (503, then 200) without a current context, checked span by span. */
function checkRetriedCall(r: Rig, slack = 0): void {
  const { events$, tracing, spans, records } = r;
  const from = wallMicros();
  events$.next({ ...scoped(1), type: 'call-start', path: '/users/42/orders?token=x' });
  const s1 = attemptStart(1, 1);
  events$.next(s1);
  const h1 = tracing.headersFor(s1);
  events$.next(attemptEnd(s1, { status: 503, verdict: 'failure' }));
  events$.next({
    ...scoped(1),
    type: 'retry-scheduled',
    attempt: 2,
    delayMs: 120.4,
    delayReason: 'retry-after',
    reason: '503',
  });
  const s2 = attemptStart(1, 2, '127.0.0.2', 8081);
  const h2 = tracing.headersFor(s2);
  events$.next(s2);
  events$.next(attemptEnd(s2, { status: 200 }));
  events$.next({
    ...scoped(1),
    type: 'call-end',
    durationMs: 200,
    attempts: 2,
    status: 200,
    outcome: 'ok',
  });
  const to = wallMicros();

  assert.equal(spans.length, 3);
  const [first, second, root] = spans as [JsonSpan, JsonSpan, JsonSpan];
  assert.deepEqual(h1, {
    'X-B3-TraceId': root.traceId,
    'X-B3-SpanId': first.id,
    'X-B3-ParentSpanId': root.id,
    'X-B3-Sampled': '1',
    b3: `${root.traceId}-${first.id}-1-${root.id}`,
  });
  assert.equal(h2['X-B3-SpanId'], second.id);
  assert.equal(h2['b3'], `${root.traceId}-${second.id}-1-${root.id}`);
  assert.ok(records.every((r) => Number.isInteger(r.timestamp)));

  assert.deepEqual(normalize(spans, from, to, slack), [
    {
      traceId: 't1',
      parentId: 's1',
      id: 's2',
      name: 'get',
      kind: 'CLIENT',
      localEndpoint: local,
      remoteEndpoint: { serviceName: 'users:80', ipv4: '127.0.0.1', port: 8080 },
      tags: {
        'http.method': 'GET',
        'http.path': '/users/{id}/orders',
        'rxhttp.attempt': '1',
        'http.status_code': '503',
        error: '503',
      },
    },
    {
      traceId: 't1',
      parentId: 's1',
      id: 's3',
      name: 'get',
      kind: 'CLIENT',
      localEndpoint: local,
      remoteEndpoint: { serviceName: 'users:80', ipv4: '127.0.0.2', port: 8081 },
      annotations: ['rxhttp.retry reason=503 delay_ms=120 delay_reason=retry-after'],
      tags: {
        'http.method': 'GET',
        'http.path': '/users/{id}/orders',
        'rxhttp.attempt': '2',
        'http.status_code': '200',
      },
    },
    {
      traceId: 't1',
      id: 's1',
      name: 'get',
      localEndpoint: local,
      tags: {
        'http.method': 'GET',
        'http.path': '/users/{id}/orders',
        'rxhttp.attempts': '2',
        'http.status_code': '200',
      },
    },
  ]);
}

describe('Tracing spans as a zipkin BatchRecorder reports them (JSON v2)', () => {
  it('a retried call without a current context: a local root and one CLIENT span per attempt', () => {
    checkRetriedCall(rig({ b3Single: true }));
  });

  it('falls back to the public Tracer API, with the same spans, when zipkin-js internals are missing', () => {
    // Without _startTick zipkin-js itself falls back to Date.now(), a millisecond clock.
    const r = rig({ b3Single: true }, zipkin.sampler.alwaysSample, (tracer) => {
      delete (tracer as unknown as { _startTick?: unknown })._startTick;
    });
    checkRetriedCall(r, 1);
  });

  it('a cancelled call under the current context, to a host name', () => {
    const { tracer, events$, tracing, spans } = rig({ remoteServiceName: 'User-Service' });
    const parent = tracer.createRootId();
    const from = wallMicros();
    tracer.letId(parent, () => events$.next({ ...scoped(2, 'POST'), type: 'call-start', path: '/users' }));
    const s1 = { ...attemptStart(2, 1, 'users.internal', 443), method: 'POST', path: '/users' };
    events$.next(s1);
    const h1 = tracing.headersFor(s1);
    events$.next({
      ...attemptEnd(s1, { errorCode: 'ABORTED', cancelled: true, verdict: 'ignored' }),
      method: 'POST',
    });
    events$.next({
      ...scoped(2, 'POST'),
      type: 'call-end',
      durationMs: 3,
      attempts: 1,
      outcome: 'cancelled',
    });
    const to = wallMicros();

    assert.equal(spans.length, 1, 'no local root under a current context');
    assert.equal(spans[0]?.traceId, parent.traceId);
    assert.equal(spans[0]?.parentId, parent.spanId);
    assert.deepEqual(h1, {
      'X-B3-TraceId': parent.traceId,
      'X-B3-SpanId': spans[0]?.id,
      'X-B3-ParentSpanId': parent.spanId,
      'X-B3-Sampled': '1',
    });
    assert.deepEqual(normalize(spans, from, to), [
      {
        traceId: 't1',
        parentId: 's1',
        id: 's2',
        name: 'post',
        kind: 'CLIENT',
        localEndpoint: local,
        remoteEndpoint: { serviceName: 'user-service', port: 443 },
        annotations: ['rxhttp.cancelled'],
        tags: {
          'http.method': 'POST',
          'http.path': '/users',
          'rxhttp.attempt': '1',
          'server.address': 'users.internal',
        },
      },
    ]);
  });

  it('a timeout, a refused retry and a fail-fast, and a detached call', () => {
    const { events$, spans } = rig();
    const from = wallMicros();
    events$.next({ ...scoped(3), type: 'call-start', path: '/x' });
    const s1 = attemptStart(3, 1, '127.0.0.1', 8080, '/x');
    events$.next(s1);
    events$.next(attemptEnd(s1, { errorCode: 'TIMEOUT', timeoutPhase: 'headers', verdict: 'failure' }));
    events$.next({
      ...scoped(3),
      type: 'retry-scheduled',
      attempt: 2,
      delayMs: 50,
      delayReason: 'backoff',
      reason: 'timeout',
    });
    events$.next({ ...scoped(3), type: 'fail-fast', attempt: 2 });
    events$.next({ ...scoped(3), type: 'retry-refused', attempt: 3, reason: 'budget' });
    events$.next({
      ...scoped(3),
      type: 'call-end',
      durationMs: 60,
      attempts: 2,
      errorCode: 'FAIL_FAST',
      outcome: 'error',
    });
    events$.next({ ...scoped(4), type: 'call-start', path: '/y' });
    events$.next(attemptStart(4, 1));
    events$.complete();
    const to = wallMicros();

    assert.deepEqual(normalize(spans, from, to), [
      {
        traceId: 't1',
        parentId: 's1',
        id: 's2',
        name: 'get',
        kind: 'CLIENT',
        localEndpoint: local,
        remoteEndpoint: { serviceName: 'users:80', ipv4: '127.0.0.1', port: 8080 },
        tags: {
          'http.method': 'GET',
          'http.path': '/x',
          'rxhttp.attempt': '1',
          error: 'timeout',
          'rxhttp.timeout_phase': 'headers',
        },
      },
      {
        traceId: 't1',
        parentId: 's1',
        id: 's3',
        name: 'rxhttp.fail-fast',
        localEndpoint: local,
        annotations: ['rxhttp.retry reason=timeout delay_ms=50 delay_reason=backoff', 'rxhttp.fail-fast'],
        tags: { 'http.method': 'GET', 'http.path': '/x', 'rxhttp.attempt': '2', error: 'fail_fast' },
      },
      {
        traceId: 't1',
        id: 's1',
        name: 'get',
        localEndpoint: local,
        annotations: ['rxhttp.retry-refused reason=budget'],
        tags: { 'http.method': 'GET', 'http.path': '/x', 'rxhttp.attempts': '2', error: 'fail_fast' },
      },
      {
        traceId: 't2',
        parentId: 's4',
        id: 's5',
        name: 'get',
        kind: 'CLIENT',
        localEndpoint: local,
        remoteEndpoint: { serviceName: 'users:80', ipv4: '127.0.0.1', port: 8080 },
        annotations: ['rxhttp.detached'],
        tags: { 'http.method': 'GET', 'http.path': '/users/{id}/orders', 'rxhttp.attempt': '1' },
      },
      {
        traceId: 't2',
        id: 's4',
        name: 'get',
        localEndpoint: local,
        annotations: ['rxhttp.detached'],
        tags: { 'http.method': 'GET', 'http.path': '/y' },
      },
    ]);
  });

  it('propagates a debug context with X-B3-Flags and records its spans', () => {
    const { tracer, events$, tracing, spans } = rig({ b3Single: true }, zipkin.sampler.neverSample);
    const parent = tracer.createRootId(zipkin.option.None, true);
    tracer.letId(parent, () => events$.next({ ...scoped(5), type: 'call-start', path: '/d' }));
    const s1 = attemptStart(5, 1);
    events$.next(s1);
    const h = tracing.headersFor(s1);
    events$.next(attemptEnd(s1, { status: 204 }));
    events$.next({ ...scoped(5), type: 'call-end', durationMs: 1, attempts: 1, status: 204, outcome: 'ok' });
    assert.deepEqual(h, {
      'X-B3-TraceId': parent.traceId,
      'X-B3-SpanId': spans[0]?.id,
      'X-B3-ParentSpanId': parent.spanId,
      'X-B3-Flags': '1',
      b3: `${parent.traceId}-${spans[0]?.id}-d-${parent.spanId}`,
    });
    assert.equal(spans.length, 1);
  });

  it('records nothing for an unsampled call, and propagates the decision', () => {
    const { events$, tracing, spans, records } = rig({}, zipkin.sampler.neverSample);
    events$.next({ ...scoped(6), type: 'call-start', path: '/n' });
    const s1 = attemptStart(6, 1);
    events$.next(s1);
    assert.equal(tracing.headersFor(s1)['X-B3-Sampled'], '0');
    events$.next(attemptEnd(s1, { status: 200 }));
    events$.next({ ...scoped(6), type: 'call-end', durationMs: 1, attempts: 1, status: 200, outcome: 'ok' });
    events$.complete();
    assert.equal(records.length, 0);
    assert.equal(spans.length, 0);
  });

  it("stamps spans from the events' system-clock times when told they are", () => {
    const { events$, tracing, spans } = rig({ eventsOnSystemClock: true });
    const from = wallMicros();
    const t0 = systemClock.now();
    events$.next({ ...scoped(7), time: t0, type: 'call-start', path: '/t' });
    const s1 = { ...attemptStart(7, 1, '127.0.0.1', 8080, '/t'), time: t0 };
    events$.next(s1);
    tracing.headersFor(s1);
    const t1 = t0 + 5.25;
    events$.next({ ...attemptEnd(s1, { status: 200 }), time: t1 });
    events$.next({
      ...scoped(7),
      time: t1,
      type: 'call-end',
      durationMs: 5.25,
      attempts: 1,
      status: 200,
      outcome: 'ok',
    });
    const to = wallMicros() + 5250;

    const [client, root] = spans as [JsonSpan, JsonSpan];
    assert.equal(client.timestamp, root.timestamp, 'both start at the call-start reading');
    assert.ok(Math.abs((client.duration ?? NaN) - 5250) <= 1, `duration ${client.duration}`);
    assert.equal(root.duration, client.duration);
    assert.deepEqual(
      normalize(spans, from, to).map((s) => (s as { name: string }).name),
      ['get', 'get'],
    );
  });

  it('makes 128-bit trace ids when the tracer does', () => {
    const { events$, tracing, spans } = rig({}, zipkin.sampler.alwaysSample, (tracer) => {
      (tracer as unknown as { traceId128Bit: boolean }).traceId128Bit = true;
    });
    events$.next({ ...scoped(8), type: 'call-start', path: '/w' });
    const s1 = attemptStart(8, 1);
    events$.next(s1);
    const h = tracing.headersFor(s1);
    events$.next(attemptEnd(s1, { status: 200 }));
    events$.next({ ...scoped(8), type: 'call-end', durationMs: 1, attempts: 1, status: 200, outcome: 'ok' });
    const [client, root] = spans as [JsonSpan, JsonSpan];
    assert.match(root.traceId, /^[0-9a-f]{32}$/);
    assert.equal(root.traceId.slice(16), root.id, 'the low half is the root span id, as zipkin-js makes it');
    assert.equal(client.traceId, root.traceId);
    assert.equal(h['X-B3-TraceId'], root.traceId);
  });

  it('asks a sampler of its own class once per call, through its shouldSample', () => {
    let asked = 0;
    class OddSampler extends zipkin.sampler.Sampler {
      override shouldSample(): zipkin.option.IOption<boolean> {
        asked++;
        return new zipkin.option.Some(asked % 2 === 1);
      }
    }
    const { events$, tracing, spans } = rig({}, zipkin.sampler.alwaysSample, (tracer) => {
      (tracer as unknown as { sampler: zipkin.sampler.Sampler }).sampler = new OddSampler(() => true);
    });
    const sampled: string[] = [];
    for (const callId of [9, 10]) {
      events$.next({ ...scoped(callId), type: 'call-start', path: '/s' });
      for (const attempt of [1, 2]) {
        const s = attemptStart(callId, attempt);
        events$.next(s);
        sampled.push(tracing.headersFor(s)['X-B3-Sampled'] ?? '');
        events$.next(attemptEnd(s, { status: attempt === 1 ? 503 : 200 }));
      }
      events$.next({
        ...scoped(callId),
        type: 'call-end',
        durationMs: 1,
        attempts: 2,
        status: 200,
        outcome: 'ok',
      });
    }
    assert.equal(asked, 2);
    assert.deepEqual(sampled, ['1', '1', '0', '0']);
    assert.equal(spans.length, 3, 'the first call only: a root and two attempts');
  });

  it('decides once for a current context without a sampling decision', () => {
    let asked = 0;
    const { tracer, events$, tracing, spans } = rig({}, () => (asked++, true));
    const parent = new zipkin.TraceId({ traceId: 'a'.repeat(16), spanId: 'b'.repeat(16) });
    const before = asked; // the tracer asked once for its sentinel id
    tracer.letId(parent, () => events$.next({ ...scoped(11), type: 'call-start', path: '/u' }));
    const s1 = attemptStart(11, 1);
    events$.next(s1);
    const h = tracing.headersFor(s1);
    events$.next(attemptEnd(s1, { status: 200 }));
    events$.next({ ...scoped(11), type: 'call-end', durationMs: 1, attempts: 1, status: 200, outcome: 'ok' });
    assert.equal(asked - before, 1);
    assert.equal(h['X-B3-Sampled'], '1');
    assert.equal(h['X-B3-ParentSpanId'], 'b'.repeat(16));
    assert.equal(spans.length, 1);
    assert.equal(spans[0]?.parentId, 'b'.repeat(16));
  });

  it('keeps calls apart whose ids share a slot, and detaches open calls in start order', () => {
    const { events$, spans } = rig();
    // 1024 apart: the same slot of the call table, so the second goes beside it.
    for (const [callId, path] of [
      [5, '/five'],
      [1029, '/other'],
      [6, '/six'],
    ] as const) {
      events$.next({ ...scoped(callId), type: 'call-start', path });
      events$.next(attemptStart(callId, 1, '127.0.0.1', 8080, path));
    }
    events$.next(attemptEnd(attemptStart(1029, 1, '127.0.0.1', 8080, '/other'), { status: 200 }));
    events$.next({
      ...scoped(1029),
      type: 'call-end',
      durationMs: 1,
      attempts: 1,
      status: 200,
      outcome: 'ok',
    });
    events$.complete();
    const paths = spans.map((s) => `${s.kind ?? 'root'} ${s.tags?.['http.path']}`);
    assert.deepEqual(paths, [
      'CLIENT /other',
      'root /other',
      'CLIENT /five',
      'root /five',
      'CLIENT /six',
      'root /six',
    ]);
    assert.deepEqual(
      spans.map((s) => s.annotations?.map((a) => a.value) ?? []),
      [[], [], ['rxhttp.detached'], ['rxhttp.detached'], ['rxhttp.detached'], ['rxhttp.detached']],
    );
  });
});
