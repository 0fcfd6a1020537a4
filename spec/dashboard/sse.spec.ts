import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defer, finalize } from 'rxjs';
import { EventSource, request } from 'undici';
import { AddressGroup, Client } from '../../lib/index.js';
import { serveDashboard } from '../../lib/dashboard/index.js';
import { dashboardCounters } from '../../lib/dashboard/server.js';
import type { DashboardView } from '../../lib/dashboard/view-model.js';
import { resourceCounts, settle } from '../helpers/handles.js';
import { startBackend, staticTarget, waitFor, type Backend } from '../helpers/loopback.js';

/** Resolves with the first `n` messages of an EventSource, parsed. */
function messages(es: EventSource, n: number, timeoutMs = 5_000): Promise<DashboardView[]> {
  return new Promise((resolve, reject) => {
    const out: DashboardView[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${out.length} of ${n} messages`)), timeoutMs);
    es.onmessage = (m) => {
      out.push(JSON.parse(String(m.data)) as DashboardView);
      if (out.length === n) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    es.onerror = () => undefined; // reconnects are the EventSource's business; the timer bounds us
  });
}

describe('dashboard /events (Server-Sent Events)', () => {
  let backend: Backend;
  let client: Client;
  let group: AddressGroup;
  /** Subscriptions to client.health$ made through the dashboard, live. */
  let observed = 0;
  const source = () => ({
    health$: defer(() => {
      observed++;
      return client.health$.pipe(finalize(() => observed--));
    }),
  });

  before(async () => {
    backend = await startBackend();
    client = new Client();
    group = new AddressGroup(staticTarget(backend), { name: 'users' });
    client.register('users', group);
  });
  after(async () => {
    await client.close();
    group.close();
    await backend.close();
  });

  it('sends the snapshot on connect, then throttled updates as calls happen', async () => {
    const dashboard = await serveDashboard(source(), { updateIntervalMs: 100 });
    const es = new EventSource(dashboard.url + 'events');
    try {
      const first = await messages(es, 1);
      assert.deepEqual(
        first[0]!.groups.map((g) => g.name),
        ['users'],
      );
      const okBefore = first[0]!.groups[0]!.hosts[0]!.ok;
      // Updates until one shows the five calls below (bounded by time), each with its arrival time.
      const seen: { at: number; ok: number; rate: number }[] = [];
      const shown = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no update showed the calls')), 10_000);
        es.onmessage = (m) => {
          const v = JSON.parse(String(m.data)) as DashboardView;
          seen.push({ at: performance.now(), ok: v.groups[0]!.hosts[0]!.ok, rate: v.callsPerSecond });
          if (seen.at(-1)!.ok >= okBefore + 5) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      const started = performance.now();
      for (let i = 0; i < 5; i++) await client.get(group, '/');
      await shown;
      assert.ok(seen.at(-1)!.rate > 0);
      // Throttled: at most one update per 100 ms (counted, not timed one by one, since a busy event
      // loop may read two spaced messages in one go).
      const span = seen.at(-1)!.at - started;
      assert.ok(seen.length <= span / 100 + 2, `${seen.length} updates in ${Math.round(span)} ms`);
    } finally {
      es.close();
      await dashboard.close();
    }
  });

  it('sends heartbeat comments and a reconnect delay', async () => {
    const dashboard = await serveDashboard(source(), { heartbeatMs: 30, updateIntervalMs: 5_000 });
    const ac = new AbortController();
    try {
      const res = await request(dashboard.url + 'events', { signal: ac.signal });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      let text = '';
      for await (const chunk of res.body) {
        text += String(chunk);
        if ((text.match(/: heartbeat\n\n/g) ?? []).length >= 2) break;
      }
      assert.match(text, /^retry: \d+\n\n/);
      assert.match(text, /\ndata: \{.*\}\n\n/);
      ac.abort();
    } finally {
      await dashboard.close();
    }
  });

  it('ends the server-side subscription when the browser goes: no leak after 50 cycles', async () => {
    await settle();
    const baseline = resourceCounts();
    const dashboard = await serveDashboard(source(), { updateIntervalMs: 50 });
    const counters = dashboardCounters(dashboard);
    for (let i = 0; i < 50; i++) {
      const es = new EventSource(dashboard.url + 'events');
      await messages(es, 1);
      assert.equal(counters.streams, 1, `cycle ${i}: one stream while connected`);
      es.close();
      await waitFor(() => counters.streams === 0 && counters.subscriptions === 0 && observed === 0, 2_000);
    }
    // And several at once, left open for close() to end.
    const open = Array.from({ length: 5 }, () => new EventSource(dashboard.url + 'events'));
    await Promise.all(open.map((es) => messages(es, 1)));
    assert.equal(counters.streams, 5);
    assert.equal(observed, 5);
    for (const es of open) es.onerror = () => es.close(); // don't reconnect to a closed server
    await dashboard.close();
    assert.equal(counters.streams, 0);
    assert.equal(counters.subscriptions, 0);
    assert.equal(observed, 0);
    for (const es of open) es.close();
    // Keep-alive sockets of earlier calls may have timed out meanwhile: fewer is fine, more is a leak.
    // Closed sockets are released asynchronously: on a loaded box that can take a while.
    const clean = () => Object.entries(resourceCounts()).every(([kind, n]) => n <= (baseline[kind] ?? 0));
    await waitFor(clean, 5_000).catch(() => undefined);
    const now = resourceCounts();
    for (const [kind, n] of Object.entries(now))
      assert.ok(n <= (baseline[kind] ?? 0), `${kind}: ${n} now, ${baseline[kind] ?? 0} before`);
  });
});

describe('dashboard HTTP', () => {
  it('serves the page, its assets and /snapshot.json; refuses other methods, paths and hosts', async () => {
    const client = new Client();
    const group = new AddressGroup('static://127.0.0.1:9', { name: '<script>alert(1)</script>' });
    client.register('evil', group);
    const dashboard = await serveDashboard(client);
    try {
      assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await request(dashboard.url);
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
      const html = await page.body.text();
      assert.match(html, /<script src="app.js" defer><\/script>/);
      assert.doesNotMatch(html, /<script>alert/, 'a name rendered into the page is escaped');
      assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/, 'and shows as text');
      for (const [path, type] of [
        ['app.js', /javascript/],
        ['app.css', /text\/css/],
      ] as const) {
        const r = await request(dashboard.url + path);
        assert.equal(r.statusCode, 200);
        assert.match(String(r.headers['content-type']), type);
        const body = await r.body.text();
        assert.doesNotMatch(body, /innerHTML|insertAdjacentHTML|document\.write/);
      }
      const snap = await request(dashboard.url + 'snapshot.json');
      const view = (await snap.body.json()) as DashboardView;
      assert.equal(view.groups[0]!.name, '<script>alert(1)</script>', 'names go out as data, raw');
      assert.equal((await request(dashboard.url + 'nope')).statusCode, 404);
      assert.equal((await request(dashboard.url, { method: 'POST' })).statusCode, 405);
      const rebound = await request(dashboard.url, { headers: { host: 'evil.example:80' } });
      assert.equal(rebound.statusCode, 421, 'DNS rebinding: a foreign Host is refused on loopback');
      for (const r of [rebound]) await r.body.dump();
    } finally {
      await dashboard.close();
      await client.close();
      group.close();
    }
  });

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    const client = new Client();
    await assert.rejects(serveDashboard(client, { port: -1 }), {
      code: 'INVALID_ARGUMENT',
      field: 'options.port',
    });
    await assert.rejects(serveDashboard(client, { bogus: 1 } as never), {
      code: 'INVALID_ARGUMENT',
      field: 'options.bogus',
    });
    await assert.rejects(serveDashboard({} as never), { code: 'INVALID_ARGUMENT', field: 'client' });
    await client.close();
  });
});
