import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { Subject } from 'rxjs';
import { Client } from '../../lib/client/client.js';
import { addressKey, type CallEvent } from '../../lib/events/events.js';
import { AddressGroup } from '../../lib/group/address-group.js';
import { attachOtelMetrics, HTTP_DURATION_BUCKETS } from '../../lib/observability/otel-metrics.js';

/** An in-memory reader: `collect()` on demand, nothing exported. */
class SpecReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  async metrics(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await this.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    return new Map(all.map((m) => [m.descriptor.name, m]));
  }
}

/** 503 to the first request, 200 after. */
async function flakyServer(): Promise<{ port: number; close(): Promise<void> }> {
  let seen = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(++seen === 1 ? 503 : 200).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('OpenTelemetry metrics (real sdk-metrics, in-memory reader)', () => {
  it("http.client.request.duration per attempt: seconds, the conventions' buckets and attributes", async () => {
    const server = await flakyServer();
    const reader = new SpecReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const client = new Client({ openTelemetry: { meterProvider } });
    const group = new AddressGroup(`static://127.0.0.1:${server.port}`, { name: 'users' });
    try {
      const res = await client.get(group, '/secret/42?token=x', {
        retry: { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' } },
        headers: { authorization: 'Bearer sekrit' },
      });
      assert.equal(res.status, 200);
      const metrics = await reader.metrics();

      const duration = metrics.get('http.client.request.duration') as HistogramMetricData | undefined;
      assert.ok(duration, 'the histogram is there');
      assert.equal(duration.dataPointType, DataPointType.HISTOGRAM);
      assert.equal(duration.descriptor.unit, 's');
      const server_ = { 'server.address': '127.0.0.1', 'server.port': server.port };
      const base = { 'http.request.method': 'GET', ...server_, 'url.scheme': 'http' };
      const points = duration.dataPoints.map((p) => p.attributes);
      assert.deepEqual(
        points.sort(
          (a, b) => Number(a['http.response.status_code']) - Number(b['http.response.status_code']),
        ),
        [
          { ...base, 'http.response.status_code': 200 },
          { ...base, 'http.response.status_code': 503, 'error.type': '503' },
        ],
      );
      for (const p of duration.dataPoints) {
        assert.deepEqual(p.value.buckets.boundaries, HTTP_DURATION_BUCKETS);
        assert.equal(p.value.count, 1);
        assert.ok(p.value.sum! > 0 && p.value.sum! < 10, `seconds, not ms: ${p.value.sum}`);
      }
      assert.deepEqual(
        HTTP_DURATION_BUCKETS,
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      );

      const active = metrics.get('http.client.active_requests') as SumMetricData | undefined;
      assert.equal(active?.descriptor.unit, '{request}');
      assert.equal(active?.isMonotonic, false);
      assert.deepEqual(
        active?.dataPoints.map((p) => [p.attributes, p.value]),
        [[base, 0]],
        'nothing in flight after the call',
      );

      const retries = metrics.get('rxhttp.retries') as SumMetricData | undefined;
      assert.deepEqual(
        retries?.dataPoints.map((p) => [p.attributes, p.value]),
        [[{ reason: '503', 'rxhttp.group': 'users' }, 1]],
      );
      const text = JSON.stringify([...metrics.values()].map((m) => m.dataPoints.map((p) => p.attributes)));
      for (const s of ['secret', 'token', 'sekrit', 'Bearer'])
        assert.ok(!text.includes(s), `a metric holds ${s}`);
    } finally {
      await client.close();
      group.close();
      await meterProvider.shutdown();
      await server.close();
    }
  });

  it('fail-fasts, budget refusals and breaker transitions are counted under rxhttp.*', async () => {
    const reader = new SpecReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const events$ = new Subject<CallEvent>();
    const sub = attachOtelMetrics(events$, meterProvider.getMeter('spec'));
    const scoped = { time: 0, callId: 9, group: 'users?token=x', method: 'POST' };
    events$.next({ ...scoped, type: 'fail-fast', attempt: 1 });
    events$.next({ ...scoped, type: 'fail-fast', attempt: 1 });
    events$.next({ ...scoped, type: 'retry-refused', attempt: 2, reason: 'budget' });
    events$.next({ ...scoped, type: 'retry-refused', attempt: 2, reason: 'deadline' });
    events$.next({
      type: 'breaker-transition',
      time: 0,
      breakerKey: '10.0.0.1:8080',
      from: 'closed',
      to: 'open',
    });
    const metrics = await reader.metrics();
    const points = (name: string) =>
      (metrics.get(name) as SumMetricData | undefined)?.dataPoints.map((p) => [p.attributes, p.value]);
    assert.deepEqual(points('rxhttp.fail_fast'), [[{ 'rxhttp.group': 'users' }, 2]]);
    assert.deepEqual(points('rxhttp.retry_budget.refusals'), [[{ 'rxhttp.group': 'users' }, 1]]);
    assert.deepEqual(points('rxhttp.breaker.transitions'), [[{ from: 'closed', to: 'open' }, 1]]);
    sub.unsubscribe();
    await meterProvider.shutdown();
  });

  it('unsubscribing takes back the attempts still counted as active', async () => {
    const reader = new SpecReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const events$ = new Subject<CallEvent>();
    const sub = attachOtelMetrics(events$, meterProvider.getMeter('spec'));
    const address = { host: '10.0.0.1', port: 8080 };
    events$.next({
      type: 'attempt-start',
      time: 0,
      callId: 1,
      group: 'users',
      method: 'GET',
      attempt: 1,
      address,
      key: addressKey(address),
      breakerKey: '10.0.0.1:8080',
      path: '/a',
    });
    const active = async () =>
      ((await reader.metrics()).get('http.client.active_requests') as SumMetricData).dataPoints[0]?.value;
    assert.equal(await active(), 1);
    sub.unsubscribe();
    assert.equal(await active(), 0);
    await meterProvider.shutdown();
  });
});
