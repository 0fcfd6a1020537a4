import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as api from '@opentelemetry/api';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { request } from 'undici';
import { ExplicitContext, Tracer as ZipkinTracer } from 'zipkin';
import { Subject } from 'rxjs';
import { Client } from '../../lib/client/client.js';
import type { CallEvent } from '../../lib/events/events.js';
import { otelBackend } from '../../lib/observability/otel-backend.js';
import { Tracing } from '../../lib/observability/tracing.js';
import { w3cTraceContext } from '../../lib/observability/w3c-trace-context.js';
import { AddressGroup } from '../../lib/group/address-group.js';
import { requireNode } from '../helpers/ci-env.js';

/** Values that must never reach an attribute or an event. */
const SECRETS = ['secret/42', 'token', 'Bearer', 'sekrit', 'session=', 'abc123'];
const RETRY = { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' as const } };
const SECRET_HEADERS = { authorization: 'Bearer sekrit', cookie: 'session=abc123' };

/** A loopback server: 503 to the first request, 200 after (or never answering); keeps every request's headers. */
async function flakyServer(
  mode: 'flaky' | 'hang' = 'flaky',
): Promise<{ port: number; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    if (mode === 'hang') return;
    res.writeHead(seen.length === 1 ? 503 : 200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncHooksContextManager();

function clientSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
}

/** The traceparent the server saw, which must be one header, not a list. */
function traceparentOf(headers: IncomingHttpHeaders): string {
  const value = headers['traceparent'];
  assert.equal(typeof value, 'string', 'one traceparent header');
  assert.ok(!(value as string).includes(','), `one traceparent, not ${value}`);
  return value as string;
}

/**
 * One retried call to /secret/42?token=x under a caller span: two sibling CLIENT spans under it, one
 * traceparent per attempt carrying that attempt's span id, and nothing secret in any attribute.
 */
async function assertRetriedCallTraced(client: Client): Promise<void> {
  const server = await flakyServer();
  const group = new AddressGroup(`static://127.0.0.1:${server.port}`, { name: 'users' });
  const caller = provider.getTracer('spec').startSpan('caller');
  try {
    const res = await context.with(trace.setSpan(context.active(), caller), () =>
      client.get(group, '/secret/42?token=x', { retry: RETRY, headers: SECRET_HEADERS }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.attempts, 2);
    caller.end();

    const spans = clientSpans();
    assert.equal(spans.length, 2, 'one CLIENT span per attempt');
    const [first, second] = spans.sort(
      (a, b) => Number(a.attributes['rxhttp.attempt']) - Number(b.attributes['rxhttp.attempt']),
    ) as [ReadableSpan, ReadableSpan];
    for (const span of spans) {
      assert.equal(span.name, 'GET');
      assert.equal(span.spanContext().traceId, caller.spanContext().traceId);
      assert.equal(span.parentSpanContext?.spanId, caller.spanContext().spanId, 'siblings under the caller');
      assert.equal(span.attributes['http.request.method'], 'GET');
      assert.equal(span.attributes['server.address'], '127.0.0.1');
      assert.equal(span.attributes['server.port'], server.port);
      assert.equal(span.attributes['url.full'], `http://127.0.0.1:${server.port}/secret/{id}`);
      assert.equal(span.attributes['rxhttp.group'], 'users');
      assert.equal(span.attributes['rxhttp.breaker_key'], `127.0.0.1:${server.port}`);
    }
    assert.equal(first.attributes['http.response.status_code'], 503);
    assert.equal(first.attributes['error.type'], '503');
    assert.equal(first.status.code, SpanStatusCode.ERROR);
    assert.equal(first.attributes['http.request.resend_count'], undefined, 'not a resend');
    assert.equal(second.attributes['http.response.status_code'], 200);
    assert.equal(second.attributes['error.type'], undefined);
    assert.equal(second.status.code, SpanStatusCode.UNSET);
    assert.equal(second.attributes['http.request.resend_count'], 1);
    assert.equal(second.attributes['rxhttp.retry.reason'], '503');
    assert.deepEqual(
      second.events.map((e) => e.name),
      ['rxhttp.retry'],
    );

    assert.equal(server.seen.length, 2);
    for (const [i, span] of [first, second].entries()) {
      const { traceId, spanId } = span.spanContext();
      assert.equal(traceparentOf(server.seen[i]!), `00-${traceId}-${spanId}-01`);
    }
    const recorded = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events]));
    for (const s of SECRETS) assert.ok(!recorded.includes(s), `a span holds ${s}: ${recorded}`);
  } finally {
    await client.close();
    group.close();
    await server.close();
  }
}

describe('OpenTelemetry spans (real sdk-trace-base, in-memory exporter, async-hooks context)', () => {
  before(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  after(() => {
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it('a retried call: two sibling CLIENT spans under the caller, one traceparent per attempt, nothing secret', async () => {
    await assertRetriedCallTraced(new Client({ openTelemetry: { tracerProvider: provider } }));
  });

  it("a call's own traceparent is replaced by each attempt's: one header, the attempt's span", async () => {
    const server = await flakyServer();
    const client = new Client({ openTelemetry: { tracerProvider: provider } });
    const group = new AddressGroup(`static://127.0.0.1:${server.port}`);
    const stale = '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01';
    try {
      const res = await client.get(group, '/', {
        retry: RETRY,
        headers: { traceparent: stale, 'x-call': 'c' },
      });
      assert.equal(res.status, 200);
      const spans = clientSpans().sort(
        (a, b) => Number(a.attributes['rxhttp.attempt']) - Number(b.attributes['rxhttp.attempt']),
      );
      assert.equal(spans.length, 2);
      for (const [i, span] of spans.entries()) {
        const { traceId, spanId } = span.spanContext();
        assert.equal(traceparentOf(server.seen[i]!), `00-${traceId}-${spanId}-01`);
        assert.equal(server.seen[i]!['x-call'], 'c');
      }
    } finally {
      await client.close();
      group.close();
      await server.close();
    }
  });

  it('a hedged call: the hedge is a sibling CLIENT span with its resend count; the loser ends unset, no error', async () => {
    // Round robin puts the first attempt on the slow host; the hedge goes to the fast one and wins.
    const slow = await flakyServer('hang');
    const fast = await flakyServer();
    fast.seen.push({}); // past its one 503: every answer is a 200
    const group = new AddressGroup(`static://127.0.0.1:${slow.port},127.0.0.1:${fast.port}`, {
      name: 'users',
      loadBalancer: 'round-robin',
    });
    const client = new Client({ openTelemetry: { tracerProvider: provider }, retryBudget: false });
    const caller = provider.getTracer('spec').startSpan('caller');
    try {
      const hedge = { delay: 30, maxExtraLoad: 1 };
      let res = await context.with(trace.setSpan(context.active(), caller), () =>
        client.get(group, '/u', { hedge }),
      );
      // Round robin's first pick may be either host: call again until a call started on the slow one.
      for (let i = 0; i < 3 && res.attempts === 1; i++) {
        exporter.reset();
        res = await context.with(trace.setSpan(context.active(), caller), () =>
          client.get(group, '/u', { hedge }),
        );
      }
      caller.end();
      assert.equal(res.attempts, 2, 'the hedge answered');
      const spans = clientSpans().sort(
        (a, b) => Number(a.attributes['rxhttp.attempt']) - Number(b.attributes['rxhttp.attempt']),
      );
      assert.equal(spans.length, 2);
      const [loser, winner] = spans as [ReadableSpan, ReadableSpan];
      for (const span of spans)
        assert.equal(
          span.parentSpanContext?.spanId,
          caller.spanContext().spanId,
          'siblings under the caller',
        );
      assert.equal(loser.attributes['server.port'], slow.port);
      assert.equal(loser.status.code, SpanStatusCode.UNSET, 'a lost hedge is not an error');
      assert.equal(loser.attributes['error.type'], undefined);
      assert.equal(winner.attributes['server.port'], fast.port);
      assert.equal(winner.attributes['http.request.resend_count'], 1);
      assert.equal(winner.attributes['http.response.status_code'], 200);
      const { traceId, spanId } = winner.spanContext();
      assert.equal(traceparentOf(fast.seen.at(-1)!), `00-${traceId}-${spanId}-01`);
    } finally {
      await client.close();
      group.close();
      await slow.close();
      await fast.close();
    }
  });

  it('no span in scope: the attempts are siblings under one INTERNAL span of the call', async () => {
    const server = await flakyServer();
    const client = new Client({ openTelemetry: { tracerProvider: provider } });
    const group = new AddressGroup(`static://127.0.0.1:${server.port}`);
    try {
      assert.equal((await client.get(group, '/a', { retry: RETRY })).status, 200);
      const spans = exporter.getFinishedSpans();
      const root = spans.find((s) => s.kind === SpanKind.INTERNAL);
      assert.ok(root, 'a root span of the call');
      assert.equal(root.name, 'GET');
      assert.equal(root.parentSpanContext, undefined);
      assert.equal(root.attributes['rxhttp.attempts'], 2);
      const attempts = clientSpans();
      assert.equal(attempts.length, 2);
      for (const s of attempts) assert.equal(s.parentSpanContext?.spanId, root.spanContext().spanId);
    } finally {
      await client.close();
      group.close();
      await server.close();
    }
  });

  it('a transport failure is an Error span with error.type; a cancellation leaves the status unset', async () => {
    const refused = await flakyServer();
    const refusedPort = refused.port;
    await refused.close();
    const hang = await flakyServer('hang');
    const client = new Client({ openTelemetry: { tracerProvider: provider } });
    const dead = new AddressGroup(`static://127.0.0.1:${refusedPort}`);
    const slow = new AddressGroup(`static://127.0.0.1:${hang.port}`);
    try {
      await assert.rejects(client.get(dead, '/x'));
      const [failed] = clientSpans();
      assert.equal(failed?.status.code, SpanStatusCode.ERROR);
      assert.equal(typeof failed?.attributes['error.type'], 'string');
      assert.equal(failed?.attributes['http.response.status_code'], undefined);

      exporter.reset();
      const abort = new AbortController();
      const pending = client.get(slow, '/x', { signal: abort.signal });
      while (hang.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      abort.abort();
      await assert.rejects(pending);
      const [cancelled] = clientSpans();
      assert.ok(cancelled, 'the cancelled attempt has its span');
      assert.equal(cancelled.status.code, SpanStatusCode.UNSET);
      assert.equal(cancelled.attributes['error.type'], undefined);
      assert.deepEqual(
        cancelled.events.map((e) => e.name),
        ['rxhttp.cancelled'],
      );
    } finally {
      await client.close();
      dead.close();
      slow.close();
      await hang.close();
    }
  });

  it("with zipkin too: both tracers record the attempt, the server sees B3 (ours, not the call's) and traceparent", async () => {
    const server = await flakyServer();
    const zipkinRecords: unknown[] = [];
    const tracer = new ZipkinTracer({
      ctxImpl: new ExplicitContext(),
      recorder: { record: (r: unknown) => zipkinRecords.push(r) },
      localServiceName: 'spec',
    });
    const client = new Client({ tracer, openTelemetry: { tracerProvider: provider } });
    const group = new AddressGroup(`static://127.0.0.1:${server.port}`);
    try {
      // The call's own B3 header (any case) gives way to the attempt's: one x-b3-spanid, ours.
      const own = { 'X-B3-SpanId': 'ffffffffffffffff' };
      assert.equal((await client.get(group, '/a', { retry: RETRY, headers: own })).status, 200);
      assert.equal(clientSpans().length, 2);
      assert.ok(zipkinRecords.length > 0, 'zipkin recorded');
      for (const [i, headers] of server.seen.entries()) {
        assert.match(String(headers['x-b3-spanid']), /^[0-9a-f]{16}$/);
        assert.notEqual(headers['x-b3-spanid'], 'ffffffffffffffff');
        const { traceId, spanId } = clientSpans()[i]!.spanContext();
        assert.equal(traceparentOf(headers), `00-${traceId}-${spanId}-01`);
      }
    } finally {
      await client.close();
      group.close();
      await server.close();
    }
  });

  it('a configured propagator writes the headers: no traceparent unless it says so', async () => {
    const server = await flakyServer();
    const propagator = {
      inject(ctx: unknown, carrier: Record<string, string>) {
        carrier['x-span'] = trace.getSpanContext(ctx as never)?.spanId ?? '';
      },
      extract: (ctx: unknown) => ctx,
      fields: () => ['x-span'],
    };
    const client = new Client({ openTelemetry: { tracerProvider: provider, propagator } });
    const group = new AddressGroup(`static://127.0.0.1:${server.port}`);
    try {
      assert.equal((await client.get(group, '/a', { retry: RETRY })).status, 200);
      assert.equal(server.seen[0]?.['traceparent'], undefined);
      assert.equal(server.seen[1]?.['x-span'], clientSpans().at(-1)?.spanContext().spanId);
    } finally {
      await client.close();
      group.close();
      await server.close();
    }
  });

  it('openTelemetry: true takes the global tracer provider', async () => {
    trace.setGlobalTracerProvider(provider);
    try {
      await assertRetriedCallTraced(new Client({ openTelemetry: true }));
    } finally {
      trace.disable();
    }
  });

  it('no SDK yet (the API proxy, a no-op tracer): calls pass and send no traceparent; an SDK set later traces the next call', async () => {
    const server = await flakyServer();
    const proxy = new api.ProxyTracerProvider();
    const client = new Client({ openTelemetry: { tracerProvider: proxy } });
    const group = new AddressGroup(`static://127.0.0.1:${server.port}`);
    try {
      assert.equal((await client.get(group, '/a', { retry: RETRY })).status, 200);
      assert.equal(server.seen.length, 2);
      for (const headers of server.seen) assert.equal(headers['traceparent'], undefined);
      assert.equal(exporter.getFinishedSpans().length, 0);
      proxy.setDelegate(provider);
      assert.equal((await client.get(group, '/b')).status, 200);
      const [attempt] = clientSpans();
      const root = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.INTERNAL);
      assert.ok(attempt && root, 'an attempt span under a root span of the call');
      assert.equal(attempt.parentSpanContext?.spanId, root.spanContext().spanId);
      assert.equal(traceparentOf(server.seen[2]!).split('-')[2], attempt.spanContext().spanId);
    } finally {
      await client.close();
      group.close();
      await server.close();
    }
  });

  it('a fail-fast is a zero-length INTERNAL span rxhttp.fail-fast with error.type fail_fast', () => {
    const tracing = new Tracing(
      otelBackend({ api, tracer: provider.getTracer('rxhttp'), propagator: w3cTraceContext(api) }),
    );
    const events$ = new Subject<CallEvent>();
    const sub = tracing.attach(events$);
    const scoped = { time: 0, callId: 1, group: 'users', method: 'GET' };
    const caller = provider.getTracer('spec').startSpan('caller');
    context.with(trace.setSpan(context.active(), caller), () =>
      events$.next({ ...scoped, type: 'call-start', path: '/users/42?token=x' }),
    );
    events$.next({ ...scoped, type: 'fail-fast', attempt: 1 });
    events$.next({
      ...scoped,
      type: 'call-end',
      durationMs: 0,
      attempts: 0,
      errorCode: 'FAIL_FAST',
      outcome: 'error',
    });
    sub.unsubscribe();
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.name, 'rxhttp.fail-fast');
    assert.equal(span.kind, SpanKind.INTERNAL);
    assert.equal(span.parentSpanContext?.spanId, caller.spanContext().spanId);
    assert.equal(span.attributes['error.type'], 'fail_fast');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['url.template'], '/users/{id}');
    assert.equal(span.attributes['http.request.method'], 'GET');
  });

  it('a bad openTelemetry option is INVALID_ARGUMENT naming the field', () => {
    for (const [config, field] of [
      [false, 'openTelemetry'],
      [{ tracerProvider: {} }, 'openTelemetry.tracerProvider'],
      [{ meterProvider: 1 }, 'openTelemetry.meterProvider'],
      [{ propagator: null }, 'openTelemetry.propagator'],
      [{ tracer: provider }, 'openTelemetry.tracer'],
    ] as const) {
      assert.throws(
        () => new Client({ openTelemetry: config as never }),
        (e: { code?: string; field?: string }) => e.code === 'INVALID_ARGUMENT' && e.field === field,
        field,
      );
    }
  });
});

// instrumentation-undici 0.34 and later need Node 22.15; 0.33, the one installed, still runs on 20.

describe(
  'OpenTelemetry spans with the real @opentelemetry/instrumentation-undici registered',
  { skip: requireNode(20, 6, '@opentelemetry/instrumentation-undici') },
  () => {
    let instrumentation: UndiciInstrumentation;
    before(() => {
      context.setGlobalContextManager(contextManager.enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      instrumentation = new UndiciInstrumentation();
      instrumentation.setTracerProvider(provider);
      instrumentation.enable();
    });
    after(async () => {
      instrumentation.disable();
      propagation.disable();
      context.disable();
      await provider.shutdown();
    });
    beforeEach(() => exporter.reset());

    it('the instrumentation is live: a plain undici request gets its CLIENT span and traceparent', async () => {
      const server = await flakyServer();
      try {
        const res = await request(`http://127.0.0.1:${server.port}/plain`);
        await res.body.text();
        const spans = clientSpans();
        assert.equal(spans.length, 1);
        assert.equal(spans[0]?.instrumentationScope.name, '@opentelemetry/instrumentation-undici');
        assert.equal(traceparentOf(server.seen[0]!).split('-')[2], spans[0]?.spanContext().spanId);
      } finally {
        await server.close();
      }
    });

    it('a retried call: still one CLIENT span and one traceparent per attempt, ours', async () => {
      await assertRetriedCallTraced(new Client({ openTelemetry: { tracerProvider: provider } }));
      assert.ok(clientSpans().every((s) => s.instrumentationScope.name === 'rxhttp'));
    });

    it('the documented ignoreRequestHook alternative skips a request that carries a traceparent', async () => {
      const server = await flakyServer();
      instrumentation.setConfig({
        ignoreRequestHook: (req) =>
          (typeof req.headers === 'string' ? req.headers : req.headers.join('\n'))
            .toLowerCase()
            .includes('traceparent'),
      });
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      try {
        const res = await request(`http://127.0.0.1:${server.port}/`, { headers: { traceparent } });
        await res.body.text();
        assert.equal(clientSpans().length, 0, 'no span of the instrumentation');
        assert.equal(traceparentOf(server.seen[0]!), traceparent);
      } finally {
        instrumentation.setConfig({});
        await server.close();
      }
    });

    it('64 concurrent calls on 2 connections (queued in the pool): one span and one traceparent each', async () => {
      const server = await flakyServer();
      const client = new Client({ connections: 2, openTelemetry: { tracerProvider: provider } });
      const group = new AddressGroup(`static://127.0.0.1:${server.port}`);
      try {
        server.seen.push({}); // no 503 first: every request answers 200
        const calls = Array.from({ length: 64 }, () => client.get(group, '/a'));
        for (const res of await Promise.all(calls)) assert.equal(res.status, 200);
        const spans = clientSpans();
        assert.equal(spans.length, 64);
        assert.ok(spans.every((s) => s.instrumentationScope.name === 'rxhttp'));
        const ids = new Set(spans.map((s) => s.spanContext().spanId));
        const sent = server.seen.slice(1).map((h) => traceparentOf(h).split('-')[2] ?? '');
        assert.equal(sent.length, 64);
        for (const id of sent) assert.ok(ids.has(id), `traceparent of our span ${id}`);
      } finally {
        await client.close();
        group.close();
        await server.close();
      }
    });
  },
);
