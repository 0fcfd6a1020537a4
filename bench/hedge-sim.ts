/**
 * Issue 21's hedging simulation: a seeded discrete-event run in virtual time through the real call
 * chain of `dist/` (Call, the default p2c-ewma balancer and its LoadStats, the retry budget, the
 * hedge budget, the live latency window) with a simulated transport in place of sockets.
 *
 *   npx tsx bench/hedge-sim.ts [--quick] [--seeds N] [--calls N]
 *
 * Five hosts; each response takes 2 ms ± 10 %, except 5 % of them (drawn per response) which take
 * 100 ms ± 10 %. An open loop issues one call per ms (no hedging: about two in flight). Each
 * scenario runs the same seeds with and without hedging (common random numbers: the latency draws
 * come from a stream of their own, so the two runs see the same hosts' moods in the same order).
 *
 * - adaptive: `hedge: { delay: { percentile: 0.95 }, maxAttempts: 3, maxExtraLoad: 0.06 }`.
 * - every host slow (100 ms ± 10 % for every response), adaptive: the delay follows the latency up.
 * - every host slow, a fixed 10 ms delay: every call wants a hedge; the hedge budget caps them at
 *   `maxExtraLoad` of the calls.
 *
 * Latency is the call's, start to response; extra load is attempts per call minus one.
 */
import { VirtualTimeScheduler } from 'rxjs';
import type { Dispatcher } from 'undici';
import type { Runtime } from '../lib/client/runtime.js';
import type { HedgeOptions } from '../lib/resilience/hedge.js';
import { arg, dist, fmt, median, percentile, QUICK, table, watchdog } from './util.js';

const { Call, SharedPickContext } = await dist<typeof import('../lib/client/call.js')>('client/call');
const { buildCallSpec } = await dist<typeof import('../lib/client/request.js')>('client/request');
const { LiveCalls } = await dist<typeof import('../lib/client/live-calls.js')>('client/live-calls');
const { LoadStats } = await dist<typeof import('../lib/balancer/load-stats.js')>('balancer/load-stats');
const { EventBus } = await dist<typeof import('../lib/events/bus.js')>('events/bus');
const { clockFromScheduler } = await dist<typeof import('../lib/internal/clock.js')>('internal/clock');
const { seededRandom } = await dist<typeof import('../lib/internal/random.js')>('internal/random');
const { RetryBudget, resolveRetryBudget } =
  await dist<typeof import('../lib/resilience/retry-budget.js')>('resilience/retry-budget');
const { AddressGroup } = await dist<typeof import('../lib/index.js')>('index');

function count(name: string, fallback: number): number {
  const v = Number(arg(name) ?? fallback);
  if (!Number.isInteger(v) || v < 1 || v > 1e6) throw new Error(`--${name}: expected 1 to 1e6`);
  return v;
}
const SEEDS = count('seeds', QUICK ? 2 : 8);
const CALLS = count('calls', QUICK ? 5_000 : 20_000);
const HOSTS = 5;
const FAST_MS = 2;
const SLOW_MS = 100;
const SLOW_SHARE = 0.05;

interface Scenario {
  readonly name: string;
  readonly slowShare: number;
  readonly hedge: HedgeOptions;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: '5 % of responses at 100 ms, adaptive p95',
    slowShare: SLOW_SHARE,
    hedge: { delay: { percentile: 0.95 }, maxAttempts: 3, maxExtraLoad: 0.06 },
  },
  {
    name: 'every host slow, adaptive p95',
    slowShare: 1,
    hedge: { delay: { percentile: 0.95 }, maxAttempts: 3, maxExtraLoad: 0.06 },
  },
  {
    name: 'every host slow, fixed 10 ms delay',
    slowShare: 1,
    hedge: { delay: 10, maxAttempts: 3, maxExtraLoad: 0.06 },
  },
];

interface Run {
  readonly latencies: Float64Array;
  readonly attempts: number;
  readonly cancelled: number;
  readonly hedges: number;
  readonly refused: number;
}

/** One seeded run of CALLS calls, with or without hedging. */
function simulate(seed: number, scenario: Scenario, hedged: boolean): Run {
  const vts = new VirtualTimeScheduler();
  const clock = clockFromScheduler(vts);
  const bus = new EventBus();
  const loadStats = new LoadStats(clock);
  loadStats.attach(bus.events$);
  const budget = new RetryBudget(resolveRetryBudget(undefined)!, clock);
  budget.attach(bus.events$);
  const pickRandom = seededRandom(seed * 7919 + 1);
  const latencyRandom = seededRandom(seed * 104_729 + 2);
  let ids = 0;
  let attempts = 0;
  let cancelled = 0;
  let hedges = 0;
  let refused = 0;
  bus.events$.subscribe((e) => {
    if (e.type === 'attempt-start') {
      attempts++;
      if (e.hedge) hedges++;
    } else if (e.type === 'attempt-end' && e.cancelled) cancelled++;
    else if (e.type === 'hedge-refused') refused++;
  });
  /** A host that answers after a latency drawn per response; cancelling the attempt drops the answer. */
  const dispatcher = {
    dispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
      const slow = latencyRandom() < scenario.slowShare;
      const ms = (slow ? SLOW_MS : FAST_MS) * (0.9 + 0.2 * latencyRandom());
      const answer = vts.schedule(() => {
        handler.onHeaders!(200, [], () => undefined, 'OK');
        handler.onComplete!([]);
      }, ms);
      handler.onConnect!(() => answer.unsubscribe());
      return true;
    },
  } as unknown as Dispatcher;
  const rt: Runtime = {
    clock,
    bus,
    random: pickRandom,
    breakers: undefined,
    loadStats,
    pickContext: new SharedPickContext(pickRandom, loadStats),
    budget,
    timeouts: { connect: 1_000, headers: 10_000, body: 10_000, attempt: 0 },
    dispatcher: () => dispatcher,
    attemptHeaders: undefined,
    deadlineHeader: undefined,
    nextCallId: () => ++ids,
    calls: new LiveCalls(),
    bulkheads: new Map(),
    hedging: undefined,
  };
  const hosts = Array.from({ length: HOSTS }, (_, i) => `127.0.0.${i + 1}:80`).join(',');
  const group = new AddressGroup(`static://${hosts}`, { scheduler: vts });
  const defaults = {
    requestTimeout: 1_000,
    maxResponseBytes: 1_000,
    headers: {},
    redirect: 'manual' as const,
  };
  const latencies = new Float64Array(CALLS);
  let done = 0;
  for (let i = 0; i < CALLS; i++) {
    vts.schedule(() => {
      const spec = buildCallSpec(
        { group, path: '/' },
        group,
        '/',
        hedged ? { hedge: scenario.hedge } : {},
        defaults,
      );
      const started = vts.now();
      new Call(rt, spec, {
        next: () => {
          latencies[i] = vts.now() - started;
          done++;
        },
        error: () => {
          latencies[i] = vts.now() - started;
          done++;
        },
        complete: () => undefined,
      }).start();
    }, i);
  }
  vts.flush();
  group.close();
  if (done !== CALLS) throw new Error(`only ${done} of ${CALLS} calls ended`);
  return { latencies, attempts, cancelled, hedges, refused };
}

watchdog(1_800, 'hedge-sim');
const rows: string[][] = [];
const lines: string[] = [];
for (const scenario of SCENARIOS) {
  const r = { p50: [[], []], p99: [[], []], p999: [[], []], extra: [[], []] } as Record<string, number[][]>;
  let hedgesPerCall = 0;
  let refusedPerCall = 0;
  for (let s = 1; s <= SEEDS; s++) {
    for (const [k, hedged] of [false, true].entries()) {
      const run = simulate(s, scenario, hedged);
      r.p50![k]!.push(percentile(run.latencies, 50));
      r.p99![k]!.push(percentile(run.latencies, 99));
      r.p999![k]!.push(percentile(run.latencies, 99.9));
      r.extra![k]!.push(run.attempts / CALLS - 1);
      if (hedged) {
        hedgesPerCall += run.hedges / CALLS / SEEDS;
        refusedPerCall += run.refused / CALLS / SEEDS;
      }
    }
  }
  const m = (k: string, i: number) => median(r[k]![i]!);
  const maxExtra = Math.max(...r.extra![1]!);
  rows.push([
    scenario.name,
    `${fmt(m('p50', 0))} → ${fmt(m('p50', 1))}`,
    `${fmt(m('p99', 0))} → ${fmt(m('p99', 1))}`,
    `${fmt(m('p999', 0))} → ${fmt(m('p999', 1))}`,
    `${fmt(m('p99', 0) / m('p99', 1))}×`,
    `${fmt(m('p999', 0) / m('p999', 1))}×`,
    `${fmt(m('extra', 1) * 100)} % (max ${fmt(maxExtra * 100)} %)`,
    `${fmt(refusedPerCall * 100)} %`,
  ]);
  const maxExtraLoad = scenario.hedge.maxExtraLoad ?? 0.05;
  if (scenario.slowShare < 1) {
    lines.push(
      `- ${m('p99', 0) / m('p99', 1) >= 5 ? 'met' : '**NOT met**'}: p99 cut ≥ 5× — ${fmt(m('p99', 0) / m('p99', 1))}×`,
      `- ${m('p999', 0) / m('p999', 1) >= 3 ? 'met' : '**NOT met**'}: p99.9 cut ≥ 3× — ${fmt(m('p999', 0) / m('p999', 1))}×`,
      `- ${maxExtra <= 0.06 ? 'met' : '**NOT met**'}: extra requests ≤ 6 % — at most ${fmt(maxExtra * 100)} % over ${SEEDS} seeds`,
    );
  } else {
    lines.push(
      // The budget counts in integer units (a hedge costs floor(1000 / ratio) of them): it may grant
      // a hair over the ratio, 0.0004 % at 0.06.
      `- ${maxExtra <= maxExtraLoad + 1e-4 ? 'met' : '**NOT met**'}: ${scenario.name}: extra load within maxExtraLoad (${maxExtraLoad * 100} %) — at most ${fmt(maxExtra * 100, 3)} % (hedges sent to ${fmt(hedgesPerCall * 100)} % of calls; hedge-refused events per call ${fmt(refusedPerCall * 100)} %)`,
    );
  }
}
console.log(
  `## Hedging, simulated (issue 21): ${HOSTS} hosts, ${CALLS} calls per run, ${SEEDS} seeds, medians over seeds (ms)\n`,
);
console.log(
  table(
    [
      'scenario',
      'p50 none → hedged',
      'p99',
      'p99.9',
      'p99 cut',
      'p99.9 cut',
      'extra requests',
      'hedges refused',
    ],
    rows,
  ),
);
console.log('\n' + lines.join('\n'));
