import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import zipkin from 'zipkin';
import { LoadStats } from '../../lib/balancer/load-stats.js';
import type { CallEvent } from '../../lib/events/events.js';
import { systemClock } from '../../lib/internal/clock.js';
import { AddressGroup, Client, type ClientHealth } from '../../lib/index.js';
import { startBackend, staticTarget, waitFor } from '../helpers/loopback.js';

/** Every record a zipkin tracer makes, kept in memory (nothing is posted). */
function memoryTracer(): { tracer: zipkin.Tracer; records: zipkin.Record[] } {
  const records: zipkin.Record[] = [];
  const tracer = new zipkin.Tracer({
    ctxImpl: new zipkin.ExplicitContext(),
    recorder: { record: (r: zipkin.Record) => records.push(r) },
    sampler: new zipkin.sampler.Sampler(zipkin.sampler.alwaysSample),
    localServiceName: 'spec-client',
  });
  return { tracer, records };
}

function errorTags(records: readonly zipkin.Record[]): string[] {
  return records
    .filter((r) => r.annotation instanceof zipkin.Annotation.BinaryAnnotation && r.annotation.key === 'error')
    .map((r) => (r.annotation as zipkin.Annotation.BinaryAnnotation).value);
}

function cancelledAnnotations(records: readonly zipkin.Record[]): number {
  return records.filter(
    (r) => r.annotation instanceof zipkin.Annotation.Message && r.annotation.message === 'rxhttp.cancelled',
  ).length;
}

test('an aborted signal is a cancellation everywhere: breaker, load statistics, health$, metrics, spans', async () => {
  const x = await startBackend(() => undefined); // never answers
  const registry = new Registry();
  const { tracer, records } = memoryTracer();
  const client = new Client({ requestTimeout: 5_000, metrics: { registry }, tracer: tracer as never });
  const group = new AddressGroup(staticTarget(x), { name: 'svc' });
  const events: CallEvent[] = [];
  const eventsSub = client.events$.subscribe((e) => events.push(e));
  const stats = new LoadStats(systemClock);
  const statsSub = stats.attach(client.events$);
  let health: ClientHealth | undefined;
  const healthSub = client.health$.subscribe((h) => (health = h));
  try {
    for (let i = 1; i <= 2; i++) {
      const ac = new AbortController();
      const p = client.get(group, '/hang', { signal: ac.signal });
      await waitFor(() => x.hits === i);
      ac.abort();
      await assert.rejects(p, { code: 'ABORTED' }, 'the caller still sees ABORTED');
    }
    const abortedAt = systemClock.now();

    const ends = events.filter((e) => e.type === 'call-end');
    assert.deepEqual(
      ends.map((e) => [e.outcome, e.errorCode]),
      [
        ['cancelled', 'ABORTED'],
        ['cancelled', 'ABORTED'],
      ],
    );
    const attempts = events.filter((e) => e.type === 'attempt-end');
    assert.deepEqual(
      attempts.map((e) => [e.cancelled, e.verdict, e.errorCode]),
      [
        [true, 'ignored', undefined],
        [true, 'ignored', undefined],
      ],
    );

    // Breaker: nothing counted.
    let breakers: ReadonlyMap<string, { total: number; failureRate: number }> | undefined;
    client.breakers$.subscribe((m) => (breakers = m)).unsubscribe();
    const snap = breakers?.get(x.hostPort);
    assert.equal(snap?.total ?? 0, 0);
    assert.equal(snap?.failureRate ?? 0, 0);

    // Load statistics: no longer in flight, no error, no latency sample.
    const host = stats.host(x.hostPort);
    assert.equal(host.outstanding, 0);
    assert.equal(host.errors, 0);
    assert.equal(host.ok, 0);
    assert.equal(host.latencyMs, 0);

    // health$: two aborted calls are not 100 % errors.
    await waitFor(() => health !== undefined && health.time >= abortedAt, 5_000);
    assert.equal(health!.errorPercent, 0);
    assert.equal(health!.groups.find((g) => g.name === 'svc')?.errorPercent ?? 0, 0);

    // Metrics: the calls' outcome is cancelled, never error.
    const text = await registry.metrics();
    assert.match(text, /rxhttp_call_duration_seconds_count\{[^}]*outcome="cancelled"[^}]*\} 2/);
    assert.doesNotMatch(text, /rxhttp_call_duration_seconds_count\{[^}]*outcome="error"/);

    // Spans: annotated as cancelled (attempt and root span of each call), never tagged as errors.
    assert.deepEqual(errorTags(records), []);
    assert.equal(cancelledAnnotations(records), 4);
  } finally {
    healthSub.unsubscribe();
    statsSub.unsubscribe();
    eventsSub.unsubscribe();
    await client.close();
    group.close();
    await x.close();
  }
});

test('a signal aborted during back-off ends the call as cancelled, after the failed attempt it counted', async () => {
  const x = await startBackend((_req, res) => {
    res.statusCode = 503;
    res.end('busy');
  });
  const client = new Client({ requestTimeout: 10_000 });
  const group = new AddressGroup(staticTarget(x));
  const events: CallEvent[] = [];
  const sub = client.events$.subscribe((e) => events.push(e));
  try {
    const ac = new AbortController();
    const p = client.get(group, '/', {
      signal: ac.signal,
      retry: { maxAttempts: 3, backoff: { initialDelay: 5_000, jitter: 'none' } },
    });
    await waitFor(() => events.some((e) => e.type === 'retry-scheduled'));
    ac.abort();
    await assert.rejects(p, { code: 'ABORTED' });
    const end = events.find((e) => e.type === 'call-end');
    assert.equal(end?.outcome, 'cancelled');
    const attempt = events.find((e) => e.type === 'attempt-end');
    assert.equal(attempt?.status, 503, 'the 503 before the back-off is a real outcome');
    assert.equal(attempt?.verdict, 'failure');
    assert.equal(x.hits, 1);
  } finally {
    sub.unsubscribe();
    await client.close();
    group.close();
    await x.close();
  }
});

test('close() ends a call in flight as a cancellation: events$ says so before it completes; load statistics count nothing', async () => {
  const x = await startBackend(() => undefined);
  const registry = new Registry();
  const client = new Client({ requestTimeout: 5_000, metrics: { registry } });
  const group = new AddressGroup(staticTarget(x));
  const events: CallEvent[] = [];
  let completed = false;
  client.events$.subscribe({ next: (e) => events.push(e), complete: () => (completed = true) });
  const stats = new LoadStats(systemClock);
  stats.attach(client.events$);
  try {
    const p = client.get(group, '/hang');
    const rejected = assert.rejects(p, { code: 'ABORTED' });
    await waitFor(() => x.hits === 1);
    await client.close();
    await rejected;
    assert.ok(completed, 'events$ completes on close');

    const attempt = events.find((e) => e.type === 'attempt-end');
    assert.ok(attempt, 'the attempt in flight ends on events$ before it completes');
    assert.equal(attempt.cancelled, true);
    assert.equal(attempt.verdict, 'ignored');
    assert.equal(attempt.errorCode, undefined);
    const end = events.find((e) => e.type === 'call-end');
    assert.equal(end?.outcome, 'cancelled');
    assert.equal(end?.errorCode, 'ABORTED');

    const host = stats.host(x.hostPort);
    assert.equal(host.outstanding, 0);
    assert.equal(host.errors, 0);
    assert.equal(host.latencyMs, 0, 'no latency sample from a cancellation');

    const text = await registry.metrics();
    assert.match(text, /rxhttp_call_duration_seconds_count\{[^}]*outcome="cancelled"[^}]*\} 1/);
    assert.doesNotMatch(text, /rxhttp_call_duration_seconds_count\{[^}]*outcome="error"/);
    await waitFor(() => x.aborted === 1);
  } finally {
    await client.close();
    group.close();
    await x.close();
  }
});
