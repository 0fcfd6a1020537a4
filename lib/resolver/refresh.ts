import { defer, distinctUntilChanged, filter, retry, timer, type Observable, type SchedulerLike } from 'rxjs';
import { XhttpError } from '../errors.js';
import { sameAddressSet } from '../group/address.js';
import type { Address } from '../types.js';

/** First delay after a resolver failure, ms (before jitter). */
export const DEFAULT_RESOLVE_RETRY_INITIAL = 1_000;
/** Cap on the delay between resolver retries, ms. */
export const DEFAULT_RESOLVE_RETRY_MAX = 30_000;

/** Options of {@link watchAddresses}. */
export interface WatchOptions {
  /**
   * Where back-off timers run (virtual in specs). Groups pass `backgroundScheduler`, whose timers are
   * unref'd: a resolver retrying in the background never holds an idle process open.
   */
  readonly scheduler: SchedulerLike;
  /** Uniform random in [0, 1) for jitter; seed it in specs. */
  readonly random: () => number;
  /** Called for each failure (an error, or an empty answer); the last good list stays. */
  readonly onError: (error: unknown) => void;
  /** @defaultValue {@link DEFAULT_RESOLVE_RETRY_INITIAL} */
  readonly retryInitial?: number;
  /** @defaultValue {@link DEFAULT_RESOLVE_RETRY_MAX} */
  readonly retryMax?: number;
}

/**
 * Delay before re-subscribing after the `failures`-th consecutive failure (1-based): exponential
 * from `initial`, capped at `max`, with "equal" jitter — a uniform pick in `[cap / 2, cap]` — so
 * groups that failed together (one DNS server for many) do not retry in lockstep, yet never retry
 * sooner than half the schedule.
 *
 * @example resolveRetryDelay(3, () => 0.5, 1_000, 30_000) // 3_000 (cap 4_000)
 */
export function resolveRetryDelay(
  failures: number,
  random: () => number,
  initial: number,
  max: number,
): number {
  // The exponent is bounded so 2 ** n never overflows to Infinity, however long the outage.
  const cap = Math.min(max, initial * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  const r = random();
  const unit = r >= 0 && r < 1 ? r : 0.5; // a broken random source must not yield NaN or a negative wait
  return cap / 2 + (unit * cap) / 2;
}

/**
 * Keeps a resolver's stream alive for a group: an empty answer counts as a failure and is dropped,
 * an error re-subscribes after {@link resolveRetryDelay} (reset by the next good answer), and an
 * unchanged list (in any order) is not emitted again. Subscribers therefore only ever see the last
 * known good list change; between failures they keep what they have.
 *
 * @example
 * ```ts
 * watchAddresses(() => resolver.resolve(url, options), { scheduler, random, onError: report })
 *   .subscribe((list) => subject.next(list));
 * ```
 */
export function watchAddresses(
  source: () => Observable<readonly Address[]>,
  options: WatchOptions,
): Observable<readonly Address[]> {
  const initial = options.retryInitial ?? DEFAULT_RESOLVE_RETRY_INITIAL;
  const max = options.retryMax ?? DEFAULT_RESOLVE_RETRY_MAX;
  return defer(source).pipe(
    filter((list) => {
      if (list.length > 0) return true;
      options.onError(new XhttpError('NO_ADDRESS', 'resolver returned no address'));
      return false;
    }),
    retry({
      resetOnSuccess: true,
      delay: (error: unknown, failures: number) => {
        options.onError(error);
        return timer(resolveRetryDelay(failures, options.random, initial, max), options.scheduler);
      },
    }),
    distinctUntilChanged(sameAddressSet),
  );
}
