/**
 * The call chain's own cost, without the network: undici's `Pool#dispatch` is replaced, in this
 * process only, by one that answers every request on the next turn of the event loop (setImmediate)
 * with `200 ok`. What is left per call is rxhttp's work — validation, the Call, pick, breaker gate,
 * timers, events and their scans, the response — plus the fake's own turn, measured alone as the
 * baseline.
 *
 *   npx tsx bench/chain.ts [--quick]
 *
 * c = 64, the full chain armed as in throughput.ts (default client: breakers, retry budget, p2c-ewma;
 * a retry option and a deadline per call), contenders interleaved round by round, medians reported.
 * Also: the same call with its timeline read (folded from the call's events), and with
 * `deadlineHeader: false` (no time-left header per attempt).
 */
import { firstValueFrom, mergeMap } from 'rxjs';
import { Pool, type Dispatcher } from 'undici';
import { RX_CALL } from './contenders.js';
import { dist, fmt, median, QUICK, table, watchdog } from './util.js';

type Rxhttp = typeof import('../lib/index.js');

const CALLS = QUICK ? 30_000 : 200_000;
const ROUNDS = QUICK ? 3 : 5;
const CONCURRENCY = 64;

const HEADERS = [Buffer.from('content-length'), Buffer.from('2')];
const BODY = Buffer.from('ok');

/** Answers on the next turn, as a keep-alive connection with the response already buffered would. */
function fakeDispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
  handler.onConnect!(() => undefined);
  setImmediate(() => {
    handler.onHeaders!(200, HEADERS, () => undefined, 'OK');
    handler.onData!(BODY);
    handler.onComplete!([]);
  });
  return true;
}

async function cpuPerCall(call: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) await call();
    }),
  );
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / CALLS;
}

async function main(): Promise<void> {
  watchdog(QUICK ? 60 : 180, 'chain');
  Pool.prototype.dispatch = fakeDispatch as Pool['dispatch'];
  const rx = await dist<Rxhttp>('index');
  const pool = new Pool('http://127.0.0.1:1');
  const client = new rx.Client();
  // The same chain without the deadline header: what sending the time left costs per call.
  const noDeadline = new rx.Client({ deadlineHeader: false });
  const group = new rx.AddressGroup('static://127.0.0.1:1');
  client.register('bench', group);
  const contenders: [string, () => Promise<unknown>][] = [
    [
      'fake dispatch alone (baseline)',
      () =>
        new Promise((resolve, reject) => {
          const chunks: Buffer[] = [];
          pool.dispatch({ path: '/', method: 'GET' }, {
            onConnect() {},
            onHeaders: () => true,
            onData(c: Buffer) {
              chunks.push(c);
              return true;
            },
            onComplete: () => resolve(Buffer.concat(chunks).toString()),
            onError: reject,
          } as Dispatcher.DispatchHandler);
        }),
    ],
    ['rxhttp Promise (client.get)', async () => (await client.get(group, '/', RX_CALL)).body.text()],
    [
      'rxhttp Promise, timeline read',
      async () => {
        const res = await client.get(group, '/', RX_CALL);
        if (res.timeline.entries.length === 0) throw new Error('an empty timeline');
        return res.body.text();
      },
    ],
    [
      'rxhttp Promise, deadlineHeader: false',
      async () => (await noDeadline.get(group, '/', RX_CALL)).body.text(),
    ],
    ['rxhttp client.fetch', async () => (await client.fetch('http://bench/', RX_CALL)).text()],
    [
      'rxhttp Observable (client.get$)',
      () => firstValueFrom(client.get$(group, '/', RX_CALL).pipe(mergeMap((r) => r.body.text()))),
    ],
  ];
  const samples = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
  for (const [, call] of contenders) await cpuPerCall(call); // warm-up
  for (let r = 0; r < ROUNDS; r++)
    for (const [n, call] of contenders) samples.get(n)!.push(await cpuPerCall(call));
  await client.close();
  await noDeadline.close();
  group.close();
  const base = median(samples.get(contenders[0]![0])!);
  console.log(
    [
      '## Call chain without the network (fake dispatcher, c = 64)',
      '',
      `${CALLS.toLocaleString('en-US')} calls per round, median of ${ROUNDS} rounds; CPU (user + system) per call.`,
      '',
      table(
        ['contender', 'CPU µs per call', 'over the baseline, µs'],
        contenders.map(([n]) => {
          const m = median(samples.get(n)!);
          return [n, fmt(m), fmt(m - base)];
        }),
      ),
      '',
    ].join('\n'),
  );
}

await main();
