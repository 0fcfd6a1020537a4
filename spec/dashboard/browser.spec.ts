import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { AddressGroup, Client } from '../../lib/index.js';
import { serveDashboard } from '../../lib/dashboard/index.js';
import { CHROMIUM_ARGS, chromiumForSpec } from '../helpers/ci-env.js';
import { startBackend, staticTarget } from '../helpers/loopback.js';

const { executable: CHROMIUM, skip } = chromiumForSpec();

/**
 * Computed colours of a host row: its background and its state stripe. One evaluation, so a re-render
 * between finding the row and reading it cannot detach it.
 */
const rowColors = (page: Page, key: string) =>
  page.evaluate((k) => {
    const tr = [...document.querySelectorAll('tr.host')].find((e) => e.getAttribute('data-key') === k);
    if (!tr || !tr.firstElementChild) return undefined;
    return {
      background: getComputedStyle(tr).backgroundColor,
      stripe: getComputedStyle(tr.firstElementChild).borderLeftColor,
      badge: getComputedStyle(tr.querySelector('.badge')!).backgroundColor,
    };
  }, key);

/** `rgb(r, g, b)` to numbers. */
const rgb = (css: string) => css.match(/\d+/g)!.map(Number) as [number, number, number];

it(
  'a host row turns red when its backend fails and green again when it recovers (real Chromium)',
  { skip },
  async () => {
    assert.ok(CHROMIUM !== undefined, 'chromium is required under CI: install the Debian package `chromium`');
    let failing = false;
    const steady = await startBackend((_req, res) => setTimeout(() => res.end('ok'), 2));
    const flipping = await startBackend((_req, res) => {
      if (failing) {
        res.statusCode = 503;
        res.end('down');
      } else setTimeout(() => res.end('ok'), 2);
    });
    const client = new Client({
      circuitBreaker: {
        counterUpdateInterval: 100,
        counterSlidingWindow: 1_000,
        minimumRequestThreshold: 5,
        circuitOpenWindow: 300,
        trialRequestInterval: 200,
      },
    });
    // Two groups: a host alone in its group gets its half-open trials whatever the balancer prefers.
    // The steady group's name holds markup: the page must show it as text.
    const steadyGroup = new AddressGroup(staticTarget(steady), {
      name: '<img src=x onerror="document.title=1">shop',
    });
    const group = new AddressGroup(staticTarget(flipping), { name: 'orders' });
    client.register('shop', steadyGroup).register('orders', group);
    const dashboard = await serveDashboard(client, { updateIntervalMs: 200 });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

    // Load: two callers, a call to each group every 10 ms each, bounded in count and time, stopped in `finally`.
    let running = true;
    const deadline = performance.now() + 30_000;
    const caller = async () => {
      for (let i = 0; i < 3_000 && running && performance.now() < deadline; i++) {
        await client.get(group, '/').catch(() => undefined);
        await client.get(steadyGroup, '/').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const load = Promise.all([caller(), caller()]);
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 520 } });
      await page.goto(dashboard.url);
      const row = (state: string) => `tr[data-key="${flipping.hostPort}"][data-breaker="${state}"]`;
      await page.waitForSelector(row('closed'), { timeout: 10_000 });
      const green = (await rowColors(page, flipping.hostPort))!;
      assert.ok(
        rgb(green.stripe)[1] > rgb(green.stripe)[0],
        `a closed breaker's row is green, got ${green.stripe}`,
      );
      assert.ok(rgb(green.badge)[1] > rgb(green.badge)[0]);

      failing = true;
      await page.waitForSelector(row('open'), { timeout: 10_000 });
      const red = (await rowColors(page, flipping.hostPort))!;
      for (const css of [red.background, red.stripe, red.badge]) {
        const [r, g, b] = rgb(css);
        assert.ok(r > g && r > b, `an open breaker's row is red, got ${css}`);
      }
      assert.notDeepEqual(red, green);
      mkdirSync('spec/artifacts', { recursive: true });
      await page.screenshot({ path: 'spec/artifacts/dashboard-open-breaker.png' });

      failing = false;
      await page.waitForSelector(row('closed'), { timeout: 10_000 });
      assert.deepEqual(await rowColors(page, flipping.hostPort), green);

      const title = await page.$eval('section.card:first-child h2', (h) => h.textContent);
      assert.equal(title, '<img src=x onerror="document.title=1">shop', 'the name shows as text');
      assert.equal(await page.$$eval('section.card img', (imgs) => imgs.length), 0, 'no markup was parsed');
      assert.equal(await page.title(), 'rxhttp dashboard');
      await page.screenshot({ path: 'spec/artifacts/dashboard-recovered.png' });
    } finally {
      running = false;
      await load;
      await browser.close();
      await dashboard.close();
      await client.close();
      group.close();
      steadyGroup.close();
      await Promise.all([steady.close(), flipping.close()]);
    }
  },
);
