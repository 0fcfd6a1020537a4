/**
 * What a call's timeline costs on its own: keeping a one-attempt call's four events in its CallLog
 * (every call pays this), and folding them into a CallTimeline (only a call whose timeline is read).
 * The full chain with and without timelines read is in `bench/chain.ts`.
 *
 *   npx tsx bench/timeline.ts
 */
import { dist } from './util.js';

type TimelineModule = typeof import('../lib/client/timeline.js');
type CallEvent = import('../lib/events/events.js').CallEvent;

const N = 2_000_000;
const ROUNDS = 5;

const { CallLog } = await dist<TimelineModule>('client/timeline');
const address = { host: '127.0.0.1', port: 1 };
const call = { callId: 1, group: 'g', method: 'GET' };
const events: CallEvent[] = [
  { type: 'call-start', time: 0, path: '/', ...call },
  {
    type: 'attempt-start',
    time: 0,
    attempt: 1,
    address,
    key: '127.0.0.1:1',
    breakerKey: 'k',
    path: '/',
    ...call,
  },
  {
    type: 'attempt-end',
    time: 1,
    attempt: 1,
    address,
    key: '127.0.0.1:1',
    breakerKey: 'k',
    durationMs: 1,
    status: 200,
    cancelled: false,
    verdict: 'success',
    ...call,
  },
  { type: 'call-end', time: 1, durationMs: 1, attempts: 1, status: 200, outcome: 'ok', ...call },
];

let sink = 0;
const record: number[] = [];
const fold: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    const log = new CallLog(10_000);
    for (const e of events) log.record(e);
    sink += log.timeoutMs;
  }
  const kept = ((performance.now() - t) * 1e6) / N;
  t = performance.now();
  for (let i = 0; i < N / 10; i++) {
    const log = new CallLog(10_000);
    for (const e of events) log.record(e);
    sink += log.timeline.entries.length;
  }
  record.push(kept);
  fold.push(((performance.now() - t) * 1e6) / (N / 10) - kept);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `node ${process.version}; one-attempt call, ${N.toLocaleString('en-US')} calls × ${ROUNDS} rounds, medians`,
);
console.log(`keep its 4 events in a new CallLog (every call): ${median(record).toFixed(0)} ns`);
console.log(`fold them into its timeline (read only):         ${median(fold).toFixed(0)} ns`);
if (sink === 0) console.log('(nothing)');
