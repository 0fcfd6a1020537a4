import { defer, distinctUntilChanged, filter, retry, timer, type Observable, type SchedulerLike } from 'rxjs';
import { XhttpError } from '../errors.js';
import { sameAddressSet } from '../group/address.js';
import type { Address } from '../types.js';

/** First delay after a resolver failure, ms. */
export const DEFAULT_RESOLVE_RETRY_INITIAL = 1_000;
/** Cap on the delay between resolver retries, ms. */
export const DEFAULT_RESOLVE_RETRY_MAX = 30_000;

export interface WatchOptions {
  readonly scheduler: SchedulerLike;
  readonly random: () => number;
  /** Called for each failure (an error, or an empty answer); the last good list stays. */
  readonly onError: (error: unknown) => void;
  readonly retryInitial?: number;
  readonly retryMax?: number;
}

/**
 * Keeps a resolver's stream alive: an empty answer counts as a failure and is dropped, an error
 * re-subscribes after a jittered exponential back-off, and an unchanged list (in any order) is not
 * emitted again. Subscribers therefore only ever see the last known good list change.
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
      delay: (error: unknown, retryCount: number) => {
        options.onError(error);
        const cap = Math.min(max, initial * 2 ** Math.min(retryCount - 1, 30));
        return timer(cap / 2 + (options.random() * cap) / 2, options.scheduler);
      },
    }),
    distinctUntilChanged(sameAddressSet),
  );
}
