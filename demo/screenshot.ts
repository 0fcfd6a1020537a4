/**
 * Takes `docs/dashboard.png` for the README: runs the demo with the dashboard open in headless
 * Chromium (launched before the load, so its start-up does not disturb the figures) and shoots it
 * half way through the resilient run, while the mortal backend is down and its breaker open.
 *
 *   npx tsx demo/screenshot.ts [out.png]
 */
import { statSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runDemo } from './run.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
const out = process.argv[2] ?? 'docs/dashboard.png';

let browser: Browser | undefined;
let page: Page | undefined;
let shot: Promise<unknown> | undefined;
try {
  await runDemo({
    seconds: 12,
    onStart: async (url) => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      // The width the README promises the page fits without scrolling sideways.
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(url);
      await page.waitForSelector('tr.host'); // in the first HTML already
    },
    onHalfway: (_url, run) => {
      if (run === 1) shot = page?.screenshot({ path: out });
      return shot as Promise<void> | undefined;
    },
  });
  await shot;
} finally {
  await browser?.close();
}
console.log(`wrote ${out} (${Math.round(statSync(out).size / 1024)} KiB)`);
