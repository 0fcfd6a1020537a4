/**
 * Issue 4's closed loop (bench/balance.ts) as a seeded discrete-event simulation in virtual time,
 * through the real balancers and LoadStats of `dist/`, with machine-wide stalls added on purpose.
 *
 *   npx tsx bench/balance-sim.ts [--quick] [--seeds N] [--seed S] [--rounds N] [--calls N]
 *     [--overhead MS]
 *
 * Five hosts: four answer in 2 ms + U[0, 1) ms, one in 20 ms + U[0, 1) ms, plus a constant client
 * overhead per call; the all-healthy baseline has five fast hosts (p2c-ewma). C workers each issue a
 * call, wait for it, issue the next: 3 000 calls per round, one warm-up round, then the rounds
 * measured. Stalls arrive as a Poisson process (rate r per second, d ms each): nothing completes or is
 * issued inside one, so every attempt in flight ends at the stall's end with its latency inflated.
 * Between its rounds a balancer sits idle for as long as the other five contenders of balance.ts
 * would run (its costs decay). Stalls, latencies and balancer draws come from three seeded streams,
 * the same for every balancer of a scenario (common random numbers). No network, no timers.
 */
import type { AttemptEndEvent, AttemptStartEvent } from '../lib/events/events.js';
import type { Clock } from '../lib/internal/clock.js';
import type { Address, LoadBalancerName, PickContext } from '../lib/types.js';
import { arg, dist, fmt, fmtInt, median, percentile, QUICK, table, watchdog } from './util.js';

const bal = await dist<typeof import('../lib/balancer/index.js')>('balancer/index');
const { addressKey } = await dist<typeof import('../lib/events/events.js')>('events/events');
const { seededRandom } = await dist<typeof import('../lib/internal/random.js')>('internal/random');

/** A positive integer option, so every loop stays bounded. */
function count(name: string, fallback: number): number {
  const v = Number(arg(name) ?? fallback);
  if (!Number.isInteger(v) || v < 1 || v > 1e6) throw new Error(`--${name}: expected 1 to 1e6`);
  return v;
}
const ROUNDS = count('rounds', QUICK ? 2 : 5);
const SEEDS = count('seeds', QUICK ? 1 : 16);
const SEED = count('seed', 1);
/** Client time per call on top of the host's answer, ms (the real client's CPU, constant here). */
const OVERHEAD_MS = Math.max(0, Number(arg('overhead') ?? 0.3) || 0);
/** Calls per round: 200 per worker as in balance.ts, or `--calls` (fewer shows the drain tail grow). */
const CALLS_ARG = arg('calls') === undefined ? undefined : count('calls', 1);
const callsPerRound = (c: number) => CALLS_ARG ?? 200 * c;
const FAST_MS = 2;
const SLOW_MS = 20;
/** Node timer granularity on the bench server: each answer is late by U[0, 1) ms. */
const JITTER_MS = 1;
/** balance.ts interleaves six contenders round by round: each idles five rounds' time in between. */
const CONTENDERS = 6;
const SLOW = 4; // index of the slow host
const CONCURRENCY = [16, 64] as const;

/** Stall rate per second and length, ms. */
const SCENARIOS = [
  { name: 'no stalls', rate: 0, stallMs: 0 },
  { name: '0.5/s × 10 ms', rate: 0.5, stallMs: 10 },
  { name: '1/s × 5 ms', rate: 1, stallMs: 5 },
  { name: '1/s × 10 ms', rate: 1, stallMs: 10 },
  { name: '2/s × 10 ms', rate: 2, stallMs: 10 },
] as const;
type Scenario = (typeof SCENARIOS)[number];

type Contender = 'round-robin' | 'p2c' | 'p2c-ewma' | 'all-healthy (p2c-ewma)';
const CONTENDER_NAMES: readonly Contender[] = ['round-robin', 'p2c', 'p2c-ewma', 'all-healthy (p2c-ewma)'];
const BASE: Contender = 'all-healthy (p2c-ewma)';

const hostsOf = (slow: boolean): readonly Address[] =>
  [0, 1, 2, 3, 4].map((i) => Object.freeze({ host: '127.0.0.1', port: 9001 + i + (slow ? 0 : 10) }));
const SLOW_HOSTS = hostsOf(true);
const HEALTHY_HOSTS = hostsOf(false);
const NONE_TRIED: ReadonlySet<string> = new Set();

/** An independent stream per purpose and seed, so one stream's use never shifts another's. */
const stream = (seed: number, purpose: number) => seededRandom(Math.imul(seed, 0x9e3779b1) + purpose * 7919);

/**
 * Machine-wide stalls: Poisson arrivals at `rate` per second, each `stallMs` long (overlapping ones
 * merge), drawn lazily. The result maps a due time to when it happens: the end of the stall covering
 * it, else itself; ask with non-decreasing times, as the event loop does.
 */
function stalls(sc: Scenario, random: () => number): (t: number) => number {
  if (sc.rate <= 0) return (t) => t;
  const gap = () => (-Math.log(1 - random()) * 1_000) / sc.rate;
  let start = 0;
  let end = 0;
  let next = gap();
  return (t) => {
    while (end <= t) {
      start = next;
      end = start + sc.stallMs;
      for (next = start + gap(); next < end; next += gap()) end = next + sc.stallMs;
    }
    return t >= start ? end : t;
  };
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  slowShare: number;
  /** Mean peak-EWMA cost of the four fast hosts at the round's end, ms. */
  fastCost: number;
}

const noTimers = (): never => {
  throw new Error('the simulation has no timers');
};

/** One contender's warm-up round and measured rounds, in one virtual timeline. */
function simulate(who: Contender, sc: Scenario, c: number, seed: number): Sample[] {
  const hosts = who === BASE ? HEALTHY_HOSTS : SLOW_HOSTS;
  const keys = hosts.map(addressKey);
  let now = 0;
  const clock: Clock = { now: () => now, setTimer: noTimers };
  const stats = new bal.LoadStats(clock);
  const balancer = bal.createBalancer(who === BASE ? 'p2c-ewma' : (who as LoadBalancerName));
  const release = stalls(sc, stream(seed, 1));
  const jitter = stream(seed, 2);
  const ctx: PickContext & { now: number } = {
    now: 0,
    attempt: 1,
    random: stream(seed, 3),
    load: (a) => stats.load(a, ctx.now),
  };
  const due = new Float64Array(c);
  const host = new Int32Array(c);
  const starts: AttemptStartEvent[] = [];
  // Completion events: workers in flight by due time, latest first, so the next one pops off the end
  // (at most 64: a binary search and a splice beat a heap here).
  const queue: number[] = [];
  let callId = 0;

  const issue = (w: number): void => {
    ctx.now = now;
    const address = bal.selectAddress(hosts, balancer, ctx, undefined, NONE_TRIED) ?? hosts[0]!;
    const i = hosts.indexOf(address);
    const key = keys[i]!;
    // Literal events as lib/client/call.ts emits them.
    const start: AttemptStartEvent = {
      type: 'attempt-start',
      time: now,
      callId: ++callId,
      group: 'sim',
      method: 'GET',
      attempt: 1,
      address,
      key,
      breakerKey: key,
      path: '/',
    };
    stats.update(start);
    starts[w] = start;
    host[w] = i;
    const serve = who !== BASE && i === SLOW ? SLOW_MS : FAST_MS;
    const at = (due[w] = now + serve + JITTER_MS * jitter() + OVERHEAD_MS);
    let lo = 0;
    for (let hi = queue.length; lo < hi;) {
      const mid = (lo + hi) >> 1;
      if (due[queue[mid]!]! > at) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, w);
  };

  const complete = (w: number): number => {
    const start = starts[w]!;
    const durationMs = now - start.time;
    const end: AttemptEndEvent = {
      type: 'attempt-end',
      time: now,
      callId: start.callId,
      group: start.group,
      method: start.method,
      attempt: 1,
      address: start.address,
      key: start.key,
      breakerKey: start.breakerKey,
      durationMs,
      status: 200,
      cancelled: false,
      verdict: 'success',
    };
    stats.update(end);
    return durationMs;
  };

  const samples: Sample[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    now = release(now);
    const t0 = now;
    const CALLS = callsPerRound(c);
    const latencies = new Float64Array(CALLS);
    let issued = 0;
    let done = 0;
    let slow = 0;
    for (let w = 0; w < c && issued < CALLS; w++, issued++) issue(w);
    while (queue.length > 0) {
      const w = queue.pop()!;
      now = release(due[w]!);
      latencies[done++] = complete(w);
      if (host[w] === SLOW) slow++;
      if (issued < CALLS) {
        issued++;
        issue(w);
      }
    }
    const elapsed = now - t0;
    if (r > 0) {
      const fast = hosts.slice(0, SLOW).map((a) => stats.load(a, now).cost);
      samples.push({
        rps: (done / elapsed) * 1_000,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        slowShare: who === BASE ? NaN : slow / done,
        fastCost: fast.reduce((x, y) => x + y, 0) / fast.length,
      });
    }
    now += (CONTENDERS - 1) * elapsed;
  }
  return samples;
}

const COLUMNS =
  'stalls | balancer | calls/s | p50 ms | p99 ms | slow share (median) | slow share (mean) | ' +
  'fast-host cost ms | p99 × all-healthy | calls/s × all-healthy';
const TARGETS =
  'stalls | c | p2c-ewma p99 × all-healthy ≤ 1.5 | p2c-ewma calls/s × all-healthy ≥ 0.9 | ' +
  'p2c-ewma slow share ≤ 1.5 % | p2c-ewma p99 × round robin ≤ 0.25 | p2c calls/s × round robin ≥ 2';

async function main(): Promise<void> {
  watchdog(QUICK ? 30 : 120, 'balance-sim');
  const t0 = performance.now();
  const all = new Map<string, Sample[]>();
  const id = (c: number, sc: Scenario, n: Contender) => `${c}|${sc.name}|${n}`;
  for (const c of CONCURRENCY) {
    for (const sc of SCENARIOS) {
      for (const n of CONTENDER_NAMES) {
        const s: Sample[] = [];
        for (let k = 0; k < SEEDS; k++) s.push(...simulate(n, sc, c, SEED + k));
        all.set(id(c, sc, n), s);
        // A turn for the event loop, so the watchdog can fire.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  const lines = [
    '## Load balancing under a slow host, simulated (issue 4)',
    '',
    `\`${['npx tsx bench/balance-sim.ts', ...process.argv.slice(2)].join(' ')}\`: a seeded discrete-event`,
    "simulation in virtual time through dist/'s `selectAddress`, balancers and `LoadStats` (no network).",
    `Hosts 2 ms (four) and 20 ms (one), each + U[0, 1) ms, + ${fmt(OVERHEAD_MS, 1)} ms client overhead;`,
    `closed loop, ${CALLS_ARG ?? '200 × c'} calls per round, one warm-up round, median of ${ROUNDS} rounds × ${SEEDS}`,
    `seed(s) from ${SEED}; idle ${CONTENDERS - 1} rounds' time between rounds (the interleaving of`,
    'balance.ts). Stalls: Poisson, machine-wide; calls due inside one complete at its end.',
    '',
  ];
  const targets: string[][] = [];
  const mark = (v: number, ok: boolean) => `${fmt(v)} ${ok ? '✓' : '✗'}`;
  for (const c of CONCURRENCY) {
    const rows: string[][] = [];
    for (const sc of SCENARIOS) {
      const get = (n: Contender) => all.get(id(c, sc, n))!;
      const m = (n: Contender, f: (s: Sample) => number) => median(get(n).map(f));
      // Per paired (seed, round) sample, then the median, as balance.ts takes its ratios.
      const ratio = (a: Contender, b: Contender, f: (s: Sample) => number) =>
        median(get(a).map((s, i) => f(s) / f(get(b)[i]!)));
      for (const n of CONTENDER_NAMES) {
        const share = (f: (xs: number[]) => number) =>
          n === BASE ? '–' : `${fmt(100 * f(get(n).map((s) => s.slowShare)), 2)} %`;
        rows.push([
          sc.name,
          n,
          fmtInt(m(n, (s) => s.rps)),
          fmt(m(n, (s) => s.p50)),
          fmt(m(n, (s) => s.p99)),
          share(median),
          share((xs) => xs.reduce((x, y) => x + y, 0) / xs.length),
          fmt(m(n, (s) => s.fastCost)),
          fmt(ratio(n, BASE, (s) => s.p99)),
          fmt(ratio(n, BASE, (s) => s.rps)),
        ]);
      }
      const p99x = ratio('p2c-ewma', BASE, (s) => s.p99);
      const rpsx = ratio('p2c-ewma', BASE, (s) => s.rps);
      const share = m('p2c-ewma', (s) => s.slowShare);
      const vsRr = ratio('p2c-ewma', 'round-robin', (s) => s.p99);
      const p2cRr = ratio('p2c', 'round-robin', (s) => s.rps);
      targets.push([
        sc.name,
        String(c),
        mark(p99x, p99x <= 1.5),
        mark(rpsx, rpsx >= 0.9),
        `${fmt(100 * share, 2)} % ${share <= 0.015 ? '✓' : '✗'}`,
        mark(vsRr, vsRr <= 0.25),
        mark(p2cRr, p2cRr >= 2),
      ]);
    }
    lines.push(`### Concurrency ${c}`, '', table(COLUMNS.split(' | '), rows), '');
  }
  lines.push(
    '### Issue 4 targets (✓ met, ✗ not met; round robin stands in for undici BalancedPool)',
    '',
    table(TARGETS.split(' | '), targets),
    '',
  );
  console.log(lines.join('\n'));
  console.error(`balance-sim: ${fmt((performance.now() - t0) / 1_000, 1)} s`);
}

await main();
