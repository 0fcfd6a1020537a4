/**
 * Events per second through the circuit breaker's sliding window and reducer (issue 6).
 *
 *   npx tsx bench/breaker-window.ts
 *
 * Time is virtual (each event advances a counter), so the figures are pure CPU cost; every scenario
 * runs for a fixed wall-clock budget, about 7 s in all. Target: ≥ 5 million events/s through window
 * + reducer.
 */
import { Subject } from 'rxjs';
import { CircuitBreakers } from '../lib/breaker/breakers.js';
import { resolveBreakerConfig } from '../lib/breaker/config.js';
import { closedBreaker, reduceBreaker, type BreakerState } from '../lib/breaker/reducer.js';
import { emptyWindow, recordEvent } from '../lib/breaker/window.js';
import type { AttemptEndEvent, CallEvent } from '../lib/events/events.js';

const config = resolveBreakerConfig(undefined);
const BUDGET_MS = 1_200;
const BATCH = 100_000;

/** Runs `batch(n)` (which processes n events and returns a value to keep) until the budget is spent. */
function measure(name: string, batch: (n: number) => unknown): number {
  let sink: unknown;
  for (let i = 0; i < 5; i++) sink = batch(BATCH); // warm up the JIT
  let events = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < BUDGET_MS) {
    sink = batch(BATCH);
    events += BATCH;
    elapsed = performance.now() - t0;
  }
  const rate = (events / elapsed) * 1_000;
  console.log(
    `${name.padEnd(58)} ${(rate / 1e6).toFixed(1).padStart(6)} M events/s  (${(1e9 / rate).toFixed(1)} ns/event)${sink === null ? '' : ''}`,
  );
  return rate;
}

// A cheap deterministic failure pattern (about 1 in 8 fails): the breaker stays closed.
const failsSometimes = (i: number) => Math.imul(i, 0x9e3779b1) >>> 29 === 0;

function windowOnly(stepMs: number) {
  let w = emptyWindow(0);
  let t = 0;
  let i = 0;
  return (n: number) => {
    for (let k = 0; k < n; k++, i++) w = recordEvent(w, failsSometimes(i), (t += stepMs), config);
    return w;
  };
}

function reducerClosed(stepMs: number) {
  let s: BreakerState = closedBreaker(0);
  let t = 0;
  let i = 0;
  return (n: number) => {
    for (let k = 0; k < n; k++, i++) {
      t += stepMs;
      // Half the events are admissions, half results, as in a real call.
      if ((i & 1) === 0) s = reduceBreaker(s, 'request', t, config).state;
      else s = reduceBreaker(s, failsSometimes(i) ? 'failure' : 'success', t, config).state;
    }
    return s;
  };
}

/** The host fails everything for 30 s, then nothing for 30 s: open, half-open trials, closed, again. */
function reducerFlapping(stepMs: number) {
  let s: BreakerState = closedBreaker(0);
  let t = 0;
  let i = 0;
  let transitions = 0;
  return (n: number) => {
    for (let k = 0; k < n; k++, i++) {
      t += stepMs;
      const before = s.name;
      if ((i & 1) === 0) s = reduceBreaker(s, 'request', t, config).state;
      else s = reduceBreaker(s, Math.floor(t / 30_000) % 2 === 0 ? 'failure' : 'success', t, config).state;
      if (s.name !== before) transitions++;
    }
    return transitions;
  };
}

/** The whole registry: attempt-end events through a Subject, plus one tryAcquire per event. */
function registry(stepMs: number, hosts: number) {
  let t = 0;
  const breakers = new CircuitBreakers(
    config,
    { now: () => t, setTimer: () => () => undefined },
    () => undefined,
  );
  const bus = new Subject<CallEvent>();
  breakers.attach(bus);
  const events = Array.from({ length: hosts * 8 }, (_, j): AttemptEndEvent => {
    const host = `10.0.0.${j % hosts}`;
    return {
      type: 'attempt-end',
      time: 0,
      callId: j,
      group: 'g',
      method: 'GET',
      attempt: 1,
      address: { host, port: 80 },
      key: `${host}:80`,
      breakerKey: `${host}:80`,
      durationMs: 1,
      cancelled: false,
      verdict: failsSometimes(j) ? 'failure' : 'success',
    };
  });
  let i = 0;
  let admitted = 0;
  return (n: number) => {
    for (let k = 0; k < n; k++, i++) {
      t += stepMs;
      const e = events[i % events.length]!;
      if (breakers.tryAcquire(e.breakerKey)) admitted++;
      bus.next(e);
    }
    return admitted;
  };
}

const t0 = performance.now();
console.log(`node ${process.version}, ${process.arch}; breaker defaults (1 s buckets, 20 s window)`);
const results = [
  measure('window: 1 event per ms (1000 per bucket)', windowOnly(1)),
  measure('window: 1 event per 10 ms (roll-over every 100 events)', windowOnly(10)),
  measure('window + reducer, closed: request + result per event pair', reducerClosed(1)),
  measure('window + reducer, flapping host (open/half-open/closed)', reducerFlapping(1)),
  measure('registry: tryAcquire + attempt-end via Subject, 16 hosts', registry(1, 16)),
];
const check = reducerFlapping(1);
console.log(
  `(flapping check: ${String(check(1_000_000))} transitions in 1e6 events = 1000 s of virtual time)`,
);
const coreMin = Math.min(...results.slice(0, 4));
console.log(
  `window + reducer, slowest scenario: ${(coreMin / 1e6).toFixed(1)} M events/s (target ≥ 5): ${coreMin >= 5e6 ? 'PASS' : 'FAIL'}`,
);
console.log(`total ${((performance.now() - t0) / 1_000).toFixed(1)} s`);
