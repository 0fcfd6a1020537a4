import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { request } from 'undici';
import { AddressGroup, Client } from '../../lib/index.js';
import { serveDashboard, type Dashboard, type DashboardView } from '../../lib/dashboard/index.js';
import { dashboardCounters } from '../../lib/dashboard/server.js';
import { CHROMIUM_ARGS, chromiumForSpec } from '../helpers/ci-env.js';
import { startBackend, staticTarget, type Backend } from '../helpers/loopback.js';

// The dashboard's slow calls and forced breakers, end to end: a real Client against loopback
// backends, the dashboard's /snapshot.json and /events, and the page in real Chromium.

const { executable: CHROMIUM, skip } = chromiumForSpec();
/** The threshold: far above a fast call's time even on a loaded machine, below the slow one's. */
const SLOW_MS = 600;

describe('dashboard: the last slow calls’ timelines, and forced breakers shown as such', () => {
  let backend: Backend;
  let spare: Backend;
  let client: Client;
  let group: AddressGroup;
  let spareGroup: AddressGroup;
  let dashboard: Dashboard;
  /** Closers in the order things were made; run backwards, also after a failed `before`. */
  const closers: (() => unknown)[] = [];
  /** Requests to /flaky: odd ones answer 503 at once, even ones 200 after 2 × SLOW_MS. */
  let flaky = 0;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/flaky' && ++flaky % 2 === 1) {
        res.statusCode = 503;
        res.end('busy');
      } else setTimeout(() => res.end('ok'), req.url === '/fast' ? 1 : 2 * SLOW_MS);
    });
    closers.push(() => backend.close());
    spare = await startBackend();
    closers.push(() => spare.close());
    group = new AddressGroup(staticTarget(backend), { name: 'orders' });
    spareGroup = new AddressGroup(staticTarget(spare), { name: 'spare' });
    closers.push(
      () => group.close(),
      () => spareGroup.close(),
    );
    client = new Client();
    closers.push(() => client.close());
    client.register('orders', group).register('spare', spareGroup);
    dashboard = await serveDashboard(client, { updateIntervalMs: 100, slowCallMs: SLOW_MS, maxSlowCalls: 5 });
    closers.push(() => dashboard.close());
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  const snapshot = async (): Promise<DashboardView> =>
    (await (await request(`${dashboard.url}snapshot.json`)).body.json()) as DashboardView;

  it('a slow call (a 503, a retry, a slow 200) is on the view with its timeline; a fast call is not', async () => {
    const fast = await client.get('orders', '/fast');
    assert.equal(fast.status, 200);
    const slow = await client.get('orders', '/flaky', {
      retry: { maxAttempts: 2, backoff: { initialDelay: 20 } },
    });
    assert.equal(slow.status, 200);
    let view: DashboardView | undefined;
    for (let i = 0; i < 100 && !(view?.slowCalls?.length ?? 0); i++) {
      view = await snapshot();
      if (!view.slowCalls?.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(view?.slowCallMs, SLOW_MS);
    const calls = view?.slowCalls ?? [];
    assert.deepEqual(
      calls.map((c) => [c.method, c.group, c.path, c.outcome]),
      [['GET', 'orders', '/flaky', 'ok 200']],
      'only the slow call',
    );
    const entries = calls[0]!.entries;
    assert.deepEqual(
      entries.map((e) => [e.kind, e.address, e.outcome]),
      [
        ['attempt', backend.hostPort, '503'],
        ['retry', undefined, undefined],
        ['attempt', backend.hostPort, '200'],
      ],
    );
    assert.match(entries[1]!.detail, /^retry #2 in \d+(\.\d)? ms \(backoff\) after 503$/);
    assert.ok(
      entries[2]!.durationMs! >= 2 * SLOW_MS - 20,
      `the slow attempt took ${entries[2]!.durationMs} ms`,
    );
    assert.ok(entries[2]!.atMs >= entries[0]!.atMs);
  });

  it('bad options fail with INVALID_ARGUMENT naming the field', async () => {
    const field = (options: object) =>
      serveDashboard(client, options).then(
        () => assert.fail('served'),
        (e: { code?: string; field?: string }) => `${e.code} ${e.field}`,
      );
    assert.equal(await field({ slowCallMs: -1 }), 'INVALID_ARGUMENT options.slowCallMs');
    assert.equal(await field({ slowCallMs: '5' }), 'INVALID_ARGUMENT options.slowCallMs');
    assert.equal(await field({ maxSlowCalls: 0 }), 'INVALID_ARGUMENT options.maxSlowCalls');
    assert.equal(await field({ maxSlowCalls: 1.5 }), 'INVALID_ARGUMENT options.maxSlowCalls');
    assert.equal(await field({ maxSlowCalls: 101 }), 'INVALID_ARGUMENT options.maxSlowCalls');
  });

  it('memory stays bounded: over many calls, at most maxSlowCalls are kept', async () => {
    // 0 ms threshold on a second dashboard: every call is "slow", so the list is full at once.
    const all = await serveDashboard(client, { slowCallMs: 0, maxSlowCalls: 5 });
    try {
      for (let i = 0; i < 300; i++) await client.get('spare', `/n${i}`);
      assert.equal(dashboardCounters(all).followedCalls, 0, 'no call followed once every call ended');
      const view = (await (await request(`${all.url}snapshot.json`)).body.json()) as DashboardView;
      assert.deepEqual(
        view.slowCalls?.map((c) => c.path),
        ['/n299', '/n298', '/n297', '/n296', '/n295'],
      );
    } finally {
      await all.close();
    }
  });

  it(
    'the page shows the slow call’s timeline and a forced-open breaker as such (real Chromium)',
    { skip },
    async () => {
      assert.ok(
        CHROMIUM !== undefined,
        'chromium is required under CI: install the Debian package `chromium`',
      );
      client.breakers.forceOpen(spare.hostPort);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(dashboard.url);
        await page.waitForFunction(() => Number(document.body.getAttribute('data-updates')) >= 1, null, {
          timeout: 10_000,
        });
        const row = `tr[data-key="${spare.hostPort}"][data-breaker="open"][data-forced="open"]`;
        await page.waitForSelector(row, { timeout: 10_000 });
        assert.equal(await page.$eval(`${row} .badge`, (b) => b.textContent), 'open (forced)');

        const call = 'article.slow-call';
        await page.waitForSelector(call, { timeout: 10_000 });
        // Only the /flaky call: under load, a call of another test may also have crossed the bar.
        const all = await page.$$eval(`${call}`, (articles) =>
          articles.map((a) => ({
            head: a.querySelector('h3')!.textContent,
            rows: [...a.querySelectorAll('tr.entry')].map((tr) =>
              [...tr.querySelectorAll('td')].slice(1, 5).map((td) => td.textContent),
            ),
            bars: a.querySelectorAll('td.bar rect').length,
          })),
        );
        const read = all.filter((a) => a.head === 'GET orders /flaky');
        assert.equal(read.length, 1, `the /flaky call once among ${JSON.stringify(all.map((a) => a.head))}`);
        assert.deepEqual(read, [
          {
            head: 'GET orders /flaky',
            rows: [
              ['attempt', backend.hostPort, read[0]!.rows[0]![2]!, '503'],
              ['retry', '', '', ''],
              ['attempt', backend.hostPort, read[0]!.rows[2]![2]!, '200'],
            ],
            bars: 3,
          },
        ]);
        assert.match(read[0]!.rows[2]![2]!, /^\d+ ms$/, 'the attempt’s duration');
        assert.ok(parseInt(read[0]!.rows[2]![2]!, 10) >= 2 * SLOW_MS - 20);
        const fastShown = await page.$$eval(
          'article.slow-call',
          (a) => a.filter((x) => x.textContent!.includes('/fast')).length,
        );
        assert.equal(fastShown, 0, 'the fast call is not shown');
        mkdirSync('spec/artifacts', { recursive: true });
        await page.screenshot({ path: 'spec/artifacts/dashboard-slow-calls.png', fullPage: true });

        client.breakers.reset(spare.hostPort);
        await page.waitForSelector(
          `tr[data-key="${spare.hostPort}"][data-breaker="closed"]:not([data-forced])`,
          {
            timeout: 10_000,
          },
        );
      } finally {
        await browser.close();
      }
    },
  );
});
