/**
 * The cost of always-on health statistics (issue 16): the full chain's client CPU per request at
 * c = 64, before and after, side by side in one run.
 *
 *   npx tsx bench/health-stats.ts [--quick] [--rounds N] [--before <commit>]
 *
 * "Before" is a real build of `--before` (default: the merge base with `main`), exported with
 * `git archive` into `.tmp/bench-build-<sha>/` and compiled there once; "after" is this tree's
 * `dist/`, and "after, 2nd copy" the committed HEAD built the same way as "before". Each is its own
 * module copy (its own JIT state), loaded into this one process and run interleaved round by round
 * against one loopback server child, with undici `Pool.request` as the reference of every ratio (as
 * in `throughput.ts`). The two copies of "after" give the A/A line: the ratio two identical builds
 * get, i.e. the noise a before/after difference must exceed to mean anything. (Commit first: the
 * 2nd copy is HEAD, `dist/` is the working tree.)
 */
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { RX_CALL } from './contenders.js';
import {
  arg,
  buildAt,
  closedLoop,
  dist,
  fmt,
  median,
  QUICK,
  ROOT,
  startServer,
  table,
  watchdog,
  type LoadOptions,
} from './util.js';

type Rxhttp = typeof import('../lib/index.js');

const ROUNDS = Number(arg('rounds') ?? (QUICK ? 9 : 21));
const C = 64;
const LOAD: LoadOptions = { concurrency: C, count: QUICK ? 3_000 : 10_000, maxMs: QUICK ? 600 : 2_000 };
const WARMUP: LoadOptions = { concurrency: C, count: QUICK ? 6_000 : 30_000, maxMs: QUICK ? 1_000 : 3_000 };

interface Contender {
  readonly name: string;
  readonly call: () => Promise<unknown>;
  close(): Promise<void>;
}

/** The full chain as in `contenders.ts`: breaker, retry budget, p2c-ewma one-host group, retry 3, deadline. */
function rxContender(name: string, rx: Rxhttp, port: number): Contender {
  const client = new rx.Client({ connections: C, requestTimeout: 10_000 });
  const group = new rx.AddressGroup(`static://127.0.0.1:${port}`);
  return {
    name,
    call: async () => (await client.get(group, '/', RX_CALL)).body.text(),
    close: async () => {
      await client.close();
      group.close();
    },
  };
}

watchdog(QUICK ? 180 : 600, 'health-stats');
const beforeRef =
  arg('before') ??
  execFileSync('git', ['merge-base', 'HEAD', 'main'], { cwd: ROOT, encoding: 'utf8' }).trim();
const before = buildAt(beforeRef);
const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
const rxBefore = (await import(pathToFileURL(`${before.dir}/dist/index.js`).href)) as Rxhttp;
const rxAfter = await dist<Rxhttp>('index');
const again = buildAt('HEAD');
const rxAfter2 = (await import(pathToFileURL(`${again.dir}/dist/index.js`).href)) as Rxhttp;

const server = await startServer();
const port = server.ports[0]!;
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: C });
const contenders: Contender[] = [
  {
    name: 'undici Pool.request',
    call: async () => (await pool.request({ path: '/', method: 'GET' })).body.text(),
    close: () => pool.close(),
  },
  rxContender(`rxhttp before (${before.sha})`, rxBefore, port),
  rxContender(`rxhttp after (${head})`, rxAfter, port),
  rxContender(`rxhttp after (${head}), 2nd copy`, rxAfter2, port),
];

/**
 * The statistics alone: ns per call for the events one successful call emits into them (attempt-end
 * and call-end; the others return at the switch), fed straight into `HealthStats.update`.
 */
async function perCallNs(): Promise<number> {
  const { HealthStats } = await dist<typeof import('../lib/client/health-stats.js')>('client/health-stats');
  const stats = new HealthStats(performance.now());
  const address = { host: '127.0.0.1', port: port };
  const key = `127.0.0.1:${port}`;
  const scope = { callId: 1, group: 'bench', method: 'GET' };
  // Built once and re-stamped, so the figure is the statistics' work, not the loop's allocation.
  const attemptEnd = {
    type: 'attempt-end' as const,
    time: 0,
    ...scope,
    attempt: 1,
    address,
    key,
    breakerKey: key,
    durationMs: 1,
    status: 200,
    cancelled: false,
    verdict: 'success' as const,
  };
  const callEnd = {
    type: 'call-end' as const,
    time: 0,
    ...scope,
    durationMs: 1,
    attempts: 1,
    status: 200,
    outcome: 'ok' as const,
  };
  const n = 2_000_000;
  const run = () => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      attemptEnd.time = callEnd.time = t0 + i * 0.01;
      attemptEnd.durationMs = callEnd.durationMs = 1 + (i % 7);
      stats.update(attemptEnd);
      stats.update(callEnd);
    }
    return ((performance.now() - t0) * 1e6) / n;
  };
  run();
  return median([run(), run(), run()]);
}

try {
  const statsNs = await perCallNs();
  for (const c of contenders) await closedLoop(c.call, WARMUP);
  const cpu = contenders.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order each round, so no contender always runs right after the same one.
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + r) % contenders.length;
      const res = await closedLoop(contenders[i]!.call, LOAD);
      cpu[i]!.push(res.userUs / Math.max(1, res.completed));
    }
  }
  const perRound = (a: number, b: number) => median(cpu[a]!.map((x, i) => x / cpu[b]![i]!));
  const rows = contenders.map((c, i) => [c.name, fmt(median(cpu[i]!), 1), fmt(perRound(i, 0))]);
  console.log(
    [
      `### Always-on health statistics: full chain user CPU per request, c = ${C}`,
      '',
      `${ROUNDS} interleaved rounds of ${LOAD.count} calls (cut at ${LOAD.maxMs} ms) after one warm-up each; medians.`,
      '',
      table(['contender', 'user CPU µs/req', 'CPU × Pool.request'], rows),
      '',
      `- after ÷ before, per round then median: **${fmt(perRound(2, 1), 3)}×**`,
      `- A/A (after ÷ its 2nd copy), the noise floor: ${fmt(perRound(2, 3), 3)}×; ` +
        `2nd copy ÷ before: ${fmt(perRound(3, 1), 3)}×`,
      `- the statistics alone, per call (attempt-end + call-end into \`HealthStats.update\`): ${fmt(statsNs, 0)} ns`,
    ].join('\n'),
  );
} finally {
  for (const c of contenders) await c.close();
  await server.stop();
}
