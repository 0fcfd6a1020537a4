import { Observable } from 'rxjs';
import type { Dispatcher } from 'undici';
import type { Address } from '../types.js';

/** Header the probes carry, so a server can tell them from calls (and leave them out of its logs). */
export const PROBE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'user-agent': 'rxhttp-health-check',
});

/**
 * One health-check probe through a client's pool for the host: `GET path`, emitting the status (the
 * body is discarded, freeing the connection) or an error carrying undici's or Node's `code`.
 * Unsubscribing aborts it. Probes are not calls: no events of their own here, no breaker, no retry —
 * the group's runner times them out and reports them.
 *
 * @example
 * ```ts
 * group.attachProber((address, path) => probe$(pool, address, path));
 * ```
 */
export function probe$(dispatcher: () => Dispatcher, _address: Address, path: string): Observable<number> {
  return new Observable<number>((subscriber) => {
    // An AbortController per probe is fine here: a probe runs every few seconds, not per call.
    const abort = new AbortController();
    let done = false;
    let pool: Dispatcher;
    try {
      pool = dispatcher();
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    pool.request({ method: 'GET', path, headers: PROBE_HEADERS, signal: abort.signal }).then(
      (res) => {
        done = true;
        const status = res.statusCode;
        res.body.dump().catch(() => undefined);
        subscriber.next(status);
        subscriber.complete();
      },
      (error: unknown) => {
        done = true;
        subscriber.error(error);
      },
    );
    return () => {
      if (!done) abort.abort();
    };
  });
}
