/**
 * Issue 21's hedging end to end: five loopback backends (bench/server.ts, a child process) that
 * answer in 2 ms, except 5 % of requests (drawn per request) answered in 100 ms; an open loop of
 * calls through the real client, with and without hedging, in interleaved rounds.
 *
 *   npx tsx bench/hedge.ts [--quick] [--rate N] [--seconds S] [--rounds R]
 *
 * Contenders (each its own Client, so each keeps its own latency window and budgets, warmed by one
 * round first): no hedging; `hedge: { delay: { percentile: 0.95 }, maxAttempts: 3, maxExtraLoad:
 * 0.06 }`. Latency is the call's, as the caller sees it; extra requests are the backends' hits per
 * call minus one. The machine's pauses inflate both rows' tails alike: read the rows side by side.
 */
import { Client, AddressGroup, type CallOptions } from '../lib/index.js';
import { arg, fmt, percentile, QUICK, startServer, table, watchdog } from './util.js';

const RATE = Number(arg('rate') ?? 500);
const SECONDS = Number(arg('seconds') ?? (QUICK ? 3 : 8));
const ROUNDS = Number(arg('rounds') ?? (QUICK ? 1 : 3));
if (!(RATE >= 1 && RATE <= 5_000) || !(SECONDS > 0 && SECONDS <= 60) || !(ROUNDS >= 1 && ROUNDS <= 10))
  throw new Error('--rate 1..5000, --seconds 1..60, --rounds 1..10');

const CONTENDERS: readonly { name: string; options: CallOptions }[] = [
  { name: 'no hedging', options: {} },
  {
    name: 'hedge p95, maxAttempts 3, maxExtraLoad 0.06',
    options: { hedge: { delay: { percentile: 0.95 }, maxAttempts: 3, maxExtraLoad: 0.06 } },
  },
];

/** One open-loop round: `RATE` calls per second for `SECONDS`; resolves with each call's latency, ms. */
async function round(client: Client, group: AddressGroup, options: CallOptions): Promise<Float64Array> {
  const total = Math.round(RATE * SECONDS);
  const latencies = new Float64Array(total);
  let issued = 0;
  let done = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const issue = (): void => {
      const i = issued++;
      const t0 = performance.now();
      client
        .get(group, '/', options)
        .then(
          (r) => r.body.text(),
          () => undefined,
        )
        .finally(() => {
          latencies[i] = performance.now() - t0;
          if (++done === total) resolve();
        });
    };
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * RATE) / 1000));
      while (issued < due) issue();
      if (issued === total) clearInterval(tick);
    }, 1);
  });
  return latencies;
}

watchdog(60 + (ROUNDS + 1) * SECONDS * CONTENDERS.length * 3, 'hedge');
const server = await startServer(
  Array.from({ length: 5 }, () => ({ delayMs: 2, slowShare: 0.05, slowMs: 100 })),
);
const target = 'static://' + server.ports.map((p) => `127.0.0.1:${p}`).join(',');
/** Per contender: the delays its hedges waited and its refusals, by reason (printed with HEDGE_DEBUG=1). */
const clients = CONTENDERS.map(() => {
  const client = new Client({ connections: 64 });
  const delays: number[] = [];
  const refusals = new Map<string, number>();
  client.events$.subscribe((e) => {
    if (e.type === 'attempt-start' && e.hedge === true) delays.push(e.hedgeDelayMs ?? 0);
    if (e.type === 'hedge-refused') refusals.set(e.reason, (refusals.get(e.reason) ?? 0) + 1);
  });
  return { client, group: new AddressGroup(target), delays, refusals };
});
const all = CONTENDERS.map(() => [] as number[]);
const extra = CONTENDERS.map(() => [] as number[]);
try {
  for (const [i, c] of clients.entries()) await round(c.client, c.group, CONTENDERS[i]!.options);
  await server.hits();
  for (const c of clients) {
    c.delays.length = 0;
    c.refusals.clear();
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, c] of clients.entries()) {
      process.stderr.write(`hedge round ${r + 1}/${ROUNDS} ${CONTENDERS[i]!.name}\r`);
      const lat = await round(c.client, c.group, CONTENDERS[i]!.options);
      all[i]!.push(...lat);
      const hits = (await server.hits()).reduce((a, b) => a + b, 0);
      const d = c.delays.splice(0).sort((a, b) => a - b);
      if (process.env.HEDGE_DEBUG)
        console.error(
          `\n${CONTENDERS[i]!.name}: ${d.length} hedges, delay p50 ${d[d.length >> 1]} ms, p99 ${fmt(percentile(lat, 99))} ms, refused ${JSON.stringify([...c.refusals])}`,
        );
      c.refusals.clear();
      extra[i]!.push(hits / lat.length - 1);
    }
  }
} finally {
  for (const c of clients) {
    await c.client.close();
    c.group.close();
  }
  await server.stop();
}
process.stderr.write('\n');
const rows = CONTENDERS.map((c, i) => {
  const xs = all[i]!;
  return [
    c.name,
    String(xs.length),
    fmt(percentile(xs, 50)),
    fmt(percentile(xs, 99)),
    fmt(percentile(xs, 99.9)),
    `${fmt((extra[i]!.reduce((a, b) => a + b, 0) / extra[i]!.length) * 100)} %`,
  ];
});
const p = (i: number, q: number) => percentile(all[i]!, q);
console.log(
  `## Hedging end to end: 5 loopback hosts, 2 ms with 5 % at 100 ms, ${RATE} calls/s, ${ROUNDS} × ${SECONDS} s per contender\n`,
);
console.log(table(['contender', 'calls', 'p50 ms', 'p99 ms', 'p99.9 ms', 'extra requests'], rows));
console.log(
  `\np99 cut ${fmt(p(0, 99) / p(1, 99))}×, p99.9 cut ${fmt(p(0, 99.9) / p(1, 99.9))}× (no hedging ÷ hedged)`,
);
