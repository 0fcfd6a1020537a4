/**
 * Issue 4's closed loop (bench/balance.ts) as a seeded discrete-event simulation in virtual time,
 * through the real balancers and LoadStats of `dist/`, with machine-wide stalls added on purpose.
 *
 *   npx tsx bench/balance-sim.ts [--quick] [--seeds N] [--seed S] [--rounds N] [--calls N]
 *     [--overhead MS] [--k K] [--alpha A]
 *
 * Five hosts: four answer in 2 ms + U[0, 1) ms, one in 20 ms + U[0, 1) ms, plus a constant client
 * overhead per call; the all-healthy baseline has five fast hosts (p2c-ewma). C workers each issue a
 * call, wait for it, issue the next: 3 000 calls per round, one warm-up round, then the rounds
 * measured. Stalls arrive as a Poisson process (rate r per second, d ms each): nothing completes or is
 * issued inside one, so every attempt in flight ends at the stall's end with its latency inflated.
 * Between its rounds a balancer sits idle for as long as the other five contenders of balance.ts
 * would run (its costs decay). Stalls, latencies and balancer draws come from three seeded streams,
 * the same for every balancer of a scenario (common random numbers). No network, no timers.
 *
 * Also two PROPOSALS that exist only in this file (not rxhttp's behaviour), for the decision on the
 * latency signal: the peak capped at k × a per-sample EWMA, and a peak that skips samples held by a
 * pause; and a reaction run without stalls (five fast hosts, one turns 20 ms mid-round, or recovers).
 */
import type { PeakEwmaState } from '../lib/balancer/peak-ewma.js';
import type { AttemptEndEvent, AttemptStartEvent, CallEvent } from '../lib/events/events.js';
import type { Clock } from '../lib/internal/clock.js';
import type { Address, HostLoad, LoadBalancer, LoadBalancerName, PickContext } from '../lib/types.js';
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

/** Weight of a sample in the "typical" latency, and the cap on the peak in typicals (proposal a). */
const TYPICAL_ALPHA = Number(arg('alpha') ?? 0.1);
const TYPICAL_K = Number(arg('k') ?? 1.5);
if (!(TYPICAL_ALPHA > 0 && TYPICAL_ALPHA <= 1 && TYPICAL_K >= 1)) throw new Error('--alpha (0, 1], --k ≥ 1');
const CAPPED = 'proposal: peak ≤ k × typical';
const PAUSE_AWARE = 'proposal: pause-aware peak';
type ProposalName = typeof CAPPED | typeof PAUSE_AWARE;
const PROPOSAL_NAMES: readonly ProposalName[] = [CAPPED, PAUSE_AWARE];
type Contender = 'round-robin' | 'p2c' | 'p2c-ewma' | 'all-healthy (p2c-ewma)' | ProposalName;
const BASE: Contender = 'all-healthy (p2c-ewma)';
const CONTENDER_NAMES: readonly Contender[] = ['round-robin', 'p2c', 'p2c-ewma', BASE, ...PROPOSAL_NAMES];
const isProposal = (who: Contender): who is ProposalName => (PROPOSAL_NAMES as string[]).includes(who);

const hostsOf = (slow: boolean): readonly Address[] =>
  [0, 1, 2, 3, 4].map((i) => Object.freeze({ host: '127.0.0.1', port: 9001 + i + (slow ? 0 : 10) }));
const SLOW_HOSTS = hostsOf(true);
const HEALTHY_HOSTS = hostsOf(false);
const NONE_TRIED: ReadonlySet<string> = new Set();
const KEYS = new Map([...SLOW_HOSTS, ...HEALTHY_HOSTS].map((a) => [a, addressKey(a)]));
const keyOf = (a: Address): string => KEYS.get(a) ?? addressKey(a);

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
  /** Mean cost of the four fast hosts at the round's end, ms (peak EWMA; a proposal's own cost). */
  fastCost: number;
}

/**
 * A PROPOSAL, not rxhttp's behaviour: P2C over two distinct draws (lib's `p2cPick`) on `ewmaLoad` of
 * its own view of each host, which it keeps from the attempt events LoadStats is fed.
 */
interface Proposal extends LoadBalancer {
  /** `paused`: the attempt was due inside a stall and is processed at its end. */
  update(e: CallEvent, paused: boolean): void;
  view(a: Address, ctx: PickContext): HostLoad;
}

function proposal(view: Proposal['view'], update: Proposal['update']): Proposal {
  const load = (a: Address, ctx: PickContext) => bal.ewmaLoad(view(a, ctx));
  return { view, update, pick: (candidates, ctx) => bal.p2cPick(candidates, ctx, load) };
}

const PROPOSALS: Record<ProposalName, () => Proposal> = {
  /**
   * LoadStats' peak EWMA capped at k × a per-sample EWMA of latency: a host that turns slow raises
   * both within a few samples, a pause that inflates one burst of samples raises the peak for seconds
   * but the typical only until some 1/α later samples have come back.
   */
  [CAPPED]: () => {
    const typical = new Map<string, number>();
    return proposal(
      (a, ctx) => {
        const load = ctx.load(a);
        const t = typical.get(keyOf(a));
        return t === undefined ? load : { ...load, cost: Math.min(load.cost, TYPICAL_K * t) };
      },
      (e) => {
        if (e.type !== 'attempt-end' || e.cancelled) return;
        const t = typical.get(e.key);
        typical.set(e.key, t === undefined ? e.durationMs : t + TYPICAL_ALPHA * (e.durationMs - t));
      },
    );
  },
  /**
   * Finagle's peak EWMA over the samples that were not held by a machine-wide pause. A client would
   * see one as event-loop lag (a 1 ms ticker late by the pause when the held responses come in); the
   * sim tells it exactly, so this is that idea's best case.
   */
  [PAUSE_AWARE]: () => {
    const peak = new Map<string, PeakEwmaState>();
    return proposal(
      (a, ctx) => {
        const s = peak.get(keyOf(a));
        const { outstanding } = ctx.load(a);
        return { outstanding, cost: s ? bal.decayed(s, ctx.now) : 0, sampled: s !== undefined };
      },
      (e, paused) => {
        if (e.type !== 'attempt-end' || e.cancelled || paused) return;
        peak.set(e.key, bal.observe(peak.get(e.key) ?? bal.EMPTY_PEAK_EWMA, e.durationMs, e.time));
      },
    );
  },
};

const noTimers = (): never => {
  throw new Error('the simulation has no timers');
};

/**
 * One contender's closed loop in one virtual timeline. `serve(i, now)`: host i's answer time for a
 * call issued now, ms; `onIssue` sees every call as it is issued.
 */
function newSim(
  who: Contender,
  hosts: readonly Address[],
  sc: Scenario,
  c: number,
  seed: number,
  serve: (i: number, now: number) => number,
  onIssue?: (i: number, now: number, callId: number) => void,
) {
  const keys = hosts.map(keyOf);
  let now = 0;
  const clock: Clock = { now: () => now, setTimer: noTimers };
  const stats = new bal.LoadStats(clock);
  const prop = isProposal(who) ? PROPOSALS[who]() : undefined;
  const balancer = prop ?? bal.createBalancer(who === BASE ? 'p2c-ewma' : (who as LoadBalancerName));
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
    prop?.update(start, false);
    starts[w] = start;
    host[w] = i;
    onIssue?.(i, now, callId);
    const at = (due[w] = now + serve(i, now) + JITTER_MS * jitter() + OVERHEAD_MS);
    let lo = 0;
    for (let hi = queue.length; lo < hi;) {
      const mid = (lo + hi) >> 1;
      if (due[queue[mid]!]! > at) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, w);
  };

  const complete = (w: number, paused: boolean): number => {
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
    prop?.update(end, paused);
    return durationMs;
  };

  return {
    now: () => now,
    idle: (ms: number) => void (now += ms),
    /** Host i's cost as the balancer sees it now, ms. */
    cost(i: number): number {
      ctx.now = now;
      return prop ? prop.view(hosts[i]!, ctx).cost : stats.load(hosts[i]!, now).cost;
    },
    /** A round of `calls` calls, fewer if `more()` turns false (no new call then), and its drain. */
    round(calls: number, more: () => boolean = () => true) {
      now = release(now);
      const t0 = now;
      const latencies: number[] = [];
      const byHost = hosts.map(() => 0);
      let issued = 0;
      for (let w = 0; w < c && issued < calls; w++, issued++) issue(w);
      while (queue.length > 0) {
        const w = queue.pop()!;
        now = release(due[w]!);
        latencies.push(complete(w, now > due[w]!));
        byHost[host[w]!] = byHost[host[w]!]! + 1;
        if (issued < calls && more()) {
          issued++;
          issue(w);
        }
      }
      return { latencies, byHost, elapsed: now - t0 };
    },
  };
}

/** One contender's warm-up round and measured rounds on issue 4's hosts. */
function simulate(who: Contender, sc: Scenario, c: number, seed: number): Sample[] {
  const sim = newSim(who, who === BASE ? HEALTHY_HOSTS : SLOW_HOSTS, sc, c, seed, (i) =>
    who !== BASE && i === SLOW ? SLOW_MS : FAST_MS,
  );
  const samples: Sample[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    const { latencies, byHost, elapsed } = sim.round(callsPerRound(c));
    const done = latencies.length;
    if (r > 0) {
      const fast = [0, 1, 2, 3].map((i) => sim.cost(i));
      samples.push({
        rps: (done / elapsed) * 1_000,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        slowShare: who === BASE ? NaN : byHost[SLOW]! / done,
        fastCost: fast.reduce((x, y) => x + y, 0) / fast.length,
      });
    }
    sim.idle((CONTENDERS - 1) * elapsed);
  }
  return samples;
}

/** Reaction runs: host FLIP changes after the warm-up round and SWITCH_AFTER more calls. */
const FLIP = 0;
const SWITCH_AFTER = 1_000;
const REACT_MS = 1_000;
/** The recovery run is long (τ = 10 s), so it runs at c = 16 only and on at most 8 seeds. */
const RECOVER_MS = 30_000;
const RECOVER_SEEDS = Math.min(SEEDS, 8);
/** "Share back": the first trailing 100 ms window with ≥ this share of the calls to the host. */
const WINDOW_MS = 100;
const SHARE_BACK = [0.1, 0.15] as const;
const REACTORS: readonly Contender[] = ['p2c-ewma', ...PROPOSAL_NAMES];

/**
 * Five fast hosts, no stalls, no idle: a warm-up round, then after SWITCH_AFTER calls host FLIP turns
 * 20 ms (`slows`) or, 20 ms until then, turns fast, for the calls issued from then on. Figures on the
 * calls issued after the switch (times in ms from it): to FLIP and to all in the first 100 ms, to FLIP
 * in the first 1 s and its share; or its share in the first and the last 1 s, then the time to each
 * SHARE_BACK.
 */
function reaction(who: Contender, c: number, seed: number, slows: boolean): number[] {
  let tSwitch = Infinity;
  const switchAt = callsPerRound(c) + SWITCH_AFTER;
  const times: number[] = [];
  const flip: boolean[] = [];
  const slowNow = (now: number) => (slows ? now >= tSwitch : now < tSwitch);
  const sim = newSim(
    who,
    HEALTHY_HOSTS,
    SCENARIOS[0],
    c,
    seed,
    (i, now) => (i === FLIP && slowNow(now) ? SLOW_MS : FAST_MS),
    (i, now, id) => {
      if (id === switchAt) tSwitch = now;
      if (now < tSwitch) return;
      times.push(now - tSwitch);
      flip.push(i === FLIP);
    },
  );
  sim.round(callsPerRound(c));
  const horizon = slows ? REACT_MS : RECOVER_MS;
  sim.round(1e8, () => sim.now() < tSwitch + horizon);
  const calls = (from: number, to: number, onlyFlip: boolean) =>
    times.filter((t, k) => t >= from && t < to && (flip[k] || !onlyFlip)).length;
  const share = (from: number, to: number) => calls(from, to, true) / calls(from, to, false);
  const back = (x: number) => {
    for (let j = 0, i = 0, n = 0; j < times.length; j++) {
      if (flip[j]) n++;
      for (; times[i]! < times[j]! - WINDOW_MS; i++) if (flip[i]) n--;
      if (times[j]! >= WINDOW_MS && n >= x * (j - i + 1)) return times[j]!;
    }
    return Infinity;
  };
  if (slows) return [calls(0, 100, true), calls(0, 100, false), calls(0, 1_000, true), share(0, 1_000)];
  return [share(0, 1_000), share(horizon - 1_000, horizon), ...SHARE_BACK.map(back)];
}

/** {@link reaction}'s figures per balancer of REACTORS, each the median over seeds. */
async function reactions(c: number, slows: boolean, seeds: number): Promise<number[][]> {
  const rows: number[][] = [];
  for (const n of REACTORS) {
    const rs = Array.from({ length: seeds }, (_, k) => reaction(n, c, SEED + k, slows));
    rows.push(rs[0]!.map((_, i) => median(rs.map((r) => r[i]!))));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return rows;
}

const COLUMNS =
  'stalls | balancer | calls/s | p50 ms | p99 ms | slow share (median) | slow share (mean) | ' +
  'fast-host cost ms | p99 × all-healthy | calls/s × all-healthy';
const TARGETS =
  'stalls | c | p2c-ewma p99 × all-healthy ≤ 1.5 | p2c-ewma calls/s × all-healthy ≥ 0.9 | ' +
  'p2c-ewma slow share ≤ 1.5 % | p2c-ewma p99 × round robin ≤ 0.25 | p2c calls/s × round robin ≥ 2';
const PROPOSAL_TARGETS =
  'stalls | c | proposal | p99 × all-healthy ≤ 1.5 | calls/s × all-healthy ≥ 0.9 | slow share ≤ 1.5 % | ' +
  'p99 × round robin ≤ 0.25';
const SLOWS = 'c | balancer | calls to it, first 100 ms (all hosts) | calls to it, first 1 s (its share)';
const RECOVERS = 'balancer | its share, first 1 s | last 1 s | time to 10 % share | time to 15 % share';

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
  const slowed = [...(await reactions(16, true, SEEDS)), ...(await reactions(64, true, SEEDS))];
  const recovered = await reactions(16, false, RECOVER_SEEDS);
  const lines = [
    '## Load balancing under a slow host, simulated (issue 4)',
    '',
    `\`${['npx tsx bench/balance-sim.ts', ...process.argv.slice(2)].join(' ')}\`: a seeded discrete-event`,
    "simulation in virtual time through dist/'s `selectAddress`, balancers and `LoadStats` (no network).",
    `Hosts 2 ms (four) and 20 ms (one), each + U[0, 1) ms, + ${fmt(OVERHEAD_MS, 1)} ms client overhead;`,
    `closed loop, ${CALLS_ARG ?? '200 × c'} calls per round, one warm-up round, median of ${ROUNDS} rounds × ${SEEDS}`,
    `seed(s) from ${SEED}; idle ${CONTENDERS - 1} rounds' time between rounds (the interleaving of`,
    'balance.ts). Stalls: Poisson, machine-wide; calls due inside one complete at its end.',
    '"proposal:" rows are candidate balancers defined in this bench only, NOT rxhttp\'s behaviour (P2C',
    `on cost × (outstanding + 1)): the peak capped at ${TYPICAL_K} × a per-sample EWMA (α = ${TYPICAL_ALPHA}) of`,
    'latency; and the peak over samples not held by a stall (known exactly here: its best case).',
    '',
  ];
  const targets: string[][] = [];
  const proposed: string[][] = [];
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
      for (const n of PROPOSAL_NAMES) {
        const p99 = ratio(n, BASE, (s) => s.p99);
        const rps = ratio(n, BASE, (s) => s.rps);
        const slow = m(n, (s) => s.slowShare);
        const rr = ratio(n, 'round-robin', (s) => s.p99);
        const slowCell = `${fmt(100 * slow, 2)} % ${slow <= 0.015 ? '✓' : '✗'}`;
        const cells = [mark(p99, p99 <= 1.5), mark(rps, rps >= 0.9), slowCell, mark(rr, rr <= 0.25)];
        proposed.push([sc.name, String(c), n, ...cells]);
      }
    }
    lines.push(`### Concurrency ${c}`, '', table(COLUMNS.split(' | '), rows), '');
  }
  lines.push(
    '### Issue 4 targets (✓ met, ✗ not met; round robin stands in for undici BalancedPool)',
    '',
    table(TARGETS.split(' | '), targets),
    '',
    '### The same targets for the proposals (bench only)',
    '',
    table(PROPOSAL_TARGETS.split(' | '), proposed),
    '',
  );
  const pct = (x: number) => `${fmt(100 * x, 2)} %`;
  const secs = (t: number) => (Number.isFinite(t) ? `${fmt(t / 1_000)} s` : `> ${RECOVER_MS / 1_000} s`);
  const R = REACTORS.length;
  lines.push(
    '### Reaction: a host turns slow, or recovers (no stalls; medians over seeds)',
    '',
    `Five fast hosts; after a warm-up round and ${fmtInt(SWITCH_AFTER)} calls, host ${FLIP} turns ${SLOW_MS} ms for the calls`,
    `issued from then on (a ${REACT_MS / 1_000} s run, ${SEEDS} seed(s)); calls to it counted from that instant.`,
    '',
    table(
      SLOWS.split(' | '),
      slowed.map(([a, b, d, e], k) => [
        k < R ? '16' : '64',
        REACTORS[k % R]!,
        `${a} (${b})`,
        `${d} (${pct(e!)})`,
      ]),
    ),
    '',
    `Or host ${FLIP} answers in ${SLOW_MS} ms until that moment, then in ${FAST_MS} ms (c = 16, a ${RECOVER_MS / 1_000} s run, ${RECOVER_SEEDS} seed(s)):`,
    `time to the first trailing ${WINDOW_MS} ms window with that share of the calls to it (a fair share is 20 %).`,
    '',
    table(
      RECOVERS.split(' | '),
      recovered.map(([a, b, ...t], k) => [REACTORS[k]!, pct(a!), pct(b!), ...t.map(secs)]),
    ),
    '',
  );
  console.log(lines.join('\n'));
  console.error(`balance-sim: ${fmt((performance.now() - t0) / 1_000, 1)} s`);
}

await main();
