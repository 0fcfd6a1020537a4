import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { Subject } from 'rxjs';
import type { AttemptEndEvent, CallEndEvent, CallEvent } from '../../lib/events/events.js';
import {
  ATTEMPT_DURATION_BUCKETS,
  CALL_DURATION_BUCKETS,
  attachMetrics,
  type MetricSources,
} from '../../lib/observability/metrics.js';
import { eventFixtures } from '../helpers/events.js';

const users = eventFixtures('users', '/');

// rxhttp keeps its histograms in plain numbers and hands them to prom-client at scrape time; these
// specs hold that to the output of prom-client's own Histogram fed the same observations.

const noSources: MetricSources = { breakerSnapshots: () => new Map(), groupAddressCounts: () => new Map() };
const ATTEMPTS = 'http_client_request_duration_seconds';
const CALLS = 'rxhttp_call_duration_seconds';

interface Attempt {
  host: string;
  status?: number;
  errorCode?: AttemptEndEvent['errorCode'];
  cancelled?: boolean;
  durationMs: number;
}

/** Bucket edges, just past them, below the first, past the last, zero and a negative clock step. */
const DURATIONS_MS = [
  5, 5.000001, 0, -1, 1, 10, 75, 100, 999.9, 1000, 2500, 10_000, 10_000.5, 30_000, 61_000,
];

const ATTEMPTS_FED: Attempt[] = DURATIONS_MS.flatMap((durationMs, i) => [
  { host: '10.0.0.1', status: 200, durationMs },
  { host: i % 2 === 0 ? '10.0.0.2' : '10.0.0.1', status: 503, durationMs: durationMs / 3 },
  { host: '10.0.0.1', errorCode: 'TIMEOUT', durationMs },
  { host: '10.0.0.3', cancelled: true, durationMs: durationMs + 0.1 },
]);

const OUTCOMES: CallEndEvent['outcome'][] = ['ok', 'error', 'cancelled'];

/** Feeds attempts and calls through attachMetrics, and the same observations into prom-client. */
function feed(
  ours: Registry<RegistryContentType>,
  reference: Registry<RegistryContentType>,
): { unsubscribe(): void; observeMore(): void } {
  const events$ = new Subject<CallEvent>();
  const sub = attachMetrics(events$, ours, noSources);
  const attempts = new Histogram({
    name: ATTEMPTS,
    help: (ours.getSingleMetric(ATTEMPTS) as unknown as { help: string }).help,
    labelNames: [
      'http_request_method',
      'server_address',
      'server_port',
      'http_response_status_code',
      'error_type',
      'url_scheme',
      'rxhttp_group',
    ],
    buckets: [...ATTEMPT_DURATION_BUCKETS],
    registers: [reference],
  });
  const calls = new Histogram({
    name: CALLS,
    help: 'Duration of whole rxhttp calls, retries and back-off included.',
    labelNames: ['http_request_method', 'rxhttp_group', 'outcome'],
    buckets: [...CALL_DURATION_BUCKETS],
    registers: [reference],
  });
  let callId = 0;
  const observeMore = (): void => {
    for (const a of ATTEMPTS_FED) {
      callId++;
      const start = users.attemptStart(callId, 1, a.host, 8080, '/');
      events$.next(start);
      events$.next(
        users.attemptEnd(start, {
          durationMs: a.durationMs,
          ...(a.status === undefined ? {} : { status: a.status }),
          ...(a.errorCode === undefined ? {} : { errorCode: a.errorCode }),
          cancelled: a.cancelled ?? false,
          verdict: 'ignored',
        }),
      );
      // OpenTelemetry's error.type: none for a cancellation, else the error, else a 4xx/5xx status.
      const errorType =
        a.cancelled === true ? '' : (a.errorCode?.toLowerCase() ?? (a.status === 503 ? '503' : ''));
      attempts
        .labels({
          http_request_method: 'GET',
          server_address: a.host,
          server_port: '8080',
          http_response_status_code: a.status === undefined ? '' : String(a.status),
          error_type: errorType,
          url_scheme: 'http',
          rxhttp_group: 'users',
        })
        .observe(a.durationMs / 1000);
      const outcome = OUTCOMES[callId % 3]!;
      const method = callId % 5 === 0 ? 'POST' : 'GET';
      events$.next({
        ...users.scoped(callId),
        method,
        type: 'call-end',
        durationMs: a.durationMs * 2,
        attempts: 1,
        outcome,
      });
      calls
        .labels({ http_request_method: method, rxhttp_group: 'users', outcome })
        .observe((a.durationMs * 2) / 1000);
    }
  };
  observeMore();
  return { unsubscribe: () => sub.unsubscribe(), observeMore };
}

async function assertSameAsPromClient(
  ours: Registry<RegistryContentType>,
  reference: Registry<RegistryContentType>,
): Promise<void> {
  for (const name of [ATTEMPTS, CALLS]) {
    assert.equal(
      await ours.getSingleMetricAsString(name),
      await reference.getSingleMetricAsString(name),
      name,
    );
    const metric = ours.getSingleMetric(name);
    assert.ok(metric);
    assert.deepEqual(await metric.get(), await reference.getSingleMetric(name)!.get(), name);
  }
  const json = (r: Registry<RegistryContentType>) =>
    r.getMetricsAsJSON().then((all) => all.filter((m) => m.name === ATTEMPTS || m.name === CALLS));
  assert.deepEqual(await json(ours), await json(reference));
}

describe('attachMetrics histograms', () => {
  for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]) {
    it(`export what prom-client's Histogram exports for the same observations (${contentType.split(';')[0]})`, async () => {
      const ours = new Registry<RegistryContentType>();
      const reference = new Registry<RegistryContentType>();
      ours.setContentType(contentType);
      reference.setContentType(contentType);
      const fed = feed(ours, reference);
      await assertSameAsPromClient(ours, reference);
      fed.unsubscribe();
    });
  }

  it('carry the registry default labels as prom-client does', async () => {
    const ours = new Registry();
    const reference = new Registry();
    ours.setDefaultLabels({ service: 'checkout' });
    reference.setDefaultLabels({ service: 'checkout' });
    const fed = feed(ours, reference);
    await assertSameAsPromClient(ours, reference);
    assert.match(
      await ours.metrics(),
      /rxhttp_call_duration_seconds_count\{[^}]*service="checkout"[^}]*\} \d+/,
    );
    fed.unsubscribe();
  });

  it('drop every series on resetMetrics() and count afresh after it, as prom-client does', async () => {
    const ours = new Registry();
    const reference = new Registry();
    const fed = feed(ours, reference);
    ours.resetMetrics();
    reference.resetMetrics();
    assert.ok(!(await ours.metrics()).includes(`${ATTEMPTS}_bucket`));
    await assertSameAsPromClient(ours, reference);
    fed.observeMore();
    await assertSameAsPromClient(ours, reference);
    fed.unsubscribe();
  });

  it('keep one series per label set when events differ only in what labels drop', async () => {
    const registry = new Registry();
    const events$ = new Subject<CallEvent>();
    const sub = attachMetrics(events$, registry, noSources);
    // Two groups that labelSafe() reduces to one label value, on distinct address objects.
    for (const [callId, group] of [
      [1, 'api:443/users/1'],
      [2, 'api:443/users/2'],
    ] as const) {
      const { scoped: scopedTo, attemptStart, attemptEnd } = eventFixtures(group, '/');
      const scoped = scopedTo(callId);
      const start = attemptStart(callId, 1, '10.0.0.1', 8080);
      events$.next(start);
      events$.next(attemptEnd(start, { durationMs: 20, status: 200 }));
      events$.next({ ...scoped, type: 'call-end', durationMs: 20, attempts: 1, status: 200, outcome: 'ok' });
    }
    for (const name of [ATTEMPTS, CALLS]) {
      const counts = (await registry.getSingleMetricAsString(name))
        .split('\n')
        .filter((line) => line.startsWith(`${name}_count{`));
      assert.equal(counts.length, 1, counts.join('\n'));
      assert.match(counts[0]!, /rxhttp_group="api:443\/\*"[^}]*\} 2$/);
    }
    sub.unsubscribe();
  });
});
