import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { AddressGroup, Client, FailFastError, type XResponse } from '../../lib/index.js';
import {
  binaryRequirement,
  requireBinary,
  serveRegistry,
  startPrometheus,
  type PrometheusProcess,
  type Sample,
} from '../helpers/prometheus.js';
import { startBackend, type Backend } from '../helpers/loopback.js';

const prometheus = binaryRequirement('prometheus');
const only = (samples: Sample[]): number | undefined =>
  samples.length === 1 ? samples[0]?.value : undefined;

// Issue 7, must-show 1: the series come from real calls through a real Client — a call retried
// from a failing host to a healthy one, and a host whose breaker opened — scraped by a real Prometheus.
describe('a real Prometheus scraping a real client', { skip: prometheus.skip, timeout: 120_000 }, () => {
  let server: Awaited<ReturnType<typeof serveRegistry>> | undefined;
  let prom: PrometheusProcess | undefined;
  let client: Client | undefined;
  let good: Backend, bad: Backend;
  const groups: AddressGroup[] = [];

  before(async () => {
    const binary = requireBinary(prometheus, 'prometheus');
    good = await startBackend((_req, res) => res.end('ok'));
    bad = await startBackend((_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    const registry = new Registry();
    client = new Client({
      metrics: { registry },
      retryBudget: false,
      circuitBreaker: {
        counterUpdateInterval: 50,
        counterSlidingWindow: 2_000,
        minimumRequestThreshold: 5,
        circuitOpenWindow: 600_000,
      },
    });
    // The retried call: the bad host first (round robin from a fixed list), then the good one.
    const both = new AddressGroup(`static://${bad.hostPort},${good.hostPort}`, {
      name: 'both',
      loadBalancer: 'round-robin',
    });
    // The bad host alone, until its breaker opens and calls fail fast.
    const badOnly = new AddressGroup(`static://${bad.hostPort}`, { name: 'bad-only' });
    groups.push(both, badOnly);
    let retried = false;
    for (let i = 0; i < 4 && !retried; i++) {
      const res: XResponse = await client.get(both, '/users/42?token=x', {
        retry: { maxAttempts: 2, backoff: { initialDelay: 1 } },
      });
      assert.equal(res.status, 200);
      retried = res.attempts === 2;
    }
    assert.ok(retried, 'a call was retried from the failing host to the healthy one');
    let failedFast = false;
    for (let i = 0; i < 100 && !failedFast; i++) {
      try {
        await client.get(badOnly, '/');
        await new Promise((r) => setTimeout(r, 10));
      } catch (e) {
        failedFast = e instanceof FailFastError;
      }
    }
    assert.ok(failedFast, "the failing host's breaker opened");
    server = await serveRegistry(registry);
    prom = await startPrometheus(binary, server.target);
  });

  after(async () => {
    await prom?.stop();
    await server?.close();
    await client?.close();
    for (const g of groups) g.close();
    await Promise.all([good?.close(), bad?.close()]);
  });

  it('has the retried attempts in http_client_request_duration_seconds_count', async () => {
    assert.ok(prom);
    const ok = await prom.waitFor(
      `http_client_request_duration_seconds_count{rxhttp_group="both",http_response_status_code="200"}`,
      (s) => (only(s) ?? 0) >= 1,
    );
    assert.equal(ok[0]?.metric['server_port'], String(good.port));
    await prom.waitFor(
      `http_client_request_duration_seconds_count{rxhttp_group="both",http_response_status_code="503"}`,
      (s) => (only(s) ?? 0) >= 1,
    );
    await prom.waitFor('sum(rxhttp_retries_total)', (s) => (only(s) ?? 0) >= 1);
  });

  it("shows the failing host's breaker open and the healthy one's closed", async () => {
    assert.ok(prom);
    await prom.waitFor(
      `rxhttp_circuit_breaker_state{rxhttp_breaker_key="${bad.hostPort}",state="open"}`,
      (s) => only(s) === 1,
    );
    await prom.waitFor(
      `rxhttp_circuit_breaker_state{rxhttp_breaker_key="${good.hostPort}",state="closed"}`,
      (s) => only(s) === 1,
    );
    await prom.waitFor('sum(rxhttp_fail_fast_total)', (s) => (only(s) ?? 0) >= 1);
  });

  it('has no path or query in any label', async () => {
    assert.ok(prom);
    const all = await prom.waitFor('{__name__=~"http_client.*|rxhttp_.*"}', (s) => s.length > 0);
    for (const sample of all)
      for (const value of Object.values(sample.metric))
        assert.ok(!value.includes('/users') && !value.includes('token'), `label value ${value}`);
  });
});
