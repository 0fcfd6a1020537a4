/**
 * The demo's scripted load: an open loop that starts calls at a fixed rate for a fixed time (so a
 * slow host cannot slow the arrivals down and hide its latency), bounded in count, time and calls
 * in flight; and what it measured.
 */
import type { AddressGroup, CallOptions, Client } from '../lib/index.js';

/** How much load, for how long. */
export interface LoadPlan {
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** Arrivals beyond this many calls in flight are skipped (counted as `shed`). */
  readonly maxInFlight: number;
  /** Checked every tick: true ends the run early (Ctrl-C in `--keep` mode). */
  readonly stop?: () => boolean;
}

/** What one run measured. */
export interface RunResult {
  readonly label: string;
  readonly calls: number;
  /** Calls that got a 2xx response. */
  readonly ok: number;
  /** Call latencies in ms, sorted, retries and back-off included. */
  readonly latencies: readonly number[];
  /** Attempts per backend `host:port`. */
  readonly attemptsByHost: ReadonlyMap<string, number>;
  readonly retries: number;
  readonly failFasts: number;
  readonly shed: number;
  readonly seconds: number;
}

/** Progress of a run, for the progress bar. */
export interface Progress {
  readonly fraction: number;
  readonly calls: number;
  readonly ok: number;
  readonly inFlight: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const TICK_MS = 5;

/** Runs `plan` against `group` through `client`; `onTick` sees the run's progress about every 5 ms. */
export async function runLoad(
  label: string,
  client: Client,
  group: AddressGroup,
  options: CallOptions,
  plan: LoadPlan,
  onTick: (p: Progress) => void,
): Promise<RunResult> {
  const attemptsByHost = new Map<string, number>();
  let retries = 0;
  let failFasts = 0;
  const sub = client.events$.subscribe((e) => {
    if (e.type === 'attempt-start') attemptsByHost.set(e.key, (attemptsByHost.get(e.key) ?? 0) + 1);
    else if (e.type === 'retry-scheduled') retries++;
    else if (e.type === 'fail-fast') failFasts++;
  });
  const total = Math.round((plan.ratePerSecond * plan.durationMs) / 1000);
  const latencies: number[] = [];
  let launched = 0;
  let ok = 0;
  let shed = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const one = async () => {
    const t0 = performance.now();
    try {
      const res = await client.get(group, '/hello', options);
      if (res.status >= 200 && res.status < 300) ok++;
    } catch {
      // counted as a failed call: not ok
    }
    latencies.push(performance.now() - t0);
  };
  const start = performance.now();
  // Bounded twice: by the number of arrivals and by time (the plan plus a grace second).
  while (
    launched + shed < total &&
    performance.now() - start < plan.durationMs + 1_000 &&
    !(plan.stop?.() ?? false)
  ) {
    const elapsed = performance.now() - start;
    const due = Math.min(total, Math.floor((elapsed * plan.ratePerSecond) / 1000) + 1);
    while (launched + shed < due) {
      if (inFlight >= plan.maxInFlight) {
        shed++;
        continue;
      }
      launched++;
      inFlight++;
      const p = one().finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    onTick({ fraction: Math.min(1, elapsed / plan.durationMs), calls: latencies.length, ok, inFlight });
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  onTick({ fraction: 1, calls: latencies.length, ok, inFlight: 0 });
  sub.unsubscribe();
  return {
    label,
    calls: launched,
    ok,
    latencies: latencies.sort((a, b) => a - b),
    attemptsByHost,
    retries,
    failFasts,
    shed,
    seconds,
  };
}
