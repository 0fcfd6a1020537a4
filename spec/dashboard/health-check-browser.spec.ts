import assert from 'node:assert/strict';
import { it } from 'node:test';
import { chromium } from 'playwright-core';
import { AddressGroup, Client } from '../../lib/index.js';
import { serveDashboard } from '../../lib/dashboard/index.js';
import { startBackend, staticTarget } from '../helpers/loopback.js';
import { CHROMIUM_ARGS, chromiumForSpec } from '../helpers/ci-env.js';

const { executable: CHROMIUM, skip } = chromiumForSpec();

it(
  "the dashboard shows a host's health-check verdict and a group's bulkhead (real Chromium)",
  { skip },
  async () => {
    let healthy = true;
    const backend = await startBackend((req, res) => {
      res.statusCode = req.url === '/health' && !healthy ? 503 : 200;
      res.end();
    });
    const client = new Client();
    const group = new AddressGroup(staticTarget(backend), {
      name: 'orders',
      healthCheck: { path: '/health', interval: 100, unhealthyThreshold: 2 },
      maxConcurrentCalls: 4,
      maxQueued: 2,
    });
    client.register('orders', group);
    const dashboard = await serveDashboard(client, { updateIntervalMs: 200 });
    assert.ok(CHROMIUM !== undefined, 'chromium is required under CI: install the Debian package `chromium`');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 600 } });
      await page.goto(dashboard.url);
      const row = (hc: string) => `tr[data-key="${backend.hostPort}"][data-health-check="${hc}"]`;
      await page.waitForSelector(row('passing'), { timeout: 10_000 });
      healthy = false;
      await page.waitForSelector(row('failing'), { timeout: 10_000 });
      assert.equal(await page.$eval(`${row('failing')} .hc`, (e) => e.textContent), 'hc failing');
      const stats = await page.$$eval('section.card .stat', (els) => els.map((e) => e.textContent));
      assert.ok(stats.includes('in progress0 / 4'), stats.join(' | '));
      assert.ok(stats.includes('queued0 / 2'));
      assert.ok(stats.includes('overloaded0'));
    } finally {
      await browser.close();
      await dashboard.close();
      await client.close();
      group.close();
      await backend.close();
    }
  },
);
