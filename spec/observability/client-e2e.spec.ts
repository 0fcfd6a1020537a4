import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Client } from '../../lib/client/client.js';
import { AddressGroup } from '../../lib/group/address-group.js';
import { startBackend } from '../helpers/loopback.js';
import { createSpecTracer, startZipkinCollector, type ZipkinCollector } from '../helpers/zipkin-collector.js';

/** Values that must never reach a label, a tag or the posted JSON. */
const SECRETS = ['secret', 'token', 'Bearer', 'sekrit', 'session=', 'abc123'];

/** A loopback server answering 503 to the first request and 200 after; it keeps every request's headers. */
async function flakyServer(): Promise<{ port: number; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
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

describe('metrics and tracing through the real client', () => {
  let collector: ZipkinCollector;
  before(async () => {
    collector = await startZipkinCollector();
  });
  after(async () => {
    await collector.close();
  });

  it('a retried call to /secret/42?token=x: two CLIENT spans, B3 at the server, nothing secret anywhere', async () => {
    const server = await flakyServer();
    const spec = createSpecTracer(collector.endpoint);
    const registry = new Registry();
    const client = new Client({ metrics: { registry }, tracer: spec.tracer });
    const group = new AddressGroup(`static://127.0.0.1:${server.port}`, { name: 'users' });
    try {
      const res = await client.get(group, '/secret/42?token=x', {
        retry: { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' } },
        headers: { authorization: 'Bearer sekrit', cookie: 'session=abc123' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.attempts, 2);

      spec.flush();
      const spans = (await collector.waitForSpans(3)).filter((s) => s.kind === 'CLIENT');
      assert.equal(spans.length, 2);
      assert.equal(spans[0]?.traceId, spans[1]?.traceId);
      assert.equal(server.seen.length, 2);
      for (const [i, headers] of server.seen.entries()) {
        const span = spans.find((s) => s.tags?.['rxhttp.attempt'] === String(i + 1));
        assert.ok(span, `span of attempt ${i + 1}`);
        assert.equal(headers['x-b3-traceid'], span.traceId);
        assert.equal(headers['x-b3-spanid'], span.id);
        assert.equal(headers['x-b3-parentspanid'], span.parentId);
        assert.equal(headers['x-b3-sampled'], '1');
        assert.equal(span.tags?.['http.path'], '/secret/{id}', 'a route template: no raw path, no query');
      }
      assert.equal(spans.find((s) => s.tags?.['rxhttp.attempt'] === '1')?.tags?.['http.status_code'], '503');

      // http.path holds the route template; neither the raw path nor the query appears anywhere.
      assert.ok(!collector.bodies.join('\n').includes('/secret/42'), 'raw path in a span');
      const posted = collector.bodies.join('\n').replaceAll('"http.path":"/secret/{id}"', '');
      for (const s of SECRETS) assert.ok(!posted.includes(s), `posted JSON holds ${s}`);

      const text = await registry.metrics();
      for (const s of SECRETS) assert.ok(!text.includes(s), `metrics hold ${s}`);
      assert.match(
        text,
        /http_client_request_duration_seconds_count\{[^}]*http_response_status_code="503"[^}]*\} 1/,
      );
      assert.match(
        text,
        /http_client_request_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*\} 1/,
      );
      assert.match(text, /rxhttp_retries_total\{reason="503",rxhttp_group="users"\} 1/);
      assert.match(
        text,
        /rxhttp_circuit_breaker_state\{rxhttp_breaker_key="127\.0\.0\.1:\d+",state="closed"\} 1/,
      );
      assert.match(text, /rxhttp_group_addresses\{rxhttp_group="users"\} 1/);
    } finally {
      await client.close();
      group.close();
      spec.close();
      await server.close();
    }
  });

  it("two clients on one registry share one metric family: both clients' calls land in the same series", async () => {
    const server = await startBackend();
    const registry = new Registry();
    const a = new Client({ metrics: { registry } });
    const b = new Client({ metrics: { registry } });
    const groupA = new AddressGroup(`static://${server.hostPort}`, { name: 'users' });
    const groupB = new AddressGroup(`static://${server.hostPort}`, { name: 'users' });
    const onlyA = new AddressGroup(`static://${server.hostPort}`, { name: 'audit' });
    const onlyB = new AddressGroup(`static://${server.hostPort}`, { name: 'orders' });
    try {
      assert.equal((await a.get(groupA, '/x')).status, 200);
      assert.equal((await b.get(groupB, '/x')).status, 200);
      assert.equal((await a.get(onlyA, '/x')).status, 200);
      assert.equal((await b.get(onlyB, '/x')).status, 200);
      assert.equal(server.hits, 4, 'four requests reached the server');

      const text = await registry.metrics();
      const families = parseExposition(text);
      for (const name of ['http_client_request_duration_seconds', 'rxhttp_call_duration_seconds']) {
        assert.equal(families.get(name)?.type, 'histogram', `${name} registered once, as a histogram`);
      }
      // One series counts the calls of both clients: not two registrations, not one client's calls.
      assert.match(
        text,
        /^http_client_request_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*rxhttp_group="users"[^}]*\} 2$/m,
      );
      assert.match(text, /^rxhttp_call_duration_seconds_count\{[^}]*rxhttp_group="users"[^}]*\} 2$/m);
      assert.match(text, /^rxhttp_call_duration_seconds_count\{[^}]*rxhttp_group="orders"[^}]*\} 1$/m);
      // The scrape-time gauges read both clients' sources: the groups only a or only b knows are there.
      assert.match(text, /^rxhttp_group_addresses\{rxhttp_group="audit"\} 1$/m);
      assert.match(text, /^rxhttp_group_addresses\{rxhttp_group="users"\} 1$/m);
      assert.match(text, /^rxhttp_group_addresses\{rxhttp_group="orders"\} 1$/m);
      // Both clients have a breaker for the one host: a single series per state, not one per client.
      const closed = text
        .split('\n')
        .filter((l) =>
          /^rxhttp_circuit_breaker_state\{rxhttp_breaker_key="127\.0\.0\.1:\d+",state="closed"\} 1$/.test(l),
        );
      assert.equal(closed.length, 1);
      assert.equal(
        registry.getMetricsAsArray().length,
        new Set(registry.getMetricsAsArray().map((m) => m.name)).size,
      );
    } finally {
      await a.close();
      await b.close();
      groupA.close();
      groupB.close();
      onlyA.close();
      onlyB.close();
      await server.close();
    }
  });
});

/** A metric family of the text exposition format. */
interface Family {
  type: string;
  samples: number;
}

/**
 * Parses Prometheus text exposition format strictly enough to catch a broken scrape: every family has
 * exactly one HELP and one TYPE line before its samples, every sample belongs to a declared family
 * (histograms through their `_bucket`, `_sum` and `_count`), and no series (name and label set) appears
 * twice. Throws an assertion error naming the offending line.
 */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const help = new Set<string>();
  const series = new Set<string>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta;
      if (kind === 'HELP') {
        assert.ok(!help.has(name), `HELP twice for ${name}`);
        help.add(name);
      } else {
        assert.ok(!families.has(name), `TYPE twice for ${name}`);
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest), line);
        families.set(name, { type: rest, samples: 0 });
      }
      continue;
    }
    const m = sample.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    const name = m[1] ?? '';
    const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? undefined;
    assert.ok(family !== undefined, `sample of an undeclared family: ${line}`);
    assert.ok(help.has(name) || help.has(name.replace(/_(bucket|sum|count)$/, '')), `no HELP for ${line}`);
    family.samples++;
    const key = `${name}${m[2] ?? ''}`;
    assert.ok(!series.has(key), `series twice: ${key}`);
    series.add(key);
  }
  return families;
}
