/**
 * Load balancing under a slow host (issue 4): five loopback backends, one 10× slower.
 *
 *   npx tsx bench/balance.ts [--quick] [--rounds N]
 *
 * Closed loop: fixed concurrency (16 and 64) and a fixed call count per round (200 per worker); round-robin, random,
 * p2c and p2c-ewma (one rxhttp Client and group each) and undici's BalancedPool, interleaved round by
 * round after one unmeasured warm-up round each, plus the all-healthy baseline (five 2 ms hosts,
 * p2c-ewma). Backends are pure delays (2 ms, one 20 ms) with unlimited concurrency.
 *
 * Open loop: calls arrive at a fixed rate whatever happens, each with a 1 s deadline. The backends
 * now have finite capacity (4 slots × 2 ms = 2 000/s each; the slow one 2 slots × 20 ms = 100/s), so
 * a balancer that keeps feeding the slow host a fifth of the traffic builds an ever longer queue there.
 */
import { BalancedPool } from 'undici';
import {
  arg,
  dist,
  fmt,
  fmtInt,
  median,
  percentile,
  QUICK,
  sleep,
  startServer,
  startStallMonitor,
  type Stalls,
  table,
  verdict,
  watchdog,
  type ServerHandle,
} from './util.js';

type Rxhttp = typeof import('../lib/index.js');
const rx = await dist<Rxhttp>('index');

const ROUNDS = Number(arg('rounds') ?? (QUICK ? 2 : 5));
/**
 * Calls per closed-loop round, in proportion to the concurrency (3 200 at c = 16, 12 800 at c = 64):
 * a round ends with its last call, and one last call on the slow host adds up to 20 ms to it — about
 * 10 % of a 3 000-call round at c = 64 (bench/balance-sim.ts shows the effect), which is the drain,
 * not the balancer's steady state.
 */
const callsPerRound = (c: number) => (QUICK ? 20 : 200) * c;
const FAST_MS = 2;
const SLOW_MS = 20;
const SLOW = 4; // index of the slow backend

/** Finagle's exact formula (`loadBalancer: 'finagle-p2c-ewma'`), the default until issue 20. */
const CAPPED = 'finagle-p2c-ewma';
type Contender =
  | 'round-robin'
  | 'random'
  | 'p2c'
  | 'p2c-ewma'
  | typeof CAPPED
  | 'undici BalancedPool'
  | 'all-healthy (p2c-ewma)';
const CLOSED: readonly Contender[] = [
  'round-robin',
  'random',
  'p2c',
  'p2c-ewma',
  CAPPED,
  'undici BalancedPool',
  'all-healthy (p2c-ewma)',
];

interface Caller {
  call(deadlineMs: number): Promise<unknown>;
  close(): Promise<void>;
}

function caller(name: Contender, ports: readonly number[]): Caller {
  if (name === 'undici BalancedPool') {
    const pool = new BalancedPool(ports.map((p) => `http://127.0.0.1:${p}`));
    return {
      call: async (deadlineMs) => {
        const res = await pool.request({
          path: '/',
          method: 'GET',
          ...(deadlineMs > 0 ? { signal: AbortSignal.timeout(deadlineMs) } : {}),
        });
        return res.body.text();
      },
      close: () => pool.close(),
    };
  }
  const loadBalancer = name === 'all-healthy (p2c-ewma)' ? 'p2c-ewma' : name;
  const client = new rx.Client({ requestTimeout: 10_000 });
  const group = new rx.AddressGroup(`static://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, {
    loadBalancer,
  });
  return {
    call: async (deadlineMs) =>
      (await client.get(group, '/', deadlineMs > 0 ? { timeout: deadlineMs } : {})).body.text(),
    close: async () => {
      await client.close();
      group.close();
    },
  };
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  slowShare: number;
}

async function closedRound(name: Contender, k: Caller, server: ServerHandle, c: number) {
  const CALLS = callsPerRound(c);
  await server.hits();
  const lat: number[] = [];
  let issued = 0;
  const t0 = performance.now();
  const stopAt = t0 + 30_000;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (issued < CALLS && performance.now() < stopAt) {
        issued++;
        const s = performance.now();
        await k.call(0);
        lat.push(performance.now() - s);
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const hits = (await server.hits()).slice(name.startsWith('all-healthy') ? 5 : 0).slice(0, 5);
  const total = hits.reduce((a, b) => a + b, 0);
  return {
    rps: (lat.length / elapsed) * 1_000,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    slowShare: name.startsWith('all-healthy') ? NaN : hits[SLOW]! / total,
  } satisfies Sample;
}

/** Calls at `rate`/s for `seconds`, each with a 1 s deadline; the share answered 200 in time. */
async function openLoop(
  name: Contender,
  server: ServerHandle,
  ports: readonly number[],
  rate: number,
  seconds: number,
) {
  const k = caller(name, ports);
  // Warm the connections and, for the learning balancers, the first samples.
  await Promise.all(Array.from({ length: 20 }, () => k.call(1_000).catch(() => undefined)));
  await sleep(QUICK ? 50 : 200);
  await server.hits();
  const total = rate * seconds;
  let issued = 0;
  let inTime = 0;
  const errors = new Map<string, number>();
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1_000) * rate));
    for (; issued < due; issued++) {
      const s = performance.now();
      pending.push(
        k.call(1_000).then(
          () => {
            if (performance.now() - s <= 1_000) inTime++;
          },
          (e: { code?: string }) => {
            const code = e.code ?? 'other';
            errors.set(code, (errors.get(code) ?? 0) + 1);
          },
        ),
      );
    }
    await sleep(1);
  }
  await Promise.all(pending);
  const hits = (await server.hits()).slice(10, 15);
  await k.close();
  if (process.env.BENCH_DEBUG) console.error(name, Object.fromEntries(errors), hits);
  return { inTime: inTime / total, slowShare: hits[SLOW]! / hits.reduce((a, b) => a + b, 0) };
}

/**
 * The machine's own pauses while a phase ran: every attempt in flight during one gets it added to
 * its latency sample, and peak EWMA holds such a peak for seconds (τ = 10 s).
 */
function stallLine(s: Stalls): string {
  return (
    `Machine stalls while this ran (an idle process ticking every 1 ms, late by ≥ 5 ms): ${s.count} in ` +
    `${fmt(s.seconds, 1)} s (${fmt(s.count / s.seconds, 1)} per s), longest ${fmt(s.maxMs, 1)} ms.`
  );
}

async function main(): Promise<void> {
  watchdog(QUICK ? 40 : 400, 'balance');
  const lines: string[] = ['## Load balancing under a slow host (issue 4)', ''];
  // Backends 0-4: the slow scenario; 5-9: all healthy; 10-14: finite capacity for the open loop.
  const server = await startServer([
    ...[0, 1, 2, 3, 4].map((i) => ({ delayMs: i === SLOW ? SLOW_MS : FAST_MS })),
    ...[0, 1, 2, 3, 4].map(() => ({ delayMs: FAST_MS })),
    ...[0, 1, 2, 3, 4].map((i) =>
      i === SLOW ? { delayMs: SLOW_MS, slots: 2 } : { delayMs: FAST_MS, slots: 4 },
    ),
  ]);
  const slowPorts = server.ports.slice(0, 5);
  const healthyPorts = server.ports.slice(5, 10);
  const cappedPorts = server.ports.slice(10, 15);
  const verdicts: string[] = [];
  const stalls = startStallMonitor();
  try {
    for (const c of [16, 64]) {
      await stalls.take();
      const samples = new Map<Contender, Sample[]>(CLOSED.map((n) => [n, []]));
      // One client per balancer for the whole phase, warmed by one unmeasured round: the figures are
      // the steady state (the balancers have seen every host), not the first second of a new client.
      const callers = new Map(
        CLOSED.map((n) => [n, caller(n, n.startsWith('all-healthy') ? healthyPorts : slowPorts)]),
      );
      for (const n of CLOSED) await closedRound(n, callers.get(n)!, server, c);
      for (let r = 0; r < ROUNDS; r++) {
        process.stderr.write(`balance c=${c} round ${r + 1}/${ROUNDS}\r`);
        for (const n of CLOSED) samples.get(n)!.push(await closedRound(n, callers.get(n)!, server, c));
      }
      process.stderr.write('\n');
      const phaseStalls = await stalls.take();
      for (const k of callers.values()) await k.close();
      const m = (n: Contender, f: (s: Sample) => number) => median(samples.get(n)!.map(f));
      const ratio = (a: Contender, b: Contender, f: (s: Sample) => number) =>
        median(samples.get(a)!.map((s, i) => f(s) / f(samples.get(b)![i]!)));
      lines.push(
        `### Closed loop, concurrency ${c}, ${callsPerRound(c)} calls per round, median of ${ROUNDS} rounds`,
        '',
        table(
          [
            'balancer',
            'req/s',
            'p50 ms',
            'p99 ms',
            'slow host share',
            'p99 × all-healthy',
            'req/s × all-healthy',
          ],
          CLOSED.map((n) => [
            n,
            fmtInt(m(n, (s) => s.rps)),
            fmt(m(n, (s) => s.p50)),
            fmt(m(n, (s) => s.p99)),
            n.startsWith('all-healthy') ? '–' : `${fmt(100 * m(n, (s) => s.slowShare), 1)} %`,
            fmt(ratio(n, 'all-healthy (p2c-ewma)', (s) => s.p99)),
            fmt(ratio(n, 'all-healthy (p2c-ewma)', (s) => s.rps)),
          ]),
        ),
        '',
        stallLine(phaseStalls),
        '',
      );
      const base = 'all-healthy (p2c-ewma)';
      // The issue's targets are p2c-ewma's (the default); Finagle's formula is measured against the
      // same lines beside it (the default left it in issue 20).
      for (const n of ['p2c-ewma', CAPPED] as const) {
        const p99x = ratio(n, base, (s) => s.p99);
        const rpsx = ratio(n, base, (s) => s.rps);
        const share = m(n, (s) => s.slowShare);
        const vsBp = ratio(n, 'undici BalancedPool', (s) => s.p99);
        verdicts.push(
          verdict(p99x <= 1.5, `c = ${c}: ${n} p99 ≤ 1.5× all-healthy p99`, `${fmt(p99x)}×`),
          verdict(rpsx >= 0.9, `c = ${c}: ${n} throughput ≥ 0.9× all-healthy`, `${fmt(rpsx)}×`),
          verdict(share <= 0.015, `c = ${c}: ${n} slow-host share ≤ 1.5 %`, `${fmt(100 * share, 2)} %`),
          verdict(vsBp <= 0.25, `c = ${c}: ${n} p99 ≤ 0.25× BalancedPool p99`, `${fmt(vsBp)}×`),
        );
      }
      const p2cBp = ratio('p2c', 'undici BalancedPool', (s) => s.rps);
      verdicts.push(verdict(p2cBp >= 2, `c = ${c}: p2c throughput ≥ 2× BalancedPool`, `${fmt(p2cBp)}×`));
    }

    const rate = 1_000;
    const seconds = QUICK ? 1.5 : 4;
    const openNames: Contender[] = QUICK
      ? ['round-robin', 'p2c-ewma']
      : ['round-robin', 'random', 'p2c', 'p2c-ewma', CAPPED, 'undici BalancedPool'];
    const open = new Map<Contender, { inTime: number; slowShare: number }[]>(openNames.map((n) => [n, []]));
    const openRounds = QUICK ? 1 : 3;
    await stalls.take();
    for (let r = 0; r < openRounds; r++) {
      for (const n of openNames) {
        process.stderr.write(`balance open loop ${n} round ${r + 1}/${openRounds}        \r`);
        open.get(n)!.push(await openLoop(n, server, cappedPorts, rate, seconds));
      }
    }
    process.stderr.write('\n');
    const openStalls = await stalls.take();
    const om = (n: Contender, f: (s: { inTime: number; slowShare: number }) => number) =>
      median(open.get(n)!.map(f));
    lines.push(
      `### Open loop: ${rate} calls/s for ${seconds} s, 1 s deadline, median of ${openRounds} round(s)`,
      '',
      'Healthy hosts: 4 slots × 2 ms (2 000/s each); the slow host: 2 slots × 20 ms (100/s), so a fifth of',
      'the traffic (200/s) overloads it.',
      '',
      table(
        ['balancer', 'completed in time', 'slow host share'],
        openNames.map((n) => [
          n,
          `${fmt(100 * om(n, (s) => s.inTime), 2)} %`,
          `${fmt(100 * om(n, (s) => s.slowShare), 1)} %`,
        ]),
      ),
      '',
      stallLine(openStalls),
      '',
    );
    for (const n of (['p2c', 'p2c-ewma', CAPPED] as const).filter((x) => open.has(x))) {
      const v = om(n, (s) => s.inTime);
      verdicts.push(
        verdict(v >= 0.999, `open loop: ${n} completes ≥ 99.9 % in time`, `${fmt(100 * v, 2)} %`),
      );
    }
    const rr = om('round-robin', (s) => s.inTime);
    verdicts.push(
      verdict(
        rr < 0.99,
        'open loop: round robin visibly does not (the scenario bites)',
        `${fmt(100 * rr, 2)} %`,
      ),
    );
  } finally {
    stalls.stop();
    await server.stop();
  }
  lines.push('### Targets (issue 4)', '', ...verdicts, '');
  console.log(lines.join('\n'));
}

await main();
