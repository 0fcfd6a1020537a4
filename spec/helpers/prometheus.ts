import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Subject } from 'rxjs';
import type { CallEvent } from '../../lib/events/events.js';
import type { MetricSources } from '../../lib/observability/metrics.js';
import type { BreakerSnapshot } from '../../lib/types.js';
import { isCI, onPath } from './ci-env.js';

/** The Debian package that ships both `prometheus` and `promtool`. */
export const PROMETHEUS_PACKAGE = 'prometheus';

/** The absolute path of an executable on PATH, or undefined. */
export const findBinary = (name: string): string | undefined => onPath(name);

/**
 * How a spec needing `name` should run: skipped with a message naming the Debian package when the
 * binary is missing, except under CI ({@link isCI}), where the spec runs and fails on the missing binary.
 */
export function binaryRequirement(name: string): { path: string | undefined; skip: string | false } {
  const path = findBinary(name);
  if (path !== undefined || isCI()) return { path, skip: false };
  return {
    path,
    skip: `${name} not found: install the Debian package \`${PROMETHEUS_PACKAGE}\` (apt-get install -y ${PROMETHEUS_PACKAGE})`,
  };
}

/** Asserts the binary exists (the CI branch of {@link binaryRequirement}). */
export function requireBinary(req: { path: string | undefined }, name: string): string {
  if (req.path === undefined) {
    throw new Error(`${name} is required when CI=true: install the Debian package \`${PROMETHEUS_PACKAGE}\``);
  }
  return req.path;
}

/** Serves `registry.metrics()` on 127.0.0.1 and a random port, at any path. */
export async function serveRegistry(registry: Registry): Promise<{ target: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** One sample of an instant-query vector. */
export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

/** A Prometheus server run for one spec. */
export interface PrometheusProcess {
  readonly url: string;
  query(expr: string): Promise<Sample[]>;
  /** Polls `expr` until `accept` holds, every 250 ms, up to `timeoutMs`; returns the last result. */
  waitFor(expr: string, accept: (samples: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `prometheus` on a random loopback port with a temporary config and data directory under
 * `os.tmpdir()`, scraping `target` every second. `stop()` kills it and removes the directory.
 */
export async function startPrometheus(
  binary: string,
  target: string,
  readyTimeoutMs = 30_000,
): Promise<PrometheusProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'rxhttp-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: rxhttp',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );

  let child: ChildProcess | undefined;
  let stderr = '';
  let exited = false;
  const stop = async (): Promise<void> => {
    if (child !== undefined && !exited) {
      const proc = child;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = await Promise.race([
        gone.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5_000))),
      ]);
      clearTimeout(timer);
      if (!killed) {
        proc.kill('SIGKILL');
        await gone;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // A port freed a moment ago may be taken again before Prometheus binds it: try a few.
    for (let tries = 0; tries < 3; tries++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      stderr = '';
      exited = false;
      const proc = spawn(
        binary,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child = proc;
      proc.stderr?.on('data', (c: Buffer) => {
        stderr = (stderr + c.toString('utf8')).slice(-4_000);
      });
      proc.once('exit', () => {
        exited = true;
      });
      const deadline = performance.now() + readyTimeoutMs;
      while (!exited && performance.now() < deadline) {
        try {
          const res = await fetch(`${url}/-/ready`);
          await res.arrayBuffer();
          if (res.ok) return handle(url, stop);
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      if (!exited) throw new Error(`prometheus not ready within ${readyTimeoutMs} ms: ${stderr}`);
    }
    throw new Error(`prometheus exited before becoming ready: ${stderr}`);
  } catch (err) {
    await stop();
    throw err;
  }
}

function handle(url: string, stop: () => Promise<void>): PrometheusProcess {
  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success' || body.data === undefined)
      throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    url,
    query,
    async waitFor(expr, accept, timeoutMs = 30_000) {
      const deadline = performance.now() + timeoutMs;
      let last: Sample[] = [];
      while (performance.now() < deadline) {
        last = await query(expr);
        if (accept(last)) return last;
        await sleep(250);
      }
      throw new Error(`${expr} never matched within ${timeoutMs} ms; last result ${JSON.stringify(last)}`);
    },
    stop,
  };
}

function snapshot(state: BreakerSnapshot['state']): BreakerSnapshot {
  return { state, failureRate: state === 'open' ? 1 : 0, total: 10, since: 0 };
}

/** Sources with one open and one closed breaker, and a group of two addresses. */
export const sampleSources: MetricSources = {
  breakerSnapshots: () =>
    new Map([
      ['127.0.0.1:9001', snapshot('open')],
      ['127.0.0.1:9002', snapshot('closed')],
    ]),
  groupAddressCounts: () => new Map([['users', 2]]),
};

/**
 * A representative workload on the event stream, made to `/secret/42?token=x`: a call retried after a
 * 503 on one host then answered 200 by the other, a breaker opening (a fed transition event unless
 * `transition: false`), and a call failing fast.
 */
export function feedSampleWorkload(
  events$: Subject<CallEvent>,
  { transition = true }: { transition?: boolean } = {},
): void {
  const path = '/secret/42?token=x';
  const call = { time: 0, callId: 1, group: 'users', method: 'GET' };
  const at = (attempt: number, port: number) => ({
    ...call,
    attempt,
    address: { host: '127.0.0.1', port },
    key: `127.0.0.1:${port}`,
    breakerKey: `127.0.0.1:${port}`,
  });
  events$.next({ ...call, type: 'call-start', path });
  events$.next({ ...at(1, 9001), type: 'attempt-start', path });
  events$.next({
    ...at(1, 9001),
    type: 'attempt-end',
    durationMs: 12,
    status: 503,
    cancelled: false,
    verdict: 'failure',
  });
  events$.next({
    ...call,
    type: 'retry-scheduled',
    attempt: 2,
    delayMs: 100,
    delayReason: 'backoff',
    reason: '503',
  });
  // Without `transition`, a real breaker fed these events makes its own.
  if (transition)
    events$.next({
      type: 'breaker-transition',
      time: 0,
      breakerKey: '127.0.0.1:9001',
      from: 'closed',
      to: 'open',
    });
  events$.next({ ...at(2, 9002), type: 'attempt-start', path });
  events$.next({
    ...at(2, 9002),
    type: 'attempt-end',
    durationMs: 7,
    status: 200,
    cancelled: false,
    verdict: 'success',
  });
  events$.next({ ...call, type: 'call-end', durationMs: 130, attempts: 2, status: 200, outcome: 'ok' });

  const failing = { ...call, callId: 2, method: 'POST' };
  events$.next({ ...failing, type: 'call-start', path });
  events$.next({ ...failing, type: 'fail-fast', attempt: 1 });
  events$.next({
    ...failing,
    type: 'call-end',
    durationMs: 0,
    attempts: 0,
    errorCode: 'FAIL_FAST',
    outcome: 'error',
  });
  events$.next({
    type: 'resolver-error',
    time: 0,
    group: 'users',
    errorCode: 'ENOTFOUND',
    message: 'lookup failed',
  });
}
