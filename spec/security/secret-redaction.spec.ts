import { test } from 'node:test';
import { inspect } from 'node:util';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { firstValueFrom, take, timeout } from 'rxjs';
import { Client, AddressGroup, type CallEvent } from '../../lib/index.js';
import { closedPort } from '../helpers/e2e-util.js';
import { startBackend } from '../helpers/loopback.js';
import { createSpecTracer, startZipkinCollector } from '../helpers/zipkin-collector.js';

const SECRET = 's3cr3t';
const HEADERS = { authorization: `Bearer ${SECRET}`, cookie: `sid=${SECRET}`, 'x-api-key': SECRET };

test('error messages, events, metrics, spans and health never hold header values, cookies or query strings', async () => {
  let n = 0;
  const backend = await startBackend((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/hang') return;
    res.statusCode = path === '/flaky' && n++ % 2 === 0 ? 503 : path === '/fail' ? 500 : 200;
    res.setHeader('set-cookie', `sid=${SECRET}`);
    res.end('body');
  });
  const refused = await closedPort();
  const collector = await startZipkinCollector();
  const tracing = createSpecTracer(collector.endpoint);
  const registry = new Registry();
  const client = new Client({
    metrics: { registry },
    tracer: tracing.tracer,
    headers: { 'x-default-token': SECRET },
    requestTimeout: 2_000,
  });
  const events: CallEvent[] = [];
  const sub = client.events$.subscribe((e) => events.push(e));
  const group = new AddressGroup(`static://${backend.hostPort}`, { name: 'users' });
  const dead = new AddressGroup(`static://127.0.0.1:${refused}`, { name: 'dead' });
  const errors: unknown[] = [];
  const query = `?token=${SECRET}&q=${SECRET}`;
  const retry = { maxAttempts: 2, backoff: { initialDelay: 1, jitter: 'none' as const } };
  const calls = [
    () => client.get(group, `/ok/${'x'}${query}`, { headers: HEADERS }),
    () => client.get(group, `/flaky${query}`, { headers: HEADERS, retry }),
    () => client.get(group, `/fail${query}`, { headers: HEADERS }),
    () => client.get(group, `/hang${query}`, { headers: HEADERS, timeout: 200 }),
    () => client.get(dead, `/down${query}`, { headers: HEADERS, retry }),
    () =>
      client.post(group, `/post${query}`, 'application/json', `{"password":"${SECRET}"}`, {
        headers: HEADERS,
      }),
    () => client.get(group, `/bad${query}`, { headers: { authorization: `Bearer ${SECRET}\r\n` } }),
    () => client.get(group, `/bad${query}`, { headers: { [`x-${SECRET}\n`]: 'v' } }),
    () => client.request({ group, path: '/bad', query: { token: SECRET } }, { timeout: -1 }),
    () => client.fetch(`http://${backend.hostPort}/fetch${query}`, { headers: HEADERS }),
    () => client.fetch(`http://127.0.0.1:${refused}/fetch${query}`, { headers: HEADERS }),
    // URLs the parser refuses: its error quotes the input, query string and all.
    () => client.request({ url: `http://exa mple/x${query}` }),
    () => client.fetch(`http://exa mple/x${query}`),
    () => client.request({ url: `http://u:${SECRET}@exa mple/x` }),
    async () => new AddressGroup(`http://exa mple/x${query}`),
  ];
  for (const call of calls) {
    try {
      const res = await call();
      if ('body' in res && typeof (res as { text?: unknown }).text !== 'function')
        await (res.body as { text(): Promise<string> }).text();
    } catch (e) {
      errors.push(e);
    }
  }
  const health = await firstValueFrom(client.health$.pipe(take(1), timeout(5_000)));
  tracing.flush();
  await collector.waitForSpans(4);

  const texts: [string, string][] = [
    ['events', JSON.stringify(events)],
    ['metrics', await registry.metrics()],
    ['spans', collector.bodies.join('\n')],
    ['health', JSON.stringify(health)],
  ];
  for (const e of errors) {
    // The error and every error in its cause chain: text, stack, JSON and every own property.
    texts.push(['error inspected', inspect(e, { depth: 20, showHidden: true })]);
    let x: unknown = e;
    for (let depth = 0; x !== undefined && depth < 20; depth++) {
      const where = depth === 0 ? 'error' : `cause ${depth}`;
      const err = x as Error & { cause?: unknown };
      texts.push([`${where} message`, `${String(err)} ${err.message} ${err.stack ?? ''}`]);
      texts.push([`${where} JSON`, JSON.stringify(err)]);
      x = err.cause;
    }
  }
  assert.ok(errors.length >= 5, `the failing calls failed (${errors.length})`);
  for (const [where, text] of texts) {
    assert.ok(
      !text.includes(SECRET),
      `${where} holds the secret: …${text.slice(Math.max(0, text.indexOf(SECRET) - 80), text.indexOf(SECRET) + 20)}…`,
    );
    assert.ok(!text.includes('token='), `${where} holds a query string`);
  }
  sub.unsubscribe();
  await client.close();
  group.close();
  dead.close();
  tracing.close();
  await collector.close();
  await backend.close();
});
