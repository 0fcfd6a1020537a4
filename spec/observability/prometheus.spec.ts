import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Subject, type Subscription } from 'rxjs';
import type { CallEvent } from '../../lib/events/events.js';
import { CircuitBreakers } from '../../lib/breaker/breakers.js';
import { resolveBreakerConfig } from '../../lib/breaker/config.js';
import { attachMetrics } from '../../lib/observability/metrics.js';
import {
  binaryRequirement,
  feedSampleWorkload,
  requireBinary,
  sampleSources,
  serveRegistry,
  startPrometheus,
  type PrometheusProcess,
  type Sample,
} from '../helpers/prometheus.js';

const prometheus = binaryRequirement('prometheus');

const only = (samples: Sample[]): number | undefined =>
  samples.length === 1 ? samples[0]?.value : undefined;

describe('a real Prometheus scraping the registry', { skip: prometheus.skip, timeout: 120_000 }, () => {
  let server: Awaited<ReturnType<typeof serveRegistry>> | undefined;
  let prom: PrometheusProcess | undefined;
  let sub: Subscription | undefined;

  before(async () => {
    const binary = requireBinary(prometheus, 'prometheus');
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    // The breaker series come from a real breaker registry deciding on the workload's own events
    // (Armeria's rule, one result enough here), not from hard-coded snapshots.
    const clock = { t: 0, now: () => clock.t, setTimer: () => () => undefined };
    const breakers = new CircuitBreakers(resolveBreakerConfig({ minimumRequestThreshold: 1 }), clock, (e) =>
      events$.next(e),
    );
    breakers.attach(events$);
    sub = attachMetrics(events$, registry, {
      breakerSnapshots: () => breakers.snapshots(),
      groupAddressCounts: sampleSources.groupAddressCounts,
    });
    feedSampleWorkload(events$, { transition: false });
    // 9001 failed (503) in the first bucket; a failure that closes the bucket makes the breaker decide.
    clock.t = 1_000;
    const probe = { time: 1_000, callId: 9, group: 'probe', method: 'GET', attempt: 1 };
    const at9001 = {
      address: { host: '127.0.0.1', port: 9001 },
      key: '127.0.0.1:9001',
      breakerKey: '127.0.0.1:9001',
    };
    events$.next({ ...probe, ...at9001, type: 'attempt-start', path: '/' });
    events$.next({
      ...probe,
      ...at9001,
      type: 'attempt-end',
      durationMs: 1,
      errorCode: 'RESET',
      cancelled: false,
      verdict: 'failure',
    });
    assert.equal(breakers.snapshots().get('127.0.0.1:9001')?.state, 'open', 'the breaker opened by itself');
    server = await serveRegistry(registry);
    prom = await startPrometheus(binary, server.target);
  });

  after(async () => {
    sub?.unsubscribe();
    await prom?.stop();
    await server?.close();
  });

  it('scrapes the target', async () => {
    assert.ok(prom);
    await prom.waitFor('up{job="rxhttp"}', (s) => only(s) === 1);
  });

  it('finds one attempt per try of the retried call in http_client_request_duration_seconds_count', async () => {
    assert.ok(prom);
    await prom.waitFor(
      'sum(http_client_request_duration_seconds_count{rxhttp_group="users"})',
      (s) => only(s) === 2,
    );
    const failed = await prom.waitFor(
      'http_client_request_duration_seconds_count{http_response_status_code="503"}',
      (s) => only(s) === 1,
    );
    assert.equal(failed[0]?.metric['error_type'], '503');
    assert.equal(failed[0]?.metric['server_address'], '127.0.0.1');
    assert.equal(failed[0]?.metric['server_port'], '9001');
    await prom.waitFor('rxhttp_retries_total{reason="503"}', (s) => only(s) === 1);
    await prom.waitFor('rxhttp_fail_fast_total', (s) => only(s) === 1);
  });

  it('finds the breaker state series: open for the failing host, closed for the other', async () => {
    assert.ok(prom);
    await prom.waitFor(
      'rxhttp_circuit_breaker_state{rxhttp_breaker_key="127.0.0.1:9001",state="open"}',
      (s) => only(s) === 1,
    );
    await prom.waitFor(
      'rxhttp_circuit_breaker_state{rxhttp_breaker_key="127.0.0.1:9001",state="closed"}',
      (s) => only(s) === 0,
    );
    await prom.waitFor(
      'rxhttp_circuit_breaker_state{rxhttp_breaker_key="127.0.0.1:9002",state="closed"}',
      (s) => only(s) === 1,
    );
    await prom.waitFor('count(rxhttp_circuit_breaker_state)', (s) => only(s) === 6);
    await prom.waitFor(
      'rxhttp_circuit_breaker_transitions_total{from="closed",to="open"}',
      (s) => only(s) === 1,
    );
  });

  it('holds no path or query in any label of any stored series', async () => {
    assert.ok(prom);
    const all = await prom.waitFor('{job="rxhttp"}', (s) => s.length > 0);
    for (const sample of all) {
      for (const value of Object.values(sample.metric)) {
        assert.ok(
          !value.includes('secret') && !value.includes('token') && !value.includes('?'),
          `label value ${value}`,
        );
      }
    }
  });
});
