/**
 * Micro-benchmarks of the per-call pieces, against the built dist/.
 *
 *   npx tsx bench/micro.ts [--quick]
 *
 * - `pick()` for 3, 30 and 300 hosts: `selectAddress` + `createBalancer`, as the client calls them,
 *   with a real LoadStats fed by synthetic events; without a breaker callback (breakers off, or all
 *   closed: the client then skips the view) and with one breaker open (the view is consulted).
 * - Fail fast while a breaker is open: CPU per call through the real Client, Observable and Promise.
 * - Event fan-out per attempt (call-start, attempt-start, attempt-end, call-end) through an EventBus
 *   with the subscribers a default client attaches, and with metrics added.
 */
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { Subject } from 'rxjs';
import { Registry } from 'prom-client';
import { dist, fmt, median, QUICK, sleep, table, verdict, watchdog } from './util.js';

type Rxhttp = typeof import('../lib/index.js');
type Balancers = typeof import('../lib/balancer/index.js');
type Stats = typeof import('../lib/balancer/load-stats.js');
type Bus = typeof import('../lib/events/bus.js');
type Breakers = typeof import('../lib/breaker/breakers.js');
type BreakerConfig = typeof import('../lib/breaker/config.js');
type Budget = typeof import('../lib/resilience/retry-budget.js');
type Metrics = typeof import('../lib/observability/metrics.js');
type Clock = typeof import('../lib/internal/clock.js');
type Events = typeof import('../lib/events/events.js');
type Address = import('../lib/types.js').Address;
type CallEvent = import('../lib/events/events.js').CallEvent;

const BUDGET_MS = QUICK ? 60 : 1_000;

/** ns per operation: runs `batch(n)` until the budget is spent, after a warm-up. */
function nsPerOp(batch: (n: number) => unknown, n = 10_000): number {
  let sink: unknown;
  for (let i = 0; i < 20; i++) sink = batch(n);
  let ops = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < BUDGET_MS) {
    sink = batch(n);
    ops += n;
  }
  if (sink === Symbol.for('never')) console.log(sink);
  return ((performance.now() - t0) * 1e6) / ops;
}

async function picks(): Promise<{ lines: string[]; verdicts: string[] }> {
  const { createBalancer, selectAddress } = await dist<Balancers>('balancer/index');
  const { LoadStats } = await dist<Stats>('balancer/load-stats');
  const { systemClock } = await dist<Clock>('internal/clock');
  const { addressKey } = await dist<Events>('events/events');
  const rows: string[][] = [];
  const perHost = new Map<string, number[]>();
  for (const n of [3, 30, 300]) {
    const hosts: Address[] = Array.from({ length: n }, (_, i) =>
      Object.freeze({ host: '10.0.0.' + (i % 250), port: 8000 + i }),
    );
    const stats = new LoadStats(systemClock);
    // Every host sampled, a few in flight: the balancers see real loads.
    let t = systemClock.now();
    hosts.forEach((a, i) => {
      const base = {
        callId: i,
        group: 'g',
        method: 'GET',
        attempt: 1,
        address: a,
        key: addressKey(a),
        breakerKey: addressKey(a),
      };
      stats.update({ type: 'attempt-start', time: t, path: '/', ...base } as CallEvent);
      stats.update({
        type: 'attempt-end',
        time: (t += 1),
        durationMs: 1 + (i % 7),
        status: 200,
        cancelled: false,
        verdict: 'success',
        ...base,
      } as unknown as CallEvent);
      if (i % 3 === 0) stats.update({ type: 'attempt-start', time: t, path: '/', ...base } as CallEvent);
    });
    const tried = new Set<string>();
    for (const name of ['round-robin', 'p2c', 'p2c-ewma'] as const) {
      const balancer = createBalancer(name);
      const ctx = {
        now: systemClock.now(),
        random: Math.random,
        load: (a: Address) => stats.load(a, ctx.now),
        attempt: 1,
      };
      // One open breaker: the client passes the breaker view only while some breaker is not closed
      // (an all-closed count skips it), so this is the path that must stay O(1) too.
      const oneOpen = (a: Address) => (a === hosts[0] ? ('open' as const) : ('closed' as const));
      const bare = nsPerOp((k) => {
        let last;
        for (let i = 0; i < k; i++) last = selectAddress(hosts, balancer, ctx, undefined, tried);
        return last;
      });
      const withBreakers = nsPerOp((k) => {
        let last;
        for (let i = 0; i < k; i++) last = selectAddress(hosts, balancer, ctx, oneOpen, tried);
        return last;
      });
      rows.push([name, String(n), fmt(bare, 0), fmt(withBreakers, 0)]);
      perHost.set(name, [...(perHost.get(name) ?? []), bare, withBreakers]);
    }
  }
  const verdicts: string[] = [];
  for (const name of ['p2c', 'p2c-ewma']) {
    const v = perHost.get(name)!;
    // [3 bare, 3 cb, 30 bare, 30 cb, 300 bare, 300 cb]. 300 against 30 hosts: a scan would cost 10×
    // there, while 3 hosts sit in L1 and make even an O(1) pick look cheaper than it scales.
    const bare = v[4]! / v[2]!;
    const cb = v[5]! / v[3]!;
    verdicts.push(
      verdict(
        bare < 2,
        `pick() O(1) in hosts for ${name} (300 vs 30 hosts < 2×, no breaker callback)`,
        `${fmt(bare)}×`,
      ),
      verdict(
        cb < 2,
        `pick() O(1) in hosts for ${name} with a breaker open (300 vs 30 < 2×)`,
        `${fmt(cb)}×`,
      ),
    );
  }
  return {
    lines: [
      '### Balancer pick() (selectAddress + balancer), ns per pick',
      '',
      table(['balancer', 'hosts', 'all breakers closed (no callback)', 'one breaker open'], rows),
    ],
    verdicts,
  };
}

async function failFast(): Promise<{ lines: string[]; verdicts: string[] }> {
  const rx = await dist<Rxhttp>('index');
  // A port with nothing listening: connects are refused, the breaker opens after 10 failures.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const client = new rx.Client({
    circuitBreaker: { circuitOpenWindow: 600_000, minimumRequestThreshold: 5 },
  });
  const group = new rx.AddressGroup(`static://127.0.0.1:${port}`);
  // The failure rate is recomputed at bucket roll-over (1 s): keep failing until the breaker opens.
  let code = '';
  for (let i = 0; i < 60 && code !== 'FAIL_FAST'; i++) {
    await client.get(group, '/').catch((e: { code: string }) => (code = e.code));
    if (i >= 10 && code !== 'FAIL_FAST') await sleep(50);
  }
  if (code !== 'FAIL_FAST') throw new Error(`breaker did not open (last code ${code})`);
  const N = QUICK ? 10_000 : 100_000;
  const sink = { error: () => undefined };
  // Observable and Promise interleaved round by round after a warm-up, medians of the rounds: one
  // long sample of each swung by ±1 µs with whatever else the machine did meanwhile.
  const ROUNDS = QUICK ? 3 : 7;
  const once = async (f: () => Promise<void> | void) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    const cpu = process.cpuUsage(c0);
    return { cpuUs: (cpu.user + cpu.system) / N, wallUs: ((performance.now() - t0) * 1_000) / N };
  };
  const observable = () => {
    for (let i = 0; i < N; i++) client.get$(group, '/').subscribe(sink);
  };
  const promise = async () => {
    for (let i = 0; i < N; i++) await client.get(group, '/').catch(() => undefined);
  };
  await once(observable);
  await once(promise);
  const runs = { obs: [] as { cpuUs: number; wallUs: number }[], prom: [] as { cpuUs: number; wallUs: number }[] };
  for (let r = 0; r < ROUNDS; r++) {
    runs.obs.push(await once(observable));
    runs.prom.push(await once(promise));
  }
  const med = (xs: { cpuUs: number; wallUs: number }[]) => ({
    cpuUs: median(xs.map((x) => x.cpuUs)),
    wallUs: median(xs.map((x) => x.wallUs)),
  });
  const obs = med(runs.obs);
  const prom = med(runs.prom);
  await client.close();
  group.close();
  return {
    lines: [
      `### Fail fast while the breaker is open (real Client, one-host group), per call, median of ${ROUNDS} rounds`,
      '',
      table(
        ['API', 'CPU µs', 'wall µs'],
        [
          ['Observable (get$ + subscribe)', fmt(obs.cpuUs), fmt(obs.wallUs)],
          ['Promise (await get, catch)', fmt(prom.cpuUs), fmt(prom.wallUs)],
        ],
      ),
    ],
    verdicts: [
      verdict(obs.cpuUs <= 2, 'fail fast ≤ 2 µs CPU per call (Observable)', `${fmt(obs.cpuUs)} µs`),
      verdict(prom.cpuUs <= 2, 'fail fast ≤ 2 µs CPU per call (Promise)', `${fmt(prom.cpuUs)} µs`),
    ],
  };
}

async function fanOut(): Promise<{ lines: string[] }> {
  const { EventBus } = await dist<Bus>('events/bus');
  const { CircuitBreakers } = await dist<Breakers>('breaker/breakers');
  const { resolveBreakerConfig } = await dist<BreakerConfig>('breaker/config');
  const { RetryBudget, resolveRetryBudget } = await dist<Budget>('resilience/retry-budget');
  const { LoadStats } = await dist<Stats>('balancer/load-stats');
  const { attachMetrics } = await dist<Metrics>('observability/metrics');
  const { systemClock } = await dist<Clock>('internal/clock');
  const address: Address = Object.freeze({ host: '127.0.0.1', port: 8080 });
  const key = '127.0.0.1:8080';
  const attempt = (bus: { emit(e: CallEvent): void }, k: number) => {
    for (let i = 0; i < k; i++) {
      const t = systemClock.now();
      const base = { callId: i, group: 'g', method: 'GET' };
      bus.emit({ type: 'call-start', time: t, path: '/', ...base } as CallEvent);
      bus.emit({
        type: 'attempt-start',
        time: t,
        attempt: 1,
        address,
        key,
        breakerKey: key,
        path: '/',
        ...base,
      } as CallEvent);
      bus.emit({
        type: 'attempt-end',
        time: t,
        attempt: 1,
        address,
        key,
        breakerKey: key,
        durationMs: 1,
        status: 200,
        errorCode: undefined,
        timeoutPhase: undefined,
        cancelled: false,
        verdict: 'success',
        ...base,
      } as unknown as CallEvent);
      bus.emit({
        type: 'call-end',
        time: t,
        durationMs: 1,
        attempts: 1,
        status: 200,
        errorCode: undefined,
        outcome: 'ok',
        ...base,
      } as unknown as CallEvent);
    }
  };
  const rows: [string, number][] = [];
  const bare = new EventBus();
  rows.push([
    'no subscriber (emit is a branch; the 4 event objects are still built)',
    nsPerOp((k) => attempt(bare, k)),
  ]);
  const subject = new Subject<CallEvent>();
  subject.subscribe(() => undefined);
  const plain = { emit: (e: CallEvent) => subject.next(e) };
  rows.push(['plain Subject, one no-op subscriber', nsPerOp((k) => attempt(plain, k))]);
  const build = (metrics: boolean) => {
    const bus = new EventBus();
    const breakers = new CircuitBreakers(resolveBreakerConfig(undefined), systemClock, (e) => bus.emit(e));
    breakers.attach(bus.events$);
    new LoadStats(systemClock).attach(bus.events$);
    new RetryBudget(resolveRetryBudget(undefined)!, systemClock).attach(bus.events$);
    if (metrics)
      attachMetrics(bus.events$, new Registry(), {
        breakerSnapshots: () => new Map(),
        groupAddressCounts: () => new Map(),
      });
    return bus;
  };
  const client = build(false);
  rows.push([
    "default client's subscribers (breakers, load stats, retry budget)",
    nsPerOp((k) => attempt(client, k)),
  ]);
  const withMetrics = build(true);
  rows.push(['… plus metrics', nsPerOp((k) => attempt(withMetrics, k))]);
  const base = rows[0]![1];
  return {
    lines: [
      '### Event fan-out per attempt (4 events: call-start, attempt-start, attempt-end, call-end), ns',
      '',
      table(
        ['bus and subscribers', 'ns per attempt', 'fan-out ns (over no subscriber)'],
        rows.map(([n, v]) => [n, fmt(v, 0), fmt(v - base, 0)]),
      ),
    ],
  };
}

async function main(): Promise<void> {
  watchdog(QUICK ? 30 : 120, 'micro');
  const out: string[] = ['## Micro-benchmarks', ''];
  const verdicts: string[] = [];
  for (const part of [picks, failFast, fanOut]) {
    const r = await part();
    out.push(...r.lines, '');
    if ('verdicts' in r) verdicts.push(...(r.verdicts as string[]));
  }
  out.push('### Targets (micro)', '', ...verdicts, '');
  console.log(out.join('\n'));
}

await main();
