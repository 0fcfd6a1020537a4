import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientHealth } from '../../lib/client/health.js';
import { errorColor, toDashboardView } from '../../lib/dashboard/view-model.js';

describe('errorColor (Hystrix scale)', () => {
  it('is green to 10 %, yellow at 25 %, orange at 40 %, red from 50 %, and blends between', () => {
    assert.equal(errorColor(0), '#008000');
    assert.equal(errorColor(10), '#008000');
    assert.equal(errorColor(25), '#ffcc00');
    assert.equal(errorColor(40), '#ff9900');
    assert.equal(errorColor(50), '#ff0000');
    assert.equal(errorColor(100), '#ff0000');
    assert.equal(errorColor(Number.NaN), '#008000');
    const mid = errorColor(17.5);
    assert.notEqual(mid, '#008000');
    assert.notEqual(mid, '#ffcc00');
  });
});

describe('toDashboardView', () => {
  it('rounds figures, keeps names raw, and turns breaker "since" into a duration', () => {
    const traffic = {
      callsPerSecond: 12.345,
      errorPercent: 33.333,
      latencyMs: { p50: 1.234, p90: 9.87, p99: 123.456 },
      retriesPerSecond: 0.25,
      failFastPerSecond: 0,
    };
    const health: ClientHealth = {
      time: 10_000,
      windowMs: 10_000,
      ...traffic,
      groups: [
        {
          name: '<b>x</b>',
          ...traffic,
          sparkline: [1.26, 0],
          hosts: [
            {
              address: { host: '127.0.0.1', port: 1 },
              key: '127.0.0.1:1',
              weight: 1,
              breaker: 'open',
              breakerSince: 7_500,
              failureRate: 0.6666,
              total: 12,
              inFlight: 2,
              latencyMs: 40.04,
              balancerCostMs: 40.04,
              attemptLatencyMs: { p50: 3.04, p90: 9, p99: 21.96 },
              breakerKeys: 3,
              openBreakers: 2,
              ok: 4,
              errors: 8,
              timeouts: 1,
            },
          ],
        },
      ],
    };
    const v = toDashboardView(health);
    assert.equal(v.callsPerSecond, 12.3);
    assert.equal(v.p99, 123.5);
    assert.equal(v.errorColor, errorColor(33.333));
    const g = v.groups[0]!;
    assert.equal(g.name, '<b>x</b>');
    assert.deepEqual(g.sparkline, [1.3, 0]);
    const h = g.hosts[0]!;
    assert.equal(h.breaker, 'open');
    assert.equal(h.breakerForMs, 2_500);
    assert.equal(h.failurePercent, 66.7);
    assert.deepEqual([h.p50, h.p99, h.balancerCostMs], [3, 22, 40], 'measured latency, and the cost apart');
    assert.deepEqual([h.breakerKeys, h.openBreakers], [3, 2]);
    assert.equal(h.errorColor, '#ff0000');
    assert.equal('healthCheck' in h, false, 'no health-check field for a group without health checks');
    assert.equal('bulkhead' in g, false);
    assert.doesNotThrow(() => JSON.stringify(v));

    const checked: ClientHealth = {
      ...health,
      groups: [
        {
          ...health.groups[0]!,
          hosts: [{ ...health.groups[0]!.hosts[0]!, healthCheck: 'failing' }],
          bulkhead: { active: 3, queued: 1, maxConcurrentCalls: 3, maxQueued: 5, overloaded: 7 },
        },
      ],
    };
    const cv = toDashboardView(checked).groups[0]!;
    assert.equal(cv.hosts[0]!.healthCheck, 'failing');
    assert.deepEqual(cv.bulkhead, {
      active: 3,
      queued: 1,
      maxConcurrentCalls: 3,
      maxQueued: 5,
      overloaded: 7,
    });
  });
});

describe('forced breakers on the dashboard', () => {
  it('a host row under a manual override carries it, and its label says "(forced)"', async () => {
    const { breakerLabel, groups } = await import('../../lib/dashboard/render.js');
    const host = {
      address: { host: '127.0.0.1', port: 2 },
      key: '127.0.0.1:2',
      weight: 1,
      breaker: 'open' as const,
      breakerSince: 1,
      breakerForced: 'open' as const,
      failureRate: 0,
      total: 0,
      inFlight: 0,
      latencyMs: 0,
      balancerCostMs: 0,
      attemptLatencyMs: { p50: 0, p90: 0, p99: 0 },
      breakerKeys: 1,
      openBreakers: 1,
      ok: 0,
      errors: 0,
      timeouts: 0,
    };
    const traffic = {
      callsPerSecond: 0,
      errorPercent: 0,
      latencyMs: { p50: 0, p90: 0, p99: 0 },
      retriesPerSecond: 0,
      failFastPerSecond: 0,
    };
    const v = toDashboardView({
      time: 2,
      windowMs: 10_000,
      ...traffic,
      groups: [{ name: 'g', ...traffic, sparkline: [], hosts: [host] }],
    });
    const h = v.groups[0]!.hosts[0]!;
    assert.equal(h.breakerForced, 'open');
    assert.equal(breakerLabel(h), 'open (forced)');
    assert.equal(
      breakerLabel({ ...h, breakerKeys: 3, breakerForced: 'closed', breaker: 'closed' }),
      'closed 1/3 (forced)',
    );
    assert.equal(breakerLabel({ breaker: 'open', breakerKeys: 1, openBreakers: 1 }), 'open');
    assert.match(groups(v), /data-forced="open"[^>]*>.*open \(forced\)/);
  });
});
