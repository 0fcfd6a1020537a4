/**
 * The demo, as a function: a five-backend loopback cluster, the same scripted load twice (round
 * robin bare, then p2c-ewma with retry and breakers), the live dashboard of both clients, and the
 * side-by-side table. `main.ts` is the command line around it; `screenshot.ts` reuses it.
 */
import { combineLatest, map, type Observable } from 'rxjs';
import { AddressGroup, Client, type CallOptions, type ClientHealth } from '../lib/index.js';
import { serveDashboard, type Dashboard } from '../lib/dashboard/index.js';
import { startDemoCluster, type DemoCluster } from './cluster.js';
import { runLoad, type LoadPlan, type RunResult } from './load.js';
import { progressBar } from './progress.js';
import { comparisonRows, renderTable, verdict } from './report.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Seconds of load per run. @defaultValue 12 */
  readonly seconds?: number;
  /** Calls started per second. @defaultValue 150 */
  readonly rate?: number;
  /** Dashboard port (0: any free one). @defaultValue 0 */
  readonly port?: number;
  /** After the table, keep both clients under light load and the dashboard up until `stop` says so. */
  readonly keep?: boolean;
  /** Awaited once the dashboard listens, before the load starts (a browser can be opened here). */
  readonly onStart?: (url: string) => Promise<void> | void;
  /** Called once per run when it is half done, with the dashboard URL (the screenshot hooks in here). */
  readonly onHalfway?: (url: string, run: number) => Promise<void> | void;
  /** Ends `--keep` mode (and a run in progress) when it returns true. */
  readonly stop?: () => boolean;
  readonly out?: (line: string) => void;
}

/** What the demo found. */
export interface DemoResult {
  readonly runs: readonly RunResult[];
  readonly table: string;
  readonly verdict: string;
  /** True when p2c-ewma + resilience beat round robin on both success % and p99. */
  readonly won: boolean;
}

/** Timeouts and breaker settings sized for a run of a few seconds (the defaults suit hours). */
const REQUEST_TIMEOUT = 2_000;
const RESILIENT_BREAKER = {
  failureRateThreshold: 0.2,
  minimumRequestThreshold: 10,
  counterSlidingWindow: 4_000,
  counterUpdateInterval: 500,
  circuitOpenWindow: 2_000,
  trialRequestInterval: 500,
};
const RESILIENT_CALL: CallOptions = {
  retry: { maxAttempts: 3, timeoutPerAttempt: 400, backoff: { initialDelay: 5, maxDelay: 40 } },
};

interface Contender {
  readonly label: string;
  readonly client: Client;
  readonly group: AddressGroup;
  readonly options: CallOptions;
}

/** Both clients' health as one view: the groups side by side, the totals of the one under load. */
function combinedHealth$(contenders: readonly Contender[], active: () => number): Observable<ClientHealth> {
  return combineLatest(contenders.map((c) => c.client.health$)).pipe(
    map((views) => ({
      ...views[active()]!,
      client: contenders[active()]!.label,
      groups: views.flatMap((v) => v.groups),
    })),
  );
}

function contenders(cluster: DemoCluster): Contender[] {
  const baseline = new Client({ requestTimeout: REQUEST_TIMEOUT, circuitBreaker: false });
  const resilient = new Client({ requestTimeout: REQUEST_TIMEOUT, circuitBreaker: RESILIENT_BREAKER });
  const make = (
    label: string,
    client: Client,
    loadBalancer: 'round-robin' | 'p2c-ewma',
    options: CallOptions,
  ) => {
    const group = new AddressGroup(cluster.target, { name: `demo · ${label}`, loadBalancer });
    client.register(loadBalancer, group);
    return { label, client, group, options };
  };
  return [
    make('round-robin, bare', baseline, 'round-robin', {}),
    make('p2c-ewma + retry + breaker', resilient, 'p2c-ewma', RESILIENT_CALL),
  ];
}

/** Runs the demo; resolves once everything it started is closed. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? ((l: string) => console.log(l));
  const seconds = Math.min(60, Math.max(2, options.seconds ?? 12));
  const plan: LoadPlan = {
    ratePerSecond: Math.min(1_000, Math.max(10, options.rate ?? 150)),
    durationMs: seconds * 1_000,
    maxInFlight: 256,
    ...(options.stop ? { stop: options.stop } : {}),
  };
  const cluster = await startDemoCluster();
  const runners = contenders(cluster);
  let active = 0;
  let dashboard: Dashboard | undefined;
  const health$ = combinedHealth$(runners, () => active);
  try {
    dashboard = await serveDashboard({ health$ }, { port: options.port ?? 0, updateIntervalMs: 500 });
    out(
      `rxhttp demo: five loopback backends: ${cluster.backends.map((b) => `${b.name} ${b.hostPort}`).join(', ')}`,
    );
    out(`the mortal backend dies at 35 % of each run and comes back at 65 %`);
    out(`live dashboard: ${dashboard.url}\n`);
    await options.onStart?.(dashboard.url);

    const runs: RunResult[] = [];
    for (const [i, c] of runners.entries()) {
      active = i;
      cluster.reset();
      const bar = progressBar(c.label);
      let halfway = false;
      const result = await runLoad(c.label, c.client, c.group, c.options, plan, (p) => {
        cluster.at(p.fraction);
        bar.update(p);
        if (!halfway && p.fraction >= 0.5 && options.onHalfway) {
          halfway = true;
          void Promise.resolve(options.onHalfway(dashboard!.url, i)).catch(() => undefined);
        }
      });
      bar.done({ fraction: 1, calls: result.calls, ok: result.ok, inFlight: 0 });
      runs.push(result);
    }
    cluster.reset();
    const table = renderTable(comparisonRows(runs, cluster.backends));
    const v = verdict(runs[0]!, runs[1]!);
    out('\n' + table + '\n');
    out(v.text);
    if (options.keep) await keepRunning(runners, cluster, dashboard.url, out, options.stop ?? (() => false));
    return { runs, table, verdict: v.text, won: v.won };
  } finally {
    await dashboard?.close();
    for (const c of runners) {
      await c.client.close();
      c.group.close();
    }
    await cluster.close();
  }
}

/** Longest `--keep` session; the loop stops by itself after it. */
const KEEP_MAX_MS = 60 * 60 * 1_000;
/** One keep-mode cycle: the mortal backend dies and returns within each. */
const KEEP_CYCLE_MS = 20_000;

/** Light load on both clients at once, cycle after cycle, until `stop` or {@link KEEP_MAX_MS}. */
async function keepRunning(
  runners: readonly Contender[],
  cluster: DemoCluster,
  url: string,
  out: (line: string) => void,
  stop: () => boolean,
): Promise<void> {
  out(`\n--keep: both clients under light load; watch ${url} (Ctrl-C to stop)`);
  const end = performance.now() + KEEP_MAX_MS;
  for (let cycle = 0; cycle < KEEP_MAX_MS / KEEP_CYCLE_MS && !stop() && performance.now() < end; cycle++) {
    cluster.reset();
    const plan: LoadPlan = { ratePerSecond: 40, durationMs: KEEP_CYCLE_MS, maxInFlight: 64, stop };
    await Promise.all(
      runners.map((c, i) =>
        runLoad(c.label, c.client, c.group, c.options, plan, (p) => {
          if (i === 0) cluster.at(p.fraction);
        }),
      ),
    );
  }
}
