/**
 * rxhttp against the server's ceiling: `wrk` (Debian's, /usr/bin/wrk, one thread) and rxhttp, then
 * raw undici `Pool.request`, against the same loopback server with the same 64 connections,
 * interleaved round by round; ratios per round, then the median.
 *
 *   npx tsx bench/ceiling.ts [--quick] [--rounds N]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CONNECTIONS, createContender } from './contenders.js';
import {
  arg,
  closedLoop,
  fmt,
  fmtInt,
  median,
  QUICK,
  startServer,
  table,
  verdict,
  watchdog,
} from './util.js';

const run = promisify(execFile);
const ROUNDS = Number(arg('rounds') ?? (QUICK ? 2 : 5));
const SECONDS = QUICK ? 1 : 3; // wrk takes whole seconds
const WRK = '/usr/bin/wrk';

async function wrk(url: string): Promise<number> {
  const { stdout } = await run(WRK, ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, url], {
    timeout: (SECONDS + 10) * 1_000,
  });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`unexpected wrk output: ${stdout}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  watchdog(QUICK ? 30 : 120, 'ceiling');
  const server = await startServer();
  const port = server.ports[0]!;
  const url = `http://127.0.0.1:${port}/`;
  const rxc = await createContender('rxhttp Promise', port);
  const pool = await createContender('undici Pool.request', port);
  // Node clients run half a second in the quick run: a rate needs no more, and wrk takes whole seconds.
  const load = { concurrency: CONNECTIONS, count: 10_000_000, maxMs: QUICK ? 500 : SECONDS * 1_000 };
  const rate = async (call: () => Promise<unknown>) => {
    const r = await closedLoop(call, load);
    return (r.completed / r.elapsedMs) * 1_000;
  };
  const rows: { wrk: number; rx: number; pool: number }[] = [];
  try {
    if (!QUICK) await wrk(url);
    await rate(rxc.call!);
    await rate(pool.call!);
    for (let i = 0; i < ROUNDS; i++) {
      process.stderr.write(`ceiling round ${i + 1}/${ROUNDS}\r`);
      rows.push({ wrk: await wrk(url), rx: await rate(rxc.call!), pool: await rate(pool.call!) });
    }
    process.stderr.write('\n');
  } finally {
    await rxc.close();
    await pool.close();
    await server.stop();
  }
  const rxRatio = median(rows.map((r) => r.rx / r.wrk));
  const poolRatio = median(rows.map((r) => r.pool / r.wrk));
  console.log(
    [
      `## Against the server's ceiling (wrk -t1 -c${CONNECTIONS}, ${SECONDS} s per round, median of ${ROUNDS})`,
      '',
      table(
        ['client', 'req/s', '× wrk'],
        [
          ['wrk', fmtInt(median(rows.map((r) => r.wrk))), '1.00'],
          ['undici Pool.request', fmtInt(median(rows.map((r) => r.pool))), fmt(poolRatio)],
          ['rxhttp Promise (full chain)', fmtInt(median(rows.map((r) => r.rx))), fmt(rxRatio)],
        ],
      ),
      '',
      verdict(rxRatio >= 0.75, 'rxhttp ≥ 0.75× wrk against the same server', `${fmt(rxRatio)}×`),
      '',
    ].join('\n'),
  );
}

await main();
