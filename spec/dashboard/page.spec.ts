/**
 * The first HTML response: it carries the current snapshot (never blank, host rows included) and
 * fits a 1280 px screen. Real servers, a real Client, and real Chromium for the layout.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { map } from 'rxjs';
import { request } from 'undici';
import { AddressGroup, Client } from '../../lib/index.js';
import { serveDashboard, type DashboardView } from '../../lib/dashboard/index.js';
import { startBackend, staticTarget, type Backend } from '../helpers/loopback.js';

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror="document.title=1">';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
];
const missing = !existsSync(CHROMIUM);
const skipBrowser =
  missing && process.env['CI'] !== 'true' ? `${CHROMIUM} not found: apt-get install chromium` : false;

/** Five backends, a third of the calls to each failing. */
async function backends(): Promise<Backend[]> {
  let n = 0;
  return Promise.all(
    Array.from({ length: 5 }, () =>
      startBackend((_req, res) => {
        res.statusCode = ++n % 3 === 0 ? 503 : 200;
        res.end();
      }),
    ),
  );
}

/** Two clients, as the demo serves them: one with breakers off, one with; the totals named. */
async function twoClients(hosts: readonly Backend[]) {
  const bare = new Client({ circuitBreaker: false });
  const resilient = new Client();
  const a = new AddressGroup(staticTarget(...hosts), { name: 'demo · round-robin, bare' });
  const b = new AddressGroup(staticTarget(...hosts), { name: 'demo · p2c-ewma + retry + breaker' });
  for (let i = 0; i < 40; i++) {
    await bare.get(a, '/').catch(() => undefined);
    await resilient.get(b, '/').catch(() => undefined);
  }
  // The demo's join of two clients' views: groups side by side, totals of one, named.
  const health$ = bare.health$.pipe(map((h) => ({ ...h, client: 'round-robin, bare' })));
  const close = async () => {
    await Promise.all([bare.close(), resilient.close()]);
    a.close();
    b.close();
  };
  return { bare, resilient, a, b, health$, close };
}

describe('dashboard page', () => {
  it('the first HTML response carries the snapshot: host rows, figures, breakers "off" when turned off', async () => {
    const hosts = await backends();
    const c = await twoClients(hosts);
    const dashboard = await serveDashboard(c.bare);
    try {
      // Nobody subscribed to health$ before, and no event stream is open: the first read.
      const html = await (await request(dashboard.url)).body.text();
      for (const h of hosts)
        assert.match(
          html,
          new RegExp(`<tr class="host breaker-off" data-key="${h.hostPort}" data-breaker="off">`),
        );
      assert.match(html, /data-group="demo · round-robin, bare"/);
      assert.doesNotMatch(html, /waiting for the first update/);
      assert.doesNotMatch(html, />closed</, 'breakers turned off are not shown as closed');
      const calls = /<span class="label">calls\/s<\/span><span class="value">([\d.]+)<\/span>/.exec(html);
      assert.ok(calls && Number(calls[1]) > 0, 'the header totals are the true figures');
      const snap = (await (await request(dashboard.url + 'snapshot.json')).body.json()) as DashboardView;
      assert.ok(snap.callsPerSecond > 0 && snap.errorPercent > 0 && snap.p99 > 0, '/snapshot.json too');
    } finally {
      await dashboard.close();
      await c.close();
      await Promise.all(hosts.map((h) => h.close()));
    }
  });

  it('names the client its totals belong to when a view joins several', async () => {
    const hosts = await backends();
    const c = await twoClients(hosts);
    const dashboard = await serveDashboard({ health$: c.health$ });
    try {
      const html = await (await request(dashboard.url)).body.text();
      assert.match(html, /<span class="client">totals of round-robin, bare<\/span>/);
    } finally {
      await dashboard.close();
      await c.close();
      await Promise.all(hosts.map((h) => h.close()));
    }
  });

  it(
    'at 1280×800 in Chromium: no horizontal scroll, no card cut off, rows there before any script',
    { skip: skipBrowser },
    async () => {
      assert.ok(!missing, `${CHROMIUM} is required under CI=true`);
      const hosts = await backends();
      const c = await twoClients(hosts);
      const joined = c.health$.pipe(map((h) => h));
      const dashboard = await serveDashboard({
        health$: joined.pipe(
          map((h) => ({
            ...h,
            groups: [...h.groups, ...h.groups.map((g) => ({ ...g, name: `${HOSTILE}${g.name}` }))],
          })),
        ),
      });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      try {
        // Without JavaScript: what the first HTML alone shows.
        const still = await browser.newPage({
          viewport: { width: 1280, height: 800 },
          javaScriptEnabled: false,
        });
        await still.goto(dashboard.url);
        assert.equal(await still.locator('tr.host').count(), 10, 'host rows in the first HTML');
        const names = await still.$$eval('section.card h2', (hs) => hs.map((h) => h.textContent));
        assert.ok(
          names.some((n) => n?.startsWith(HOSTILE)),
          'a name holding markup shows as text',
        );
        assert.equal(
          await still.$$eval('section.card img', (imgs) => imgs.length),
          0,
          'no markup was parsed',
        );

        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(dashboard.url);
        await page.waitForSelector('body[data-updates]', { timeout: 10_000 }); // a live update rendered too
        const fit = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          cards: [...document.querySelectorAll('section.card')].map((e) => [e.scrollWidth, e.clientWidth]),
        }));
        assert.ok(fit.scroll <= fit.client, `page scrolls sideways: ${fit.scroll} > ${fit.client}`);
        assert.ok(fit.cards.length > 0);
        for (const [scroll, width] of fit.cards)
          assert.ok(scroll! <= width!, `a card is cut off: ${scroll} > ${width}`);
      } finally {
        await browser.close();
        await dashboard.close();
        await c.close();
        await Promise.all(hosts.map((h) => h.close()));
      }
    },
  );
});
