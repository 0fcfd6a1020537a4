import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry, register as globalRegistry } from 'prom-client';
import { Subject } from 'rxjs';
import { isXhttpError } from '../../lib/errors.js';
import type { AttemptEndEvent, AttemptStartEvent, CallEvent } from '../../lib/events/events.js';
import { attachMetrics, type MetricSources } from '../../lib/observability/metrics.js';
import type { BreakerSnapshot } from '../../lib/types.js';

const noSources: MetricSources = { breakerSnapshots: () => new Map(), groupAddressCounts: () => new Map() };

function snapshot(state: BreakerSnapshot['state']): BreakerSnapshot {
  return { state, failureRate: state === 'open' ? 1 : 0, total: 10, since: 0 };
}

interface AttemptSpec {
  callId: number;
  attempt?: number;
  host?: string;
  port?: number;
  method?: string;
  group?: string;
  path?: string;
  breakerKey?: string;
  scheme?: 'http' | 'https';
}

function start(a: AttemptSpec): AttemptStartEvent {
  const host = a.host ?? '10.0.0.1';
  const port = a.port ?? 8080;
  return {
    type: 'attempt-start',
    time: 0,
    callId: a.callId,
    group: a.group ?? 'users',
    method: a.method ?? 'GET',
    attempt: a.attempt ?? 1,
    address: { host, port },
    key: `${host}:${port}`,
    breakerKey: a.breakerKey ?? `${host}:${port}`,
    path: a.path ?? '/users',
    ...(a.scheme === undefined ? {} : { scheme: a.scheme }),
  };
}

function end(
  a: AttemptSpec,
  result: {
    status?: number;
    errorCode?: AttemptEndEvent['errorCode'];
    cancelled?: boolean;
    durationMs?: number;
  },
): AttemptEndEvent {
  const s = start(a);
  return {
    type: 'attempt-end',
    time: 0,
    callId: s.callId,
    group: s.group,
    method: s.method,
    attempt: s.attempt,
    address: s.address,
    key: s.key,
    breakerKey: s.breakerKey,
    durationMs: result.durationMs ?? 20,
    ...(result.status === undefined ? {} : { status: result.status }),
    ...(result.errorCode === undefined ? {} : { errorCode: result.errorCode }),
    cancelled: result.cancelled ?? false,
    verdict: result.cancelled === true ? 'ignored' : 'success',
    ...(s.scheme === undefined ? {} : { scheme: s.scheme }),
  };
}

/** The value of one series; `suffix` picks `_count`/`_sum`/`_bucket` of a histogram. */
async function valueOf(
  registry: Registry,
  name: string,
  labels: Record<string, string | number>,
  suffix = '',
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} exists`);
  const values = (await metric.get()).values as { value: number; labels: object; metricName?: string }[];
  const hit = values.find(
    (v) =>
      (suffix === ''
        ? v.metricName === undefined || v.metricName === name
        : v.metricName === name + suffix) &&
      Object.entries(labels).every(
        ([k, val]) => String((v.labels as Record<string, unknown>)[k]) === String(val),
      ),
  );
  return hit?.value;
}

async function seriesCount(registry: Registry): Promise<number> {
  const json = await registry.getMetricsAsJSON();
  return json.reduce((n, m) => n + (m as unknown as { values: unknown[] }).values.length, 0);
}

async function allLabelValues(registry: Registry): Promise<string[]> {
  const json = await registry.getMetricsAsJSON();
  return json.flatMap((m) =>
    (m as unknown as { values: { labels: Record<string, unknown> }[] }).values.flatMap((v) =>
      Object.values(v.labels).map(String),
    ),
  );
}

describe('attachMetrics', () => {
  it('records a retried call: attempts, statuses, error types, retries and call duration', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    const a1 = { callId: 1, attempt: 1 };
    const a2 = { callId: 1, attempt: 2, host: '10.0.0.2' };

    events$.next({ type: 'call-start', time: 0, callId: 1, group: 'users', method: 'GET', path: '/users' });
    events$.next(start(a1));
    assert.equal(await valueOf(registry, 'http_client_active_requests', { server_address: '10.0.0.1' }), 1);
    events$.next(end(a1, { status: 503, durationMs: 30 }));
    events$.next({
      type: 'retry-scheduled',
      time: 0,
      callId: 1,
      group: 'users',
      method: 'GET',
      attempt: 2,
      delayMs: 100,
      delayReason: 'backoff',
      reason: '503',
    });
    events$.next(start(a2));
    events$.next(end(a2, { status: 200, durationMs: 8 }));
    events$.next({
      type: 'call-end',
      time: 0,
      callId: 1,
      group: 'users',
      method: 'GET',
      durationMs: 140,
      attempts: 2,
      status: 200,
      outcome: 'ok',
    });

    const name = 'http_client_request_duration_seconds';
    const first = {
      http_request_method: 'GET',
      server_address: '10.0.0.1',
      server_port: '8080',
      http_response_status_code: '503',
      error_type: '503',
      url_scheme: 'http',
      rxhttp_group: 'users',
    };
    assert.equal(await valueOf(registry, name, first, '_count'), 1);
    assert.equal(await valueOf(registry, name, first, '_sum'), 0.03);
    assert.equal(await valueOf(registry, name, { ...first, le: 0.05 }, '_bucket'), 1);
    assert.equal(await valueOf(registry, name, { ...first, le: 0.025 }, '_bucket'), 0);
    const second = { ...first, server_address: '10.0.0.2', http_response_status_code: '200', error_type: '' };
    assert.equal(await valueOf(registry, name, second, '_count'), 1);
    assert.equal(await valueOf(registry, 'http_client_active_requests', { server_address: '10.0.0.1' }), 0);
    assert.equal(await valueOf(registry, 'http_client_active_requests', { server_address: '10.0.0.2' }), 0);
    assert.equal(
      await valueOf(registry, 'rxhttp_retries_total', { reason: '503', rxhttp_group: 'users' }),
      1,
    );
    const call = { outcome: 'ok', http_request_method: 'GET', rxhttp_group: 'users' };
    assert.equal(await valueOf(registry, 'rxhttp_call_duration_seconds', call, '_count'), 1);
    assert.equal(await valueOf(registry, 'rxhttp_call_duration_seconds', { ...call, le: 30 }, '_bucket'), 1);
    sub.unsubscribe();
  });

  it('uses OpenTelemetry buckets and names error types in lower case; unknown methods are _OTHER', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    events$.next(start({ callId: 1, method: 'PURGE' }));
    events$.next(end({ callId: 1, method: 'PURGE' }, { errorCode: 'TIMEOUT', durationMs: 10_000 }));

    const text = await registry.metrics();
    assert.ok(text.includes('http_request_method="_OTHER"'));
    assert.ok(text.includes('error_type="timeout"'));
    const buckets = text
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('http_client_request_duration_seconds_bucket{') &&
          line.includes('error_type="timeout"'),
      )
      .map((line) => /le="([^"]+)"/.exec(line)?.[1]);
    assert.deepEqual(buckets, [
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.075',
      '0.1',
      '0.25',
      '0.5',
      '0.75',
      '1',
      '2.5',
      '5',
      '7.5',
      '10',
      '+Inf',
    ]);
    sub.unsubscribe();
  });

  it('labels error_type as OpenTelemetry says: 4xx and 5xx by status, failures by code, none for cancellations', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    const results: [Parameters<typeof end>[1], string, string][] = [
      [{ status: 200 }, '200', ''],
      [{ status: 302 }, '302', ''],
      [{ status: 404 }, '404', '404'],
      [{ status: 429 }, '429', '429'],
      [{ status: 503 }, '503', '503'],
      [{ errorCode: 'CONNECT' }, '', 'connect'],
      [{ errorCode: 'RESPONSE_TOO_LARGE' }, '', 'response_too_large'],
      // A streamed body that failed after its headers: the failure, beside the status it had.
      [{ status: 200, errorCode: 'RESET' }, '200', 'reset'],
      // Cancelled, before or after a response, by code or by flag: not an error.
      [{ cancelled: true }, '', ''],
      [{ cancelled: true, status: 200 }, '200', ''],
      [{ cancelled: true, errorCode: 'ABORTED' }, '', ''],
    ];
    results.forEach(([result], i) => {
      const a = { callId: i + 1, host: `10.0.1.${i}` };
      events$.next(start(a));
      events$.next(end(a, result));
    });
    const name = 'http_client_request_duration_seconds';
    for (const [i, [result, status, errorType]] of results.entries()) {
      const labels = {
        server_address: `10.0.1.${i}`,
        http_response_status_code: status,
        error_type: errorType,
      };
      assert.equal(await valueOf(registry, name, labels, '_count'), 1, JSON.stringify(result));
    }
    sub.unsubscribe();
  });

  it('labels url_scheme on attempts and in-flight requests, from the event (http when absent)', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    const secure = { callId: 1, host: '10.0.2.1', scheme: 'https' as const };
    const plain = { callId: 2, host: '10.0.2.2' };
    events$.next(start(secure));
    events$.next(start(plain));
    const active = 'http_client_active_requests';
    assert.equal(await valueOf(registry, active, { server_address: '10.0.2.1', url_scheme: 'https' }), 1);
    assert.equal(await valueOf(registry, active, { server_address: '10.0.2.2', url_scheme: 'http' }), 1);
    events$.next(end(secure, { status: 200 }));
    events$.next(end(plain, { status: 200 }));
    const name = 'http_client_request_duration_seconds';
    assert.equal(
      await valueOf(registry, name, { server_address: '10.0.2.1', url_scheme: 'https' }, '_count'),
      1,
    );
    assert.equal(
      await valueOf(registry, name, { server_address: '10.0.2.2', url_scheme: 'http' }, '_count'),
      1,
    );
    const help = (registry.getSingleMetric(name) as unknown as { help: string }).help;
    assert.match(help, /rxhttp_group .* is an rxhttp label/);
    sub.unsubscribe();
  });

  it('counts fail-fasts, budget refusals, breaker transitions and resolver errors', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    const scoped = { time: 0, callId: 9, group: 'users', method: 'POST' };
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
    events$.next({ type: 'resolver-error', time: 0, group: 'users', errorCode: 'ENOTFOUND', message: 'x' });

    assert.equal(await valueOf(registry, 'rxhttp_fail_fast_total', { rxhttp_group: 'users' }), 2);
    assert.equal(await valueOf(registry, 'rxhttp_retry_budget_refusals_total', { rxhttp_group: 'users' }), 1);
    assert.equal(
      await valueOf(registry, 'rxhttp_circuit_breaker_transitions_total', { from: 'closed', to: 'open' }),
      1,
    );
    assert.equal(await valueOf(registry, 'rxhttp_resolver_errors_total', { rxhttp_group: 'users' }), 1);
    sub.unsubscribe();
  });

  it('a hedged call: two attempts in flight at once on the active gauge, a hedge counted, the loser not an error', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    const first = { callId: 5, attempt: 1 };
    const hedge = { callId: 5, attempt: 2, host: '10.0.0.2' };
    events$.next(start(first));
    events$.next({ ...start(hedge), hedge: true, hedgeDelayMs: 10 });
    const active = (host: string) =>
      valueOf(registry, 'http_client_active_requests', { server_address: host, http_request_method: 'GET' });
    assert.equal(await active('10.0.0.1'), 1);
    assert.equal(await active('10.0.0.2'), 1, 'both attempts of the call counted in flight');
    events$.next(end(hedge, { status: 200 }));
    events$.next({ ...end(first, { cancelled: true }), lostTo: 2 });
    assert.equal(await active('10.0.0.1'), 0);
    assert.equal(await active('10.0.0.2'), 0);
    assert.equal(await valueOf(registry, 'rxhttp_hedges_total', { rxhttp_group: 'users' }), 1);
    events$.next({
      time: 0,
      callId: 6,
      group: 'users',
      method: 'GET',
      type: 'hedge-refused',
      attempt: 2,
      reason: 'budget',
    });
    assert.equal(
      await valueOf(registry, 'rxhttp_hedge_refusals_total', { rxhttp_group: 'users', reason: 'budget' }),
      1,
    );
    assert.equal(
      await valueOf(
        registry,
        'http_client_request_duration_seconds',
        { server_address: '10.0.0.1', error_type: '' },
        '_count',
      ),
      1,
      'the loser is a sample without error_type',
    );
    sub.unsubscribe();
  });

  it('reports one breaker-state series per key and state, read at scrape time', async () => {
    const registry = new Registry();
    let breakers = new Map<string, BreakerSnapshot>([
      ['10.0.0.1:8080', snapshot('open')],
      ['10.0.0.2:8080', snapshot('closed')],
      ['api:443/users/42?token=x', snapshot('half-open')],
    ]);
    const sub = attachMetrics(new Subject<CallEvent>(), registry, {
      breakerSnapshots: () => breakers,
      groupAddressCounts: () => new Map([['users', 2]]),
    });
    const name = 'rxhttp_circuit_breaker_state';
    for (const [key, state, value] of [
      ['10.0.0.1:8080', 'open', 1],
      ['10.0.0.1:8080', 'closed', 0],
      ['10.0.0.1:8080', 'half-open', 0],
      ['10.0.0.2:8080', 'closed', 1],
      ['10.0.0.2:8080', 'open', 0],
      ['api:443/*', 'half-open', 1],
      ['api:443/*', 'open', 0],
    ] as const) {
      assert.equal(
        await valueOf(registry, name, { rxhttp_breaker_key: key, state }),
        value,
        `${key} ${state}`,
      );
    }
    assert.equal(await valueOf(registry, 'rxhttp_group_addresses', { rxhttp_group: 'users' }), 2);
    const text = await registry.metrics();
    assert.ok(!text.includes('token'), 'no query in a breaker-key label');
    assert.ok(!text.includes('/users/42'), 'no path in a breaker-key label');

    breakers = new Map([['10.0.0.1:8080', snapshot('half-open')]]);
    assert.equal(
      await valueOf(registry, name, { rxhttp_breaker_key: '10.0.0.1:8080', state: 'half-open' }),
      1,
    );
    assert.equal(
      await valueOf(registry, name, { rxhttp_breaker_key: '10.0.0.2:8080', state: 'closed' }),
      undefined,
    );
    sub.unsubscribe();
  });

  it('shares metrics between two clients on one registry and reads both clients at scrape time', async () => {
    const registry = new Registry();
    const a$ = new Subject<CallEvent>();
    const b$ = new Subject<CallEvent>();
    const subA = attachMetrics(a$, registry, {
      breakerSnapshots: () => new Map([['10.0.0.1:8080', snapshot('open')]]),
      groupAddressCounts: () => new Map([['users', 3]]),
    });
    const subB = attachMetrics(b$, registry, {
      breakerSnapshots: () => new Map([['10.0.0.9:9090', snapshot('closed')]]),
      groupAddressCounts: () => new Map([['orders', 1]]),
    });
    a$.next(start({ callId: 1 }));
    a$.next(end({ callId: 1 }, { status: 200 }));
    b$.next(start({ callId: 1 }));
    b$.next(end({ callId: 1 }, { status: 200 }));

    const labels = { server_address: '10.0.0.1', http_response_status_code: '200' };
    assert.equal(await valueOf(registry, 'http_client_request_duration_seconds', labels, '_count'), 2);
    const state = 'rxhttp_circuit_breaker_state';
    assert.equal(await valueOf(registry, state, { rxhttp_breaker_key: '10.0.0.1:8080', state: 'open' }), 1);
    assert.equal(await valueOf(registry, state, { rxhttp_breaker_key: '10.0.0.9:9090', state: 'closed' }), 1);
    assert.equal(await valueOf(registry, 'rxhttp_group_addresses', { rxhttp_group: 'orders' }), 1);

    subB.unsubscribe();
    assert.equal(
      await valueOf(registry, state, { rxhttp_breaker_key: '10.0.0.9:9090', state: 'closed' }),
      undefined,
    );
    assert.equal(await valueOf(registry, 'rxhttp_group_addresses', { rxhttp_group: 'orders' }), undefined);
    assert.equal(await valueOf(registry, 'rxhttp_group_addresses', { rxhttp_group: 'users' }), 3);
    subA.unsubscribe();
    assert.equal(
      globalRegistry.getSingleMetric('http_client_request_duration_seconds'),
      undefined,
      'never the global registry',
    );
  });

  it('registers its metrics again on a registry that was cleared since', async () => {
    const registry = new Registry();
    const first$ = new Subject<CallEvent>();
    attachMetrics(first$, registry, noSources);
    registry.clear();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    events$.next(start({ callId: 1 }));
    events$.next(end({ callId: 1 }, { status: 200 }));
    const text = await registry.metrics();
    assert.match(text, /http_client_request_duration_seconds_count\{[^}]*\} 1/);
    sub.unsubscribe();
    first$.complete();
  });

  it('refuses a registry whose metric of the same name was made by someone else', () => {
    const registry = new Registry();
    new Counter({ name: 'rxhttp_retries_total', help: 'mine', registers: [registry] });
    assert.throws(
      () => attachMetrics(new Subject<CallEvent>(), registry, noSources),
      (e: unknown) =>
        isXhttpError(e) && e.code === 'INVALID_ARGUMENT' && e.message.includes('rxhttp_retries_total'),
    );
  });

  it('takes attempts still in flight off the active gauge on unsubscribe (client close)', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    events$.next(start({ callId: 1 }));
    events$.next(start({ callId: 2 }));
    assert.equal(await valueOf(registry, 'http_client_active_requests', { server_address: '10.0.0.1' }), 2);
    events$.complete();
    assert.ok(sub.closed);
    assert.equal(await valueOf(registry, 'http_client_active_requests', { server_address: '10.0.0.1' }), 0);
  });

  it('keeps the series count constant over 10 000 calls with distinct paths and queries', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, {
      breakerSnapshots: () => new Map([['10.0.0.1:8080/secret/42?token=x', snapshot('closed')]]),
      groupAddressCounts: () => new Map([['users?token=x', 1]]),
    });
    const call = (callId: number): void => {
      const path = `/secret/${callId}?token=x${callId}`;
      events$.next({ type: 'call-start', time: 0, callId, group: 'users', method: 'GET', path });
      events$.next(start({ callId, path, breakerKey: `10.0.0.1:8080${path}` }));
      events$.next(end({ callId, path }, { status: callId % 2 === 0 ? 200 : 503 }));
      events$.next({
        type: 'call-end',
        time: 0,
        callId,
        group: 'users',
        method: 'GET',
        durationMs: 20,
        attempts: 1,
        status: 200,
        outcome: 'ok',
      });
    };
    for (let i = 0; i < 10; i++) call(i);
    const before = await seriesCount(registry);
    for (let i = 10; i < 10_000; i++) call(i);
    assert.equal(await seriesCount(registry), before);

    const labels = await allLabelValues(registry);
    for (const value of labels) {
      assert.ok(
        !value.includes('secret') && !value.includes('token') && !value.includes('?'),
        `label ${value}`,
      );
    }
    const text = await registry.metrics();
    assert.ok(!text.includes('secret') && !text.includes('token'));
    sub.unsubscribe();
  });
});
