import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { BehaviorSubject } from 'rxjs';
import zipkin from 'zipkin';
import { AddressGroup, Client, registerResolver, type Address, type CallEvent } from '../../lib/index.js';
import type { AttemptEndEvent, CallEndEvent } from '../../lib/events/events.js';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { expectCode, withFaultClient } from '../helpers/fault-harness.js';
import { startBackend, type Backend } from '../helpers/loopback.js';
import type { JsonSpan } from '../helpers/zipkin-collector.js';

// A streamed response is emitted at its headers, but its attempt (and its call) end with its body:
// a body that fails after the headers is the attempt's outcome on events$, for the breaker, the
// balancers' statistics, metrics and spans, and the call's deadline runs until the body ends.

let server: FaultServer;
let chunked: Backend;
before(async () => {
  server = await startFaultServer();
  // 4 chunks of 600 bytes, no content-length: only counting the bytes can find the limit.
  chunked = await startBackend((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let sent = 0;
    const write = (): void => {
      if (res.destroyed) return;
      if (sent++ === 4) return void res.end();
      res.write(Buffer.alloc(600, 0x61));
      setTimeout(write, 20);
    };
    write();
  });
});
after(async () => {
  await server.stop();
  await chunked.close();
});

/** Reads the whole body; resolves with the bytes read and the error it threw, if any. */
async function drain(body: AsyncIterable<Uint8Array>): Promise<{ bytes: number; error: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of body) bytes += chunk.length;
  } catch (error) {
    return { bytes, error };
  }
  return { bytes, error: undefined };
}

function attemptEnds(events: readonly CallEvent[]): AttemptEndEvent[] {
  return events.filter((e): e is AttemptEndEvent => e.type === 'attempt-end');
}

function callEnds(events: readonly CallEvent[]): CallEndEvent[] {
  return events.filter((e): e is CallEndEvent => e.type === 'call-end');
}

/** Polls `check` every 20 ms for up to `ms`. */
async function eventually(check: () => Promise<boolean> | boolean, ms = 3_000): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe("responseType 'stream': the body's end is the attempt's outcome", () => {
  it('a body reset after the headers: RESET on the stream, a failed attempt on events$ and in the breaker', async () => {
    const breaker = { minimumRequestThreshold: 2, counterUpdateInterval: 1, counterSlidingWindow: 10_000 };
    await withFaultClient(server.hostPort, { circuitBreaker: breaker }, async ({ client, group, events }) => {
      for (let i = 0; i < 3; i++) {
        const res = await client.get(group, '/reset-mid-body', { responseType: 'stream' });
        assert.equal(res.status, 200, 'the response is emitted at its headers');
        const { error } = await drain(res.body);
        await expectCode(Promise.reject(error), 'RESET');
        await new Promise((r) => setTimeout(r, 5)); // the breaker's 1 ms bucket closes
      }
      const ends = attemptEnds(events);
      assert.equal(ends.length, 3, 'one attempt-end per attempt, at the end of its body');
      for (const e of ends) {
        assert.equal(e.status, 200);
        assert.equal(e.errorCode, 'RESET');
        assert.equal(e.verdict, 'failure');
        assert.equal(e.cancelled, false);
      }
      for (const e of callEnds(events)) {
        assert.equal(e.outcome, 'error');
        assert.equal(e.errorCode, 'RESET');
      }
      assert.ok(
        events.some((e) => e.type === 'breaker-transition' && e.to === 'open'),
        'the breaker opened on the failed bodies',
      );
      await expectCode(client.get(group, '/ok'), 'FAIL_FAST');
    });
  });

  it('a body reset after the headers is the attempt outcome in metrics and in its span', async () => {
    const registry = new Registry();
    const spans: JsonSpan[] = [];
    const recorder = new zipkin.BatchRecorder({
      logger: {
        logSpan: (span) => spans.push(JSON.parse(zipkin.jsonEncoder.JSON_V2.encode(span)) as JsonSpan),
      },
    });
    const tracer = new zipkin.Tracer({
      ctxImpl: new zipkin.ExplicitContext(),
      recorder,
      sampler: new zipkin.sampler.Sampler(zipkin.sampler.alwaysSample),
      localServiceName: 'spec-client',
    });
    await withFaultClient(server.hostPort, { metrics: { registry }, tracer }, async ({ client, group }) => {
      const res = await client.get(group, '/reset-mid-body', { responseType: 'stream' });
      await expectCode(
        drain(res.body).then(({ error }) => Promise.reject(error)),
        'RESET',
      );
      const text = await registry.metrics();
      assert.match(
        text,
        /http_client_request_duration_seconds_count\{[^}]*http_response_status_code="200",error_type="reset",url_scheme="http"[^}]*\} 1/,
      );
      const span = spans.find((x) => x.kind === 'CLIENT');
      assert.equal(span?.tags?.['http.status_code'], '200');
      assert.equal(span?.tags?.['error'], 'reset');
    });
  });

  it('a body that goes idle past bodyTimeout: TIMEOUT phase body on the stream and as the attempt outcome', async () => {
    await withFaultClient(server.hostPort, { bodyTimeout: 300 }, async ({ client, group, events }) => {
      const res = await client.get(group, '/trickle?every=1000&bytes=5', { responseType: 'stream' });
      const { error } = await drain(res.body);
      await expectCode(Promise.reject(error), 'TIMEOUT', 'body');
      const [end] = attemptEnds(events);
      assert.equal(end?.errorCode, 'TIMEOUT');
      assert.equal(end?.timeoutPhase, 'body');
      assert.equal(end?.status, 200);
      assert.ok(end !== undefined && end.durationMs >= 250, `ended with the body (${end?.durationMs} ms)`);
    });
  });

  it('a reader that falls behind is not a body-idle timeout: the host is not blamed for backpressure', async () => {
    const big = await startBackend((_req, res) => res.end(Buffer.alloc(1024 * 1024, 0x62)));
    try {
      await withFaultClient(big.hostPort, { bodyTimeout: 300 }, async ({ client, group, events }) => {
        const res = await client.get(group, '/', { responseType: 'stream' });
        await new Promise((r) => setTimeout(r, 900)); // the reader is busy elsewhere; the socket waits
        const { bytes, error } = await drain(res.body);
        assert.equal(error, undefined);
        assert.equal(bytes, 1024 * 1024);
        const [end] = attemptEnds(events);
        assert.equal(end?.errorCode, undefined);
        assert.equal(end?.status, 200);
      });
    } finally {
      await big.close();
    }
  });

  it('maxResponseBytes exceeded mid-stream: RESPONSE_TOO_LARGE on the stream and as the attempt outcome', async () => {
    await withFaultClient(chunked.hostPort, {}, async ({ client, group, events }) => {
      const res = await client.get(group, '/', { responseType: 'stream', maxResponseBytes: 1_000 });
      const { bytes, error } = await drain(res.body);
      await expectCode(Promise.reject(error), 'RESPONSE_TOO_LARGE');
      assert.ok(bytes <= 1_000, `no more than the limit reached the reader (${bytes})`);
      const [end] = attemptEnds(events);
      assert.equal(end?.errorCode, 'RESPONSE_TOO_LARGE');
      assert.equal(end?.status, 200);
      assert.equal(callEnds(events)[0]?.errorCode, 'RESPONSE_TOO_LARGE');
    });
    await withFaultClient(server.hostPort, {}, async ({ client, group }) => {
      // A content-length past the limit is refused at the headers, as for a buffered body.
      const call = client.get(group, '/trickle?every=10&bytes=5000', {
        responseType: 'stream',
        maxResponseBytes: 1_000,
      });
      await expectCode(call, 'RESPONSE_TOO_LARGE');
    });
  });

  it("an aborted signal ends a streamed body too (as fetch's does): ABORTED for its reader, a cancelled attempt", async () => {
    await withFaultClient(server.hostPort, {}, async ({ client, group, events }) => {
      const controller = new AbortController();
      const res = await client.get(group, '/trickle?every=20&bytes=100000', {
        responseType: 'stream',
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 200);
      const started = performance.now();
      let error: unknown;
      try {
        for await (const _ of res.body) if (performance.now() - started > 3_000) break;
      } catch (e) {
        error = e;
      }
      await expectCode(Promise.reject(error ?? new Error('the body outlived its signal')), 'ABORTED');
      const [end] = attemptEnds(events);
      assert.equal(end?.cancelled, true);
      assert.equal(end?.verdict, 'ignored');
    });
  });

  it('a streamed body within the limit ends its attempt with its status when the last byte comes', async () => {
    await withFaultClient(chunked.hostPort, {}, async ({ client, group, events }) => {
      const res = await client.get(group, '/', { responseType: 'stream' });
      assert.equal(attemptEnds(events).length, 0, 'the attempt is still open at headers');
      const { bytes, error } = await drain(res.body);
      assert.equal(error, undefined);
      assert.equal(bytes, 2_400);
      const [end] = attemptEnds(events);
      assert.equal(end?.status, 200);
      assert.equal(end?.errorCode, undefined);
      assert.equal(end?.verdict, 'ignored'); // breakers are off in this harness
      assert.ok(end?.headersMs !== undefined && end.headersMs <= end.durationMs, 'time to headers kept');
      assert.equal(callEnds(events)[0]?.outcome, 'ok');
    });
  });

  it("the call's deadline fires mid-body: TIMEOUT phase call; deadlineCoversBody: false stops it at headers", async () => {
    await withFaultClient(server.hostPort, { requestTimeout: 800 }, async ({ client, group, events }) => {
      const res = await client.get(group, '/trickle?every=50&bytes=100000', { responseType: 'stream' });
      const started = performance.now();
      let bytes = 0;
      let error: unknown;
      try {
        for await (const chunk of res.body) {
          bytes += chunk.length;
          if (performance.now() - started > 4_000) break; // bound for a deadline that never fires
        }
      } catch (e) {
        error = e;
      }
      await expectCode(
        Promise.reject(error ?? new Error(`no deadline after ${bytes} bytes`)),
        'TIMEOUT',
        'call',
      );
      const [end] = attemptEnds(events);
      assert.equal(end?.errorCode, 'TIMEOUT');
      assert.equal(end?.timeoutPhase, 'call');
      assert.equal(callEnds(events)[0]?.errorCode, 'TIMEOUT');

      const untimed = await client.get(group, '/trickle?every=50&bytes=100000', {
        responseType: 'stream',
        deadlineCoversBody: false,
      });
      const t0 = performance.now();
      let late = 0;
      for await (const chunk of untimed.body) {
        if (performance.now() - t0 > 1_000) late += chunk.length;
        if (performance.now() - t0 > 1_300) break; // past the 800 ms deadline
      }
      assert.ok(late > 0, 'bytes still came after the deadline');
      const last = attemptEnds(events).at(-1);
      assert.equal(last?.errorCode, undefined, 'the reader stopped it: not an error');
    });
  });

  it('an unread stream is released by client.close(), even on a pool its host left', async () => {
    const probe = { trickling: async () => (await server.stats()).listeners[0]!.trickling };
    // Plain case: the stream's pool is still the client's.
    const client = new Client({ circuitBreaker: false, requestTimeout: 60_000 });
    const group = new AddressGroup(`static://${server.hostPort}`);
    const events: CallEvent[] = [];
    client.events$.subscribe((e) => events.push(e));
    await client.get(group, '/trickle?every=50&bytes=100000', { responseType: 'stream' });
    assert.ok(await eventually(async () => (await probe.trickling()) === 1), 'the server is sending');
    await client.close();
    group.close();
    assert.ok(
      await eventually(async () => (await probe.trickling()) === 0),
      'the server saw its socket closed',
    );
    const [end] = attemptEnds(events);
    assert.equal(end?.cancelled, true, 'close() ends the attempt as a cancellation');
    assert.equal(callEnds(events)[0]?.outcome, 'cancelled');

    // The host left the group while its body streamed: its pool was closed gracefully and dropped.
    const all: Address = { host: '127.0.0.1', port: server.ports[0]! };
    const lists = new BehaviorSubject<readonly Address[]>([all]);
    registerResolver({ scheme: 'streamleft', resolve: () => lists.asObservable() });
    const client2 = new Client({ circuitBreaker: false, requestTimeout: 60_000 });
    const group2 = new AddressGroup('streamleft://backend');
    await client2.get(group2, '/trickle?every=50&bytes=100000', { responseType: 'stream' });
    assert.ok(await eventually(async () => (await probe.trickling()) === 1), 'the server is sending');
    lists.next([{ host: '127.0.0.2', port: 9 }]);
    await client2.close();
    group2.close();
    assert.ok(
      await eventually(async () => (await probe.trickling()) === 0),
      'close() released the stream on the pool the host left',
    );
  });
});
