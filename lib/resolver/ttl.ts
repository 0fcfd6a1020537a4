import {
  defer,
  expand,
  map,
  switchMap,
  take,
  throwIfEmpty,
  timeout,
  timer,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';
import { XhttpError } from '../errors.js';
import type { Address } from '../types.js';

/** What one lookup found: the addresses and the shortest TTL among the answers (ms), if known. */
export interface LookupResult {
  readonly addresses: readonly Address[];
  /** Shortest TTL of the records behind `addresses`, ms; `undefined` when the answer carries none. */
  readonly ttlMs?: number | undefined;
}

/**
 * One resolution: a Promise (real DNS) or any other ObservableInput whose first value is used.
 * A synchronous `of(…)` lets specs drive {@link ttlRefresh} in virtual time without DNS.
 */
export type Lookup = () => ObservableInput<LookupResult>;

/** Options of {@link ttlRefresh}. */
export interface TtlRefreshOptions {
  /** Lower clamp on the refresh period, ms. */
  readonly minTtl: number;
  /** Upper clamp on the refresh period, ms. */
  readonly maxTtl: number;
  /** Where the refresh and timeout timers run (virtual in specs). */
  readonly scheduler: SchedulerLike;
  /** Period used when a lookup reports no TTL, before clamping. @defaultValue {@link DEFAULT_NO_TTL_PERIOD} */
  readonly noTtlPeriod?: number;
  /** A lookup not settled within this many ms fails with `TIMEOUT`. @defaultValue {@link DEFAULT_LOOKUP_TIMEOUT} */
  readonly lookupTimeout?: number;
}

/** Lower clamp on the DNS refresh period, ms: what a group uses unless `minTtl` is given. */
export const DEFAULT_MIN_TTL = 1_000;

/** Upper clamp on the DNS refresh period, ms: what a group uses unless `maxTtl` is given. */
export const DEFAULT_MAX_TTL = 300_000;

/**
 * Refresh period for records whose TTL Node's API does not report (TXT, SRV): 30 s, then clamped
 * to `[minTtl, maxTtl]` like any TTL — so `maxTtl` below 30 s makes such lists refresh faster.
 */
export const DEFAULT_NO_TTL_PERIOD = 30_000;

/**
 * Bound on one lookup (every query of one resolution), ms. c-ares retries on its own within it;
 * this bound is what guarantees a hung server turns into an error the group can back off from.
 */
export const DEFAULT_LOOKUP_TIMEOUT = 5_000;

/**
 * Floor on the refresh period, ms, whatever `minTtl` says: a TTL of 0 with `minTtl: 0` would
 * otherwise re-query the DNS server in a tight loop.
 */
export const MIN_REFRESH_PERIOD = 50;

/**
 * The refresh period for a TTL: `ttlMs` (or the no-TTL period) clamped to `[minTtl, maxTtl]`.
 * A negative or non-finite TTL counts as `minTtl`, and nothing goes below {@link MIN_REFRESH_PERIOD},
 * so neither a broken answer nor a zero clamp can cause a busy loop.
 *
 * @example refreshPeriod(100, { minTtl: 1_000, maxTtl: 300_000, scheduler }) // 1_000
 */
export function refreshPeriod(ttlMs: number | undefined, options: TtlRefreshOptions): number {
  const raw = ttlMs ?? options.noTtlPeriod ?? DEFAULT_NO_TTL_PERIOD;
  const safe = Number.isFinite(raw) && raw >= 0 ? raw : options.minTtl;
  return Math.max(MIN_REFRESH_PERIOD, Math.min(options.maxTtl, Math.max(options.minTtl, safe)));
}

/**
 * The TTL refresh loop: runs `lookup`, emits its addresses, waits the clamped TTL on
 * `options.scheduler` and runs it again, for as long as it is subscribed. A failed or timed-out
 * lookup errors the stream (the group's `watchAddresses` keeps the last good list and
 * re-subscribes with back-off). Unsubscribing cancels the wait and drops a lookup in flight.
 *
 * @example
 * ```ts
 * ttlRefresh(() => resolver.resolve4(host, { ttl: true }).then(toResult), { minTtl, maxTtl, scheduler })
 * ```
 */
export function ttlRefresh(lookup: Lookup, options: TtlRefreshOptions): Observable<readonly Address[]> {
  const limit = options.lookupTimeout ?? DEFAULT_LOOKUP_TIMEOUT;
  const once = (): Observable<LookupResult> =>
    defer(lookup).pipe(
      // One value per lookup: a multi-valued input must not fork the loop inside `expand`.
      take(1),
      // An input that completes without an answer would otherwise end the loop silently.
      throwIfEmpty(() => new XhttpError('NO_ADDRESS', 'DNS lookup completed without an answer')),
      timeout({
        first: limit,
        scheduler: options.scheduler,
        with: () => {
          throw new XhttpError('TIMEOUT', `DNS lookup did not answer within ${limit} ms`);
        },
      }),
    );
  return once().pipe(
    expand((result) => timer(refreshPeriod(result.ttlMs, options), options.scheduler).pipe(switchMap(once))),
    map((result) => result.addresses),
  );
}
