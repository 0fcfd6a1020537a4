/**
 * Process lifecycle, end to end: scripts run as child processes (node + tsx) against real servers
 * and a real dnsmasq in this process, and we watch whether and when they exit. rxhttp's idle state
 * (resolver refresh timers, idle keep-alive sockets) must not hold a process open; a call in flight
 * must. Bounds are generous: they tell "exits" from "hangs", they do not measure speed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { startBackend, type Backend } from '../helpers/loopback.js';
import { dnsmasqMissing, startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';

const LIB = pathToFileURL(resolve('lib/index.ts')).href;
const UNDICI = pathToFileURL(createRequire(import.meta.url).resolve('undici')).href;
/**
 * How much longer than undici alone a script may take to exit after `close()` resolved, ms (the
 * must-show bound). Relative to undici alone because undici itself needs 0.1-0.5 s to let a process
 * go after `pool.destroy()`, more on a loaded machine: that is the floor "as with undici alone".
 */
const EXIT_AFTER_CLOSE_MS = 1_000;
/** How long a script that never closes may take to exit once idle: keep-alive timeout (4 s) + slack. */
const EXIT_WHEN_IDLE_MS = 12_000;
/** Longer than any script here should live: past it the child is killed and counted as hung. */
const HANG_MS = 30_000;

const skip = dnsmasqMissing();

interface Run {
  /** Lines the script printed, with the time each arrived (ms since spawn). */
  readonly lines: readonly { readonly text: string; readonly at: number }[];
  /** When the process exited, ms since spawn; undefined when it had to be killed. */
  readonly exitedAt: number | undefined;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs `body` as an ES module script under tsx, with `lib` imported as `rx`; kills it after `HANG_MS`. */
function runScript(dir: string, name: string, body: string): Promise<Run> {
  const file = join(dir, `${name}.mts`);
  writeFileSync(
    file,
    `import * as rx from ${JSON.stringify(LIB)};\nconst say = (s: string) => process.stdout.write(s + '\\n');\n${body}\n`,
  );
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: { text: string; at: number }[] = [];
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let i: number;
    while ((i = pending.indexOf('\n')) >= 0) {
      lines.push({ text: pending.slice(0, i), at: performance.now() - started });
      pending = pending.slice(i + 1);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, HANG_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ lines, exitedAt: killed ? undefined : performance.now() - started, code, stderr });
    });
  });
}

function lineAt(run: Run, text: string): number {
  const line = run.lines.find((l) => l.text === text);
  assert.ok(
    line,
    `the script never printed "${text}"; stdout: ${JSON.stringify(run.lines)}; stderr: ${run.stderr}`,
  );
  return line.at;
}

describe('lifecycle: an idle rxhttp never holds a process open', { skip: skip ?? false }, () => {
  let dir: string;
  let dns: Dnsmasq;
  let backend: Backend;
  let flakyHits = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rxhttp-lifecycle-'));
    backend = await startBackend((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('slow'), 1_500);
      if (req.url === '/flaky') return void ((res.statusCode = ++flakyHits % 2 === 1 ? 503 : 200), res.end());
      res.end('ok');
    });
    dns = await startDnsmasq({ hosts: [`127.0.0.1 svc.test`] });
  });

  after(async () => {
    await dns?.stop();
    await backend?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const groups = () => `
const dns = new rx.AddressGroup('dns://svc.test:${backend.port}', { dnsServers: [${JSON.stringify(dns.server)}], minTtl: 200 });
const fixed = new rx.AddressGroup('static://127.0.0.1:${backend.port}');
const client = new rx.Client();
for (let i = 0; i < 5; i++) {
  if ((await client.get(dns, '/')).status !== 200) throw new Error('dns call failed');
  if ((await client.get(fixed, '/')).status !== 200) throw new Error('static call failed');
}
if ((await client.fetch('http://127.0.0.1:${backend.port}/')).status !== 200) throw new Error('fetch failed');
`;

  test('calls through a dns:// and a static:// group, then close() without closing the groups: exits within 1 s (of undici alone)', async (t) => {
    // The same calls through a bare undici Pool, destroyed: how long undici alone takes to let go.
    const bare = await runScript(
      dir,
      'undici',
      `const { Pool } = await import(${JSON.stringify(UNDICI)});
const pool = new Pool('http://127.0.0.1:${backend.port}');
for (let i = 0; i < 11; i++) await (await pool.request({ path: '/', method: 'GET' })).body.text();
await pool.destroy();
say('closed');`,
    );
    const run = await runScript(dir, 'close', `${groups()}\nawait client.close();\nsay('closed');`);
    const closedAt = lineAt(run, 'closed');
    assert.ok(run.exitedAt !== undefined, `still running ${HANG_MS} ms after start: something holds it open`);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(bare.exitedAt !== undefined, bare.stderr);
    const ours = run.exitedAt - closedAt;
    const undici = bare.exitedAt - lineAt(bare, 'closed');
    t.diagnostic(
      `exited ${Math.round(ours)} ms after close() resolved; undici alone: ${Math.round(undici)} ms`,
    );
    assert.ok(
      ours <= Math.max(undici, 0) + EXIT_AFTER_CLOSE_MS,
      `exited ${Math.round(ours)} ms after close() resolved (undici alone: ${Math.round(undici)} ms)`,
    );
  });

  test('the same script that never calls close() exits by itself once idle', async (t) => {
    const run = await runScript(dir, 'idle', `${groups()}\nsay('idle');`);
    const idleAt = lineAt(run, 'idle');
    assert.ok(run.exitedAt !== undefined, `still running ${HANG_MS} ms after start: something holds it open`);
    assert.equal(run.code, 0, run.stderr);
    t.diagnostic(`exited ${Math.round(run.exitedAt - idleAt)} ms after going idle`);
    assert.ok(
      run.exitedAt - idleAt <= EXIT_WHEN_IDLE_MS,
      `exited ${Math.round(run.exitedAt - idleAt)} ms after going idle`,
    );
  });

  test('a call in flight (slow response, or waiting in back-off) keeps the process alive until it settles', async () => {
    const run = await runScript(
      dir,
      'inflight',
      `${groups()}
client.get(dns, '/slow').then((r) => say('slow ' + r.status), (e) => say('slow failed ' + e.code));
client.get(fixed, '/flaky', { retry: { maxAttempts: 3, backoff: { initialDelay: 1_000, maxDelay: 1_000, jitter: 'none' } } })
  .then((r) => say('retried ' + r.status), (e) => say('retried failed ' + e.code));
say('started');`,
    );
    lineAt(run, 'started');
    assert.ok(run.exitedAt !== undefined, 'hung after the calls settled');
    assert.equal(run.code, 0, run.stderr);
    lineAt(run, 'slow 200');
    lineAt(run, 'retried 200');
  });
});
