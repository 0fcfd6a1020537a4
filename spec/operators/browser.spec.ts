import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumForSpec } from '../helpers/ci-env.js';
import { startBackend } from '../helpers/loopback.js';

// Must-show 1 in a browser: rxhttp/operators bundled for the browser platform (rxjs included) runs
// in real Chromium on the page's own fetch against loopback backends, one of them failing.

const { executable: CHROMIUM, skip } = chromiumForSpec();

/** The page's script: each scenario's outcome lands in `window.results`. */
const PAGE_SCRIPT = `
import { Observable, lastValueFrom } from 'rxjs';
import { CircuitBreaker, FailFastError, TimeoutError, attemptTimeout, circuitBreaker, deadline, retryBackoff } from './index.ts';
const fetch$ = (url) => new Observable((s) => {
  const ac = new AbortController();
  fetch(url, { signal: ac.signal }).then(async (r) => { await r.arrayBuffer(); s.next(r); s.complete(); }, (e) => s.error(e));
  return () => ac.abort();
});
const describe = (e) => e instanceof TimeoutError ? 'timeout:' + e.phase : e instanceof FailFastError ? 'fail-fast' : String(e);
window.results = (async () => {
  const out = {};
  const retried = await lastValueFrom(fetch$('/flaky').pipe(retryBackoff({ maxAttempts: 3, backoff: { initialDelay: 20, jitter: 'none' } })));
  out.retry = retried.status;
  const breaker = new CircuitBreaker({ minimumRequestThreshold: 2, counterUpdateInterval: 1, circuitOpenWindow: 60000 });
  out.breaker = [];
  for (let i = 0; i < 10 && !out.breaker.includes('fail-fast'); i++) {
    await lastValueFrom(fetch$('/down').pipe(circuitBreaker(breaker))).then((r) => out.breaker.push(r.status), (e) => out.breaker.push(describe(e)));
    await new Promise((r) => setTimeout(r, 5));
  }
  out.state = breaker.state;
  out.attempt = await lastValueFrom(fetch$('/hang').pipe(attemptTimeout(100))).catch(describe);
  out.call = await lastValueFrom(fetch$('/hang').pipe(deadline(150))).catch(describe);
  return out;
})();
`;

test(
  'rxhttp/operators in Chromium: the retry succeeds, the breaker opens, the timeouts fire',
  { skip },
  async () => {
    assert.ok(CHROMIUM !== undefined, 'chromium is required under CI: install the Debian package `chromium`');
    const esbuild = await import('esbuild');
    const built = await esbuild.build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: 'lib/operators', loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const script = built.outputFiles[0]!.text;
    let flaky = 0;
    const counts = { down: 0 };
    const backend = await startBackend((req, res) => {
      switch (req.url) {
        case '/':
          res.setHeader('content-type', 'text/html');
          return res.end('<!doctype html><script type="module" src="/app.js"></script>');
        case '/app.js':
          res.setHeader('content-type', 'text/javascript');
          return res.end(script);
        case '/flaky':
          res.statusCode = ++flaky <= 2 ? 503 : 200;
          return res.end('x');
        case '/down':
          counts.down++;
          res.statusCode = 500;
          return res.end('down');
        case '/hang':
          return; // never answers
        default:
          res.statusCode = 404;
          res.end();
      }
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://${backend.hostPort}/`);
      await page.waitForFunction(() => 'results' in window, undefined, { timeout: 10_000 });
      const results = (await page.evaluate(
        () => (window as unknown as { results: Promise<unknown> }).results,
      )) as {
        retry: number;
        breaker: Array<number | string>;
        state: string;
        attempt: string;
        call: string;
      };
      assert.deepEqual(errors, []);
      assert.equal(results.retry, 200);
      assert.equal(flaky, 3, 'two 503s retried, then the 200');
      assert.equal(results.breaker.at(-1), 'fail-fast');
      assert.ok(results.breaker.slice(0, -1).every((s) => s === 500));
      assert.equal(counts.down, results.breaker.length - 1, 'the fail-fast call sent nothing');
      assert.equal(results.state, 'open');
      assert.equal(results.attempt, 'timeout:attempt');
      assert.equal(results.call, 'timeout:call');
    } finally {
      await browser.close();
      await backend.close();
    }
  },
);
