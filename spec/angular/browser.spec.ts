import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumForSpec } from '../helpers/ci-env.js';
import { startBackend } from '../helpers/loopback.js';
import { ANGULAR_SKIP } from '../helpers/angular-node.js';

// Must-show 3 in a browser: a page bundled for the browser with esbuild (Angular, rxjs and
// rxhttp/angular in it) whose HttpClient carries rxhttpInterceptor, against two loopback backends:
// the page's own origin (flaky, then fine) and another origin that always fails (CORS allowed).

const { executable: CHROMIUM, skip } = chromiumForSpec();

/** The page's script: its outcomes land in `window.results`. */
const PAGE_SCRIPT = `
import '@angular/compiler';
import { provideZonelessChangeDetection } from '@angular/core';
import { HttpClient, HttpErrorResponse, provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { createApplication } from '@angular/platform-browser';
import { firstValueFrom } from 'rxjs';
import { OriginBreakers, rxhttpInterceptor } from './index.ts';
const DOWN = new URLSearchParams(location.search).get('down');
const breakers = new OriginBreakers({ minimumRequestThreshold: 2, counterUpdateInterval: 1, circuitOpenWindow: 60000 });
const describe = (e) => e instanceof HttpErrorResponse ? (e.status === 0 ? e.statusText + ':' + (e.error && e.error.name) : e.status) : String(e);
window.results = (async () => {
  const app = await createApplication({ providers: [
    provideZonelessChangeDetection(),
    provideHttpClient(withFetch(), withInterceptors([
      rxhttpInterceptor({ breakers, retry: { maxAttempts: 3, backoff: { initialDelay: 20, jitter: 'none' } } }),
    ])),
  ] });
  const http = app.injector.get(HttpClient);
  const out = {};
  out.retry = await firstValueFrom(http.get('/flaky', { responseType: 'text' })).catch(describe);
  out.breaker = [];
  for (let i = 0; i < 10 && !out.breaker.some((s) => String(s).startsWith('FAIL_FAST')); i++) {
    out.breaker.push(await firstValueFrom(http.get(DOWN + '/data')).then(() => 'ok', describe));
    await new Promise((r) => setTimeout(r, 5));
  }
  out.downState = breakers.peek(DOWN).state;
  out.pageState = breakers.peek(location.origin).state;
  out.after = await firstValueFrom(http.get('/flaky', { responseType: 'text' })).catch(describe);
  app.destroy();
  return out;
})().catch((e) => ({ crashed: String(e && e.stack || e) }));
`;

const cors = (res: import('node:http').ServerResponse): void => {
  res.setHeader('access-control-allow-origin', '*');
};

test(
  'rxhttp/angular in Chromium: HttpClient with the interceptor retries to success and opens the breaker',
  { skip: skip || ANGULAR_SKIP },
  async (t) => {
    assert.ok(CHROMIUM !== undefined, 'chromium is required under CI: install the Debian package `chromium`');
    const esbuild = await import('esbuild');
    const built = await esbuild.build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: 'lib/angular', loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const script = built.outputFiles[0]!.text;
    let flaky = 0;
    const down = await startBackend((req, res) => {
      cors(res);
      res.statusCode = 500;
      res.end('down');
    });
    t.after(() => down.close());
    const page$ = await startBackend((req, res) => {
      switch (req.url?.split('?')[0]) {
        case '/':
          res.setHeader('content-type', 'text/html');
          return res.end('<!doctype html><script type="module" src="/app.js"></script>');
        case '/app.js':
          res.setHeader('content-type', 'text/javascript');
          return res.end(script);
        case '/flaky':
          res.statusCode = ++flaky <= 2 ? 503 : 200;
          return res.end(res.statusCode === 200 ? 'fine' : 'busy');
        default:
          res.statusCode = 404;
          res.end();
      }
    });
    t.after(() => page$.close());
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    t.after(() => browser.close());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const downOrigin = `http://${down.hostPort}`;
    await page.goto(`http://${page$.hostPort}/?down=${encodeURIComponent(downOrigin)}`);
    await page.waitForFunction(() => 'results' in window, undefined, { timeout: 20_000 });
    const results = (await page.evaluate(
      () => (window as unknown as { results: Promise<unknown> }).results,
    )) as {
      crashed?: string;
      retry: string;
      breaker: Array<number | string>;
      downState: string;
      pageState: string;
      after: string;
    };
    assert.deepEqual(errors, []);
    assert.equal(results.crashed, undefined);
    assert.equal(results.retry, 'fine', 'two 503s retried, then the 200');
    assert.equal(flaky, 4, 'two 503s, the 200, and one more 200 for `after`');
    assert.equal(results.breaker.at(-1), 'FAIL_FAST:FailFastError');
    assert.ok(
      results.breaker.slice(0, -1).every((s) => s === 500),
      String(results.breaker),
    );
    assert.equal(down.hits, results.breaker.length - 1, 'the fail-fast request sent nothing');
    assert.equal(results.downState, 'open');
    assert.equal(results.pageState, 'closed', 'breakers are per origin');
    assert.equal(results.after, 'fine');
  },
);
