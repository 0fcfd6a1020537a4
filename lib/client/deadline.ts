import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoadStats } from '../balancer/load-stats.js';
import { addressKey } from '../events/events.js';
import { systemClock } from '../internal/clock.js';
import type { Address } from '../types.js';

/** The deadline of the request being handled, on the system clock (epoch ms). */
interface Ambient {
  readonly deadlineAt: number;
}

// Until the first withDeadline, getStore() is a field read: calls outside a server pay nothing.
const storage = new AsyncLocalStorage<Ambient>();

/**
 * Runs `fn` with a deadline `ms` from now: every rxhttp call made inside it — synchronously or in
 * anything it awaits — gets at most the time then left as its `timeout`, and sends that on (the
 * `deadlineHeader`), so a chain of services shares one deadline. Nested, the earlier deadline wins.
 * `rxhttp/nest`'s `RxHttpDeadlineInterceptor` does this for each incoming request.
 *
 * @example
 * ```ts
 * http.createServer((req, res) => {
 *   const ms = parseDeadlineHeader(req.headers['x-rxhttp-deadline-ms']);
 *   const handle = () => client.get(users, '/users/42').then((r) => res.end(String(r.status)));
 *   void (ms === undefined ? handle() : withDeadline(ms, handle));
 * });
 * ```
 */
export function withDeadline<T>(ms: number, fn: () => T): T {
  let deadlineAt = systemClock.now() + (ms > 0 ? ms : 0);
  const outer = storage.getStore();
  if (outer !== undefined && outer.deadlineAt < deadlineAt) deadlineAt = outer.deadlineAt;
  return storage.run({ deadlineAt }, fn);
}

/** Milliseconds left of the deadline `fn` runs under ({@link withDeadline}); undefined outside one. */
export function remainingDeadline(): number | undefined {
  const ambient = storage.getStore();
  return ambient === undefined ? undefined : ambient.deadlineAt - systemClock.now();
}

/** A call's timeout, capped by the deadline it is made under (0 when that has passed). */
export function capByDeadline(timeout: number): number {
  const ambient = storage.getStore();
  if (ambient === undefined) return timeout;
  // Whole ms, never more than is left: under 1 ms left is none (the call fails at once).
  const left = Math.floor(ambient.deadlineAt - systemClock.now());
  return left >= timeout ? timeout : left > 0 ? left : 0;
}

/**
 * The recent latency (the balancer's EWMA of attempt times, failures and timeouts included) of the
 * fastest host a retry could go to: those not yet tried when there are any, else all. 0 when one of
 * them has no sample yet: an unmeasured host may be fast, so nothing is refused on its account.
 */
export function fastestCandidateMs(
  candidates: readonly Address[],
  tried: (key: string) => boolean,
  loadStats: LoadStats,
  now: number,
): number {
  let untried = false;
  for (const a of candidates) {
    if (!tried(addressKey(a))) {
      untried = true;
      break;
    }
  }
  let best = Infinity;
  for (const a of candidates) {
    if (untried && tried(addressKey(a))) continue;
    const load = loadStats.load(a, now);
    if (!load.sampled) return 0;
    const ms = load.typical ?? 0;
    if (ms < best) best = ms;
  }
  return best === Infinity ? 0 : best;
}
