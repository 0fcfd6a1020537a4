/**
 * Throughput, client CPU and latency of rxhttp against raw undici and every peer, side by side.
 *
 *   npx tsx bench/throughput.ts [--quick] [--rounds N] [--c 1,64] [--only "name,name"] [--pinned]
 *                               [--before <commit>]
 *
 * `--before <commit>` adds `rxhttp Promise (before)` and `rxhttp Observable (before)` (and
 * `rxhttp + OTel tracing (server span) (before)` or `rxhttp + OTel no-op tracer (before)` when
 * `--only` names them): that commit's build (made once into `.tmp/`), interleaved with this tree's
 * `dist/` in the same rounds; the pinned report gives each row ÷ its `(before)` row.
 *
 * `--pinned` (issue 23): the server child on one core and this client process on another (`taskset`),
 * issue 23's contenders (bench/throughput-pinned.ts) over 8 rounds, CPU as user + system, and issue
 * 23's targets. Without two cores or `taskset` it prints why and exits cleanly.
 *
 * One loopback node:http server in a child process (bench/server.ts). For each concurrency the
 * contenders run interleaved round by round (A B C … A B C …), after one warm-up round each; every
 * figure is the median over the rounds, and every ratio is taken per round, then the median.
 * A round is a fixed call count, cut short after a time cap for the slow peers.
 */
import { catchError, defer, EMPTY, finalize, mergeMap, of, range, repeat, type Observable } from 'rxjs';
import { CONTENDERS, createContender, type Contender, type ContenderName } from './contenders.js';
import { med, ratio, type Sample, type Samples } from './samples.js';
import {
  PINNED_CONTENDERS,
  PINNED_ROUNDS,
  pinnedHeading,
  pinnedReport,
  pinnedTargets,
} from './throughput-pinned.js';
import {
  arg,
  closedLoop,
  fmt,
  fmtInt,
  median,
  percentile,
  pinning,
  pinSelf,
  QUICK,
  startServer,
  table,
  verdict,
  watchdog,
  type LoadOptions,
  type RoundResult,
} from './util.js';

const PINNED = process.argv.includes('--pinned');
const ROUNDS = Number(arg('rounds') ?? (QUICK ? (PINNED ? 3 : 5) : PINNED ? PINNED_ROUNDS : 7));
/** Fewer rounds at c = 1 in the full run: latency there is steadier, and the rounds are long. */
const roundsFor = (c: number) => (c === 1 && !arg('rounds') && !QUICK && !PINNED ? 5 : ROUNDS);
const CONCURRENCIES = (arg('c') ?? '1,64').split(',').map(Number);
const ONLY = arg('only')?.split(',');
const BEFORE: readonly ContenderName[] = arg('before')
  ? ['rxhttp Promise (before)', 'rxhttp Observable (before)']
  : [];
const NAMES = CONTENDERS.filter(
  (n) =>
    (ONLY ? ONLY.includes(n) : (!PINNED || PINNED_CONTENDERS.includes(n)) && !n.endsWith('(before)')) ||
    n === 'undici Pool.request' ||
    BEFORE.includes(n),
);
const REF: ContenderName = 'undici Pool.request';

/** Calls per measured round (cut short after `maxMs` for the slow peers). */
function loadFor(concurrency: number): LoadOptions {
  if (concurrency === 1) return { concurrency, count: QUICK ? 300 : 5_000, maxMs: QUICK ? 50 : 1_000 };
  return { concurrency, count: QUICK ? 1_500 : 20_000, maxMs: QUICK ? 100 : 2_000 };
}

/** The warm-up round of each contender: long enough for the JIT to settle, as the first rounds show. */
function warmupFor(concurrency: number): LoadOptions {
  if (concurrency === 1) return { concurrency, count: QUICK ? 1_000 : 10_000, maxMs: QUICK ? 100 : 2_000 };
  return { concurrency, count: QUICK ? 3_000 : 30_000, maxMs: QUICK ? 200 : 3_000 };
}

/**
 * The Observable contender, driven as an Rx user would: `concurrency` lanes merged, each lane
 * re-subscribing to the call as soon as the last one completed (`repeat`), until the count or the
 * time cap is reached. (A `range(0, count)` into `mergeMap` looks simpler, but once the cap is hit it
 * completes the buffered thousands synchronously, one nested frame each, and overflows the stack.)
 */
function observableLoop(call$: () => Observable<unknown>, o: LoadOptions): Promise<RoundResult> {
  const latencies = new Float64Array(o.count);
  let issued = 0;
  let completed = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const stopAt = t0 + o.maxMs;
    const more = () => issued < o.count && performance.now() < stopAt;
    const lane = defer(() => {
      issued++;
      const s = performance.now();
      return call$().pipe(
        catchError(() => {
          errors++;
          return EMPTY;
        }),
        finalize(() => (latencies[completed++] = performance.now() - s)),
      );
    }).pipe(repeat({ delay: () => (more() ? of(0) : EMPTY) }));
    range(0, o.concurrency)
      .pipe(mergeMap(() => (more() ? lane : EMPTY)))
      .subscribe({
        complete: () => {
          const elapsedMs = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          resolve({
            completed,
            errors,
            elapsedMs,
            userUs: cpu.user,
            systemUs: cpu.system,
            latencies: latencies.subarray(0, completed),
          });
        },
      });
  });
}

async function runOne(c: Contender, o: LoadOptions, server: Awaited<ReturnType<typeof startServer>>) {
  // No forced gc() between contenders: with 14 contenders it ages every function out (V8 flushes
  // bytecode and code not run for a few full collections) and the figures drop five- to tenfold.
  const s0 = await server.cpu();
  const r = c.call ? await closedLoop(c.call, o) : await observableLoop(c.call$!, o);
  const s1 = await server.cpu();
  if (process.env.BENCH_DEBUG)
    process.stderr.write(
      `${c.name}: ${r.completed} calls in ${r.elapsedMs.toFixed(0)} ms, ${r.errors} errors\n`,
    );
  const n = Math.max(1, r.completed);
  const sample: Sample = {
    rps: (r.completed / r.elapsedMs) * 1_000,
    userUs: r.userUs / n,
    sysUs: r.systemUs / n,
    p50Us: percentile(r.latencies, 50) * 1_000,
    p99Us: percentile(r.latencies, 99) * 1_000,
    serverUs: (s1.user + s1.system - s0.user - s0.system) / n,
    errors: r.errors,
  };
  return sample;
}

function report(c: number, s: Samples): string {
  const rows = NAMES.map((n) => [
    n,
    fmtInt(med(s, n, (x) => x.rps)),
    fmt(ratio(s, n, REF, (x) => x.rps)),
    fmt(
      med(s, n, (x) => x.userUs),
      1,
    ),
    fmt(ratio(s, n, REF, (x) => x.userUs)),
    fmt(
      med(s, n, (x) => x.sysUs),
      1,
    ),
    fmt(
      med(s, n, (x) => x.p50Us),
      0,
    ),
    fmt(
      med(s, n, (x) => x.p99Us),
      0,
    ),
    fmt(
      med(s, n, (x) => x.serverUs),
      1,
    ),
  ]);
  return [
    `### Concurrency ${c}`,
    '',
    table(
      [
        'contender',
        'req/s',
        'req/s × Pool.request',
        'user CPU µs/req',
        'CPU × Pool.request',
        'sys µs/req',
        'p50 µs',
        'p99 µs',
        'server CPU µs/req',
      ],
      rows,
    ),
  ].join('\n');
}

const PEER_TARGETS: readonly [ContenderName, number][] = [
  ['undici + opossum', 1.1],
  ['undici retry interceptor', 1.3],
  ['undici + cockatiel', 3.5],
  ['undici fetch', 6],
  ['axios', 6],
  ['node-fetch 2', 6],
  ['got', 10],
];

function peers(s: Samples): string {
  const ours: ContenderName[] = ['rxhttp Promise', 'rxhttp client.fetch'];
  const have = (n: ContenderName) => s.has(n);
  const rows = PEER_TARGETS.filter(([p]) => have(p)).map(([p, want]) => [
    p,
    `≥ ${want}×`,
    ...ours.flatMap((o) =>
      have(o) ? [fmt(ratio(s, p, o, (x) => x.userUs)), fmt(ratio(s, o, p, (x) => x.rps))] : ['–', '–'],
    ),
  ]);
  return [
    '### rxhttp against each peer, c = 64 (peer CPU ÷ rxhttp CPU; rxhttp req/s ÷ peer req/s)',
    '',
    table(
      [
        'peer',
        'target',
        'Promise: CPU advantage',
        'Promise: req/s advantage',
        'client.fetch: CPU advantage',
        'client.fetch: req/s advantage',
      ],
      rows,
    ),
  ].join('\n');
}

function targets(all: Map<number, Samples>): string {
  const out: string[] = ['### Targets (issue 9)', ''];
  const s64 = all.get(64);
  const rx: ContenderName = 'rxhttp Promise';
  if (s64?.has(rx)) {
    const cpu = ratio(s64, rx, REF, (x) => x.userUs);
    out.push(verdict(cpu <= 1, 'full chain user CPU ≤ 1.00× Pool.request (c = 64)', `${fmt(cpu)}×`));
    out.push(verdict(cpu <= 0.9, 'stretch: ≤ 0.90×', `${fmt(cpu)}×`));
    const rps = ratio(s64, rx, REF, (x) => x.rps);
    out.push(verdict(rps >= 1, 'full chain req/s ≥ 1.0× Pool.request (c = 64)', `${fmt(rps)}×`));
    if (s64.has('undici dispatch')) {
      const floor = ratio(s64, rx, 'undici dispatch', (x) => x.rps);
      out.push(verdict(floor >= 0.85, 'full chain req/s ≥ 0.85× undici dispatch (c = 64)', `${fmt(floor)}×`));
    }
    if (s64.has('rxhttp Observable') && s64.has('undici Pool.request (Rx loop)')) {
      // Not an issue target: the Observable API against Pool.request driven by the same Rx loop.
      const o = ratio(s64, 'rxhttp Observable', 'undici Pool.request (Rx loop)', (x) => x.userUs);
      out.push(
        verdict(o <= 1, 'Observable API CPU ≤ 1.00× Pool.request in the same Rx loop (c = 64)', `${fmt(o)}×`),
      );
    }
    if (s64.has('rxhttp + metrics')) {
      const m = ratio(s64, 'rxhttp + metrics', REF, (x) => x.userUs);
      out.push(verdict(m <= 1.1, 'with metrics CPU ≤ 1.10× Pool.request', `${fmt(m)}×`));
    }
    if (s64.has('rxhttp + tracing')) {
      const t = ratio(s64, 'rxhttp + tracing', REF, (x) => x.userUs);
      out.push(verdict(t <= 1.2, 'with 100 %-sampled tracing CPU ≤ 1.20× Pool.request', `${fmt(t)}×`));
    }
    if (s64.has('rxhttp + OTel tracing')) {
      const t = ratio(s64, 'rxhttp + OTel tracing', REF, (x) => x.userUs);
      out.push(
        verdict(
          t <= 1.25,
          'with 100 %-sampled OTel tracing CPU ≤ 1.25× Pool.request (issue 22)',
          `${fmt(t)}×`,
        ),
      );
    }
    for (const o of ['rxhttp Promise', 'rxhttp client.fetch'] as const) {
      if (!s64.has(o)) continue;
      for (const [p, want] of PEER_TARGETS) {
        if (!s64.has(p)) continue;
        const byCpu = ratio(s64, p, o, (x) => x.userUs);
        const byRps = ratio(s64, o, p, (x) => x.rps);
        // Apart: by req/s a multiple is capped by the one server (ceiling.ts: wrk), by CPU it is not.
        out.push(
          verdict(byCpu >= want, `${o} ≥ ${want}× ${p}, by client CPU per request`, `${fmt(byCpu)}×`),
          verdict(byRps >= want, `${o} ≥ ${want}× ${p}, by req/s`, `${fmt(byRps)}×`),
        );
      }
    }
  }
  const s1 = all.get(1);
  if (s1?.has(rx)) {
    const d = median(s1.get(rx)!.map((x, i) => x.p50Us - s1.get(REF)![i]!.p50Us));
    out.push(verdict(d <= 5, 'c = 1 p50 within 5 µs of Pool.request', `${fmt(d, 1)} µs`));
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  watchdog(QUICK ? 60 : 600, 'throughput');
  const pin = PINNED ? pinning() : undefined;
  if (pin) {
    console.log(pinnedHeading(pin) + '\n');
    // Shared, these figures would only repeat the shared run's: say why and stop.
    if (!pin.ok) return;
  }
  // The server child is bound before this process is, so it does not inherit the client's core.
  const server = await startServer(undefined, pin?.ok ? pin.server : undefined);
  if (pin?.ok) pinSelf(pin.client);
  const port = server.ports[0]!;
  const contenders: Contender[] = [];
  for (const n of NAMES) contenders.push(await createContender(n, port));
  const all = new Map<number, Samples>();
  try {
    for (const c of CONCURRENCIES) {
      const o = loadFor(c);
      const samples: Samples = new Map(NAMES.map((n) => [n, []]));
      for (const k of contenders) await runOne(k, warmupFor(c), server);
      const rounds = roundsFor(c);
      for (let r = 0; r < rounds; r++) {
        process.stderr.write(`throughput c=${c} round ${r + 1}/${rounds}\r`);
        for (const k of contenders) samples.get(k.name as ContenderName)!.push(await runOne(k, o, server));
      }
      process.stderr.write('\n');
      all.set(c, samples);
      console.log((PINNED ? pinnedReport(c, samples, NAMES) : report(c, samples)) + '\n');
    }
  } finally {
    await Promise.all(contenders.map((k) => k.close()));
    await server.stop();
  }
  if (PINNED) {
    console.log(pinnedTargets(all) + '\n');
    return;
  }
  if (all.get(64)) console.log(peers(all.get(64)!) + '\n');
  console.log(targets(all) + '\n');
}

await main();
